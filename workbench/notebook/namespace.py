"""The notebook's variables: the namespace of the IPython shell this kernel runs, if any."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["user_namespace"]


def user_namespace() -> Mapping[str, Any]:
    """The running IPython shell's user namespace (empty outside IPython)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    ns = getattr(shell, "user_ns", None)
    return ns if isinstance(ns, Mapping) else {}

"""Import optional heavy dependencies on first use, with an install hint when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from workbench.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, *, feature: str, extra: str, package: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(package or module, feature, extra) from None

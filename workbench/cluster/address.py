"""Which Dask scheduler to use: the ``--cluster`` flag, else ``[tool.workbench] cluster``,
else the ``DASK_SCHEDULER_ADDRESS`` environment variable (Dask's own), else none (this
machine alone).

An address is ``tcp://HOST:PORT`` (``tls://``, ``ws://``, ``wss://``, ``inproc://``, or a
bare ``HOST:PORT``, which means tcp), or ``local`` / ``local:N``: a local cluster of N
worker processes (default: one per CPU this process may use) started for the command
and stopped after it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from workbench.errors import InvalidInputError

__all__ = ["ENV_VARIABLE", "SCHEMES", "check_address", "cluster_address", "local_workers"]

ENV_VARIABLE = "DASK_SCHEDULER_ADDRESS"
SCHEMES = ("tcp", "tls", "ws", "wss", "inproc")
_HOST_PORT = re.compile(r"^\[?[A-Za-z0-9_.:-]+\]?:(\d{1,5})$")


def local_workers(address: str) -> int | None:
    """N for ``local:N`` (the default for ``local``), None for a scheduler address."""
    if address == "local":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1
    if address.startswith("local:"):
        count = address.removeprefix("local:")
        if not count.isdigit() or int(count) < 1:
            raise InvalidInputError(f"cluster address {address!r}: local:N needs N, a number "
                                    "of worker processes >= 1 (e.g. local:2)")
        return int(count)
    return None


def check_address(address: str, source: str = "--cluster") -> str:
    """``address`` as given, or an error naming it, where it came from and what is accepted."""
    text = address.strip()
    if local_workers(text) is not None:
        return text
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    ok = scheme in SCHEMES and (scheme == "inproc" or _HOST_PORT.match(rest) is not None)
    if ok and scheme != "inproc":
        match = _HOST_PORT.match(rest)
        ok = match is not None and 0 < int(match.group(1)) < 65536
    if not ok:
        raise InvalidInputError(
            f"{source} {address!r} is not a Dask scheduler address; expected "
            "tcp://HOST:PORT (or " + ", ".join(f"{s}://" for s in SCHEMES[1:])
            + ", or HOST:PORT), or local / local:N for a local cluster of N workers")
    return text if sep else f"tcp://{text}"


def cluster_address(flag: str | None, configured: str | None,
                    environ: Mapping[str, str] | None = None) -> str | None:
    """The scheduler to use, checked (None: measure on this machine)."""
    env = os.environ if environ is None else environ
    if flag is not None:
        return check_address(flag, "--cluster")
    if configured:
        return check_address(configured, "[tool.workbench] cluster")
    from_env = env.get(ENV_VARIABLE, "").strip()
    return check_address(from_env, ENV_VARIABLE) if from_env else None

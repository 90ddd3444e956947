"""This process's resident set size: its current value, its peak, and resetting the peak.

Linux keeps the peak (``VmHWM`` in ``/proc/self/status``) per address space and lets a
process reset it by writing ``5`` to ``/proc/self/clear_refs`` (Linux >= 4.0). Where
either is unavailable the fallback is ``ru_maxrss``, the peak over the process's whole
life, which on Linux also carries a (v)forking parent's peak into its child; figures from
the fallback are reported as approximate.
"""

from __future__ import annotations

import resource
from pathlib import Path

__all__ = ["current_kb", "peak_kb", "reset_peak"]

_STATUS = Path("/proc/self/status")


def _status_kb(name: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def current_kb() -> int | None:
    """The resident set size now, in KiB (None where /proc is not available)."""
    return _status_kb("VmRSS")


def reset_peak() -> bool:
    """Reset the peak to the current RSS; False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_kb() -> tuple[int, bool]:
    """(peak RSS in KiB, whether it is this address space's own high-water mark)."""
    hwm = _status_kb("VmHWM")
    if hwm is not None:
        return hwm, True
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), False

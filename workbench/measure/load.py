"""Is the machine otherwise idle? A warning to print next to numbers that need it to be.

The native variants run one thread per allowed CPU and wait for the slowest: a neighbour
that keeps one core busy stalls them far more than it slows a one-thread variant (issue
13: minilm native/vectorized 1.75x on a quiet two-core machine, 0.07x with one core
taken). :func:`busy_note` reads the 1-minute load average and warns when more than
:data:`THRESHOLD` of a CPU is taken by others; :func:`top_processes` names the others.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["THRESHOLD", "allowed_cpus", "busy_note", "top_processes"]

#: CPUs' worth of load from other processes above which the machine is called busy. Half
#: a CPU means a neighbour ran at least half of the last minute on one core: often enough
#: that a parallel variant, waiting at every barrier for its slowest thread, loses most of
#: its speed-up, while one-core noise (a shell, an editor, a daemon) stays well below it.
THRESHOLD = 0.5


def allowed_cpus() -> int:
    """The CPUs this process may run on (its affinity mask; the CPU count elsewhere)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def busy_note(threads: int = 0, *, threshold: float = THRESHOLD) -> str | None:
    """A warning when the machine is not otherwise idle, else ``None``.

    ``threads`` is the load the caller itself accounts for, in CPUs: 0 when it asks
    before measuring (its own start-up adds next to nothing to a 1-minute average), the
    measurement's thread count when it asks while or right after measuring. The machine
    is busy when the 1-minute load average minus ``threads`` exceeds ``threshold``.
    ``None`` also where the load average is unavailable (not on Unix).
    """
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return None
    others = load - max(0, threads)
    if others <= threshold:
        return None
    cpus = allowed_cpus()
    own = f" minus {threads} of this run's own" if threads else ""
    return (f"the machine is busy: 1-minute load average {load:.2f} on {cpus} allowed "
            f"CPU{'s' if cpus != 1 else ''}{own} leaves {others:.2f} CPUs' worth taken by "
            f"other processes (over {threshold:g}); numbers from parallel/native variants "
            "are only meaningful on an otherwise idle machine")


def _cpu_ticks() -> dict[int, int]:
    """pid -> user + system clock ticks so far, from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile, or not ours to read
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            out[int(entry.name)] = int(fields[11]) + int(fields[12])
    return out


def _command(pid: int, width: int = 100) -> str:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").strip()
        text = args.decode(errors="replace") or Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"
    return text if len(text) <= width else text[: width - 3] + "..."


def top_processes(seconds: float = 0.5, top: int = 5) -> list[tuple[int, float, str]]:
    """The other processes using the most CPU over the next ``seconds``:
    ``(pid, percent of one CPU, command name)``, busiest first; ``[]`` without /proc."""
    if not Path("/proc/self/stat").exists():
        return []
    before = _cpu_ticks()
    started = time.monotonic()
    time.sleep(seconds)
    after = _cpu_ticks()
    elapsed = time.monotonic() - started
    tick = os.sysconf("SC_CLK_TCK")
    own = os.getpid()
    used = sorted(((100.0 * (ticks - before[pid]) / tick / elapsed, pid)
                   for pid, ticks in after.items() if pid in before and pid != own),
                  reverse=True)
    return [(pid, percent, _command(pid)) for percent, pid in used[:top] if percent > 0]

"""Running a Python child under Valgrind's Cachegrind, deterministically, and reading its counts.

Cachegrind runs the program on a simulated CPU and counts every instruction it executes
(``Ir``); with ``--cache-sim=yes`` it also simulates a first-level and a last-level cache
and counts their misses. The count of a run depends only on what the program does, not on
the machine's load, provided the program itself does the same thing each time. What would
otherwise make two runs of the same code differ is removed here:

- the string hash seed (``PYTHONHASHSEED``): set and dict iteration orders of strings;
- threads: every numeric library limited to one thread (Valgrind runs threads one at a
  time, and how much a waiting thread spins depends on the scheduling);
- address-space layout randomisation: off for the child (``setarch -R``), since addresses
  decide the hash of objects hashed by identity and so the probing in their sets and dicts.

Measured on this project's development machine (chunk/pure on ``tiny``): with these
settings two runs agree to within a few hundred instructions out of a billion; without
them they differ by millions.

Valgrind must run the real interpreter: a launcher script (a pyenv shim, a wrapper)
would be what Cachegrind measures, so :func:`real_interpreter` refuses one. Valgrind 3.19
does not emulate AVX-512; numeric libraries that pick their kernels at run time take
their AVX2 paths under it, so an instruction count is a proxy for time, not time.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from workbench.errors import ExecutionError
from workbench.subproc import run_child, try_child

__all__ = ["CACHE_EVENTS", "Counted", "ValgrindUnavailable", "aslr_off_prefix", "cachegrind",
           "read_counts", "real_interpreter", "valgrind_path", "valgrind_version"]

#: Events of ``--cache-sim=yes`` besides ``Ir``: instruction-cache read misses (I1mr,
#: ILmr), data reads and writes (Dr, Dw) and their first- and last-level misses.
CACHE_EVENTS = ("I1mr", "ILmr", "Dr", "D1mr", "DLmr", "Dw", "D1mw", "DLmw")
#: Where to find Valgrind when it is not on PATH (an explicit path wins over PATH).
VALGRIND_VARIABLE = "WORKBENCH_VALGRIND"


class ValgrindUnavailable(ExecutionError):
    """Valgrind (or a real interpreter binary for it to run) is not available here."""


def valgrind_path() -> str:
    """The ``valgrind`` program: ``$WORKBENCH_VALGRIND``, else ``valgrind`` on PATH."""
    explicit = os.environ.get(VALGRIND_VARIABLE)
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise ValgrindUnavailable(
                f"{VALGRIND_VARIABLE}={explicit!r} is not an executable file; point it at "
                "valgrind (e.g. /usr/bin/valgrind) or unset it to search PATH")
        return explicit
    found = shutil.which("valgrind")
    if found is None:
        raise ValgrindUnavailable(
            "instruction counts need Valgrind (its Cachegrind tool), and 'valgrind' is not "
            "on PATH; install it (Debian/Ubuntu: apt-get install valgrind; Fedora: dnf "
            f"install valgrind) or set {VALGRIND_VARIABLE} to its path. Wall-time metrics "
            "do not need it")
    return found


@cache
def valgrind_version(valgrind: str) -> str:
    """``"valgrind-3.19.0"`` (the counts of different versions are not comparable)."""
    done = try_child([valgrind, "--version"], what="valgrind --version", timeout=30)
    if done is None:
        raise ValgrindUnavailable(f"{valgrind} --version could not run (missing, not "
                                  "executable, or over 30 s)")
    if done.returncode != 0 or not done.stdout.strip():
        raise ValgrindUnavailable(f"{valgrind} --version failed (status {done.returncode}): "
                                  f"{done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def real_interpreter(executable: str | None = None) -> str:
    """``executable`` (default ``sys.executable``) if it resolves to a native program.

    A venv's ``python`` is a symlink to a binary and is kept as given (so the venv's
    packages are found); a shell-script launcher such as a pyenv shim is refused."""
    exe = executable or sys.executable
    if not exe:
        raise ValgrindUnavailable("this Python does not know its own executable "
                                  "(sys.executable is empty), so Valgrind cannot run it")
    target = Path(exe).resolve()
    try:
        with target.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ValgrindUnavailable(f"cannot read the interpreter {exe!r}: {exc}") from None
    if magic != b"\x7fELF":
        what = "a script (it starts with '#!')" if magic[:2] == b"#!" else "not an ELF binary"
        raise ValgrindUnavailable(
            f"the interpreter {exe!r} (resolving to {str(target)!r}) is {what}; Valgrind "
            "would measure that launcher, not Python. Run the workbench from a virtual "
            "environment or with the real interpreter (python -c 'import sys; "
            "print(sys.executable)' inside the environment names it)")
    return exe


@cache
def aslr_off_prefix() -> tuple[str, ...]:
    """``setarch <machine> -R``, which starts its command with address-space layout
    randomisation off, or ``()`` when ``setarch`` is missing or cannot do it here."""
    setarch = shutil.which("setarch")
    if setarch is None:
        return ()
    prefix = (setarch, platform.machine(), "-R")
    done = try_child([*prefix, "true"], what="setarch -R", timeout=30)
    return prefix if done is not None and done.returncode == 0 else ()


@dataclass(frozen=True, slots=True)
class Counted:
    """One run under Cachegrind: its event totals and what the child printed."""

    events: dict[str, int]
    stdout: str
    stderr: str
    seconds: float


_EVENTS = re.compile(r"^events:\s*(.+)$", re.MULTILINE)
_SUMMARY = re.compile(r"^summary:\s*(.+)$", re.MULTILINE)


def read_counts(text: str, source: str = "cachegrind output") -> dict[str, int]:
    """The ``summary:`` totals of a Cachegrind output file, keyed by its ``events:``."""
    events, summary = _EVENTS.search(text), _SUMMARY.search(text)
    if events is None or summary is None:
        raise ExecutionError(f"{source} has no 'events:' and 'summary:' lines; is it a "
                             "Cachegrind output file?")
    names, values = events.group(1).split(), summary.group(1).split()
    if len(names) != len(values) or not all(v.isdigit() for v in values):
        raise ExecutionError(f"{source}: summary {summary.group(1)!r} does not match the "
                             f"events {events.group(1)!r}")
    return {name: int(value) for name, value in zip(names, values, strict=True)}


def cachegrind(argv: Sequence[str], *, what: str, timeout: float, cache_sim: bool = False,
               stdin: str | None = None, env: Mapping[str, str] | None = None,
               cwd: Path | None = None) -> Counted:
    """Run ``argv`` (its first element a real program) under Cachegrind with ASLR off;
    raise :class:`ExecutionError` naming ``what`` if it fails or times out."""
    valgrind = valgrind_path()
    with tempfile.TemporaryDirectory(prefix="workbench-cachegrind-") as tmp:
        out = Path(tmp) / "cachegrind.out"
        command = [*aslr_off_prefix(), valgrind, "--tool=cachegrind",
                   f"--cache-sim={'yes' if cache_sim else 'no'}",
                   f"--cachegrind-out-file={out}", *argv]
        done = run_child(command, what=f"{what} under Cachegrind", timeout=timeout,
                         stdin=stdin, env=env, cwd=cwd)
        if not out.is_file():
            raise ExecutionError(f"{what}: Cachegrind wrote no output file; its stderr ends "
                                 f"with:\n{done.stderr.strip()[-2000:]}")
        events = read_counts(out.read_text(encoding="utf-8", errors="replace"),
                             f"Cachegrind's output for {what}")
    return Counted(events, done.stdout, done.stderr, done.seconds)

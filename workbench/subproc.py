"""The one helper that runs every child process: measurement workers and external tools.

It builds nothing itself: callers give ``argv``. It runs the child in its own process
group with a timeout, kills the whole group on timeout, error or interrupt, and puts the
child's stderr into the error it raises, so no failure is silent and nothing hangs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import ExecutionError, InvalidInputError

__all__ = ["GIT_TIMEOUT", "ChildFailed", "ChildTimedOut", "Completed", "git", "git_output",
           "run_child", "try_child"]

#: Seconds a git command may take (a worktree of a large repository takes the longest).
GIT_TIMEOUT = 120.0

_STDERR_TAIL = 4000


@dataclass(frozen=True, slots=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


class ChildFailed(ExecutionError):
    """The child exited non-zero or was killed by a signal."""

    def __init__(self, what: str, completed: Completed) -> None:
        self.completed = completed
        code = completed.returncode
        how = f"was killed by signal {-code} ({_signal_name(-code)})" if code < 0 else \
            f"exited with status {code}"
        tail = completed.stderr.strip()[-_STDERR_TAIL:]
        super().__init__(f"{what} {how}" + (f"; its stderr ends with:\n{tail}" if tail else ""))


class ChildTimedOut(ExecutionError):
    """The child did not finish within its timeout and was killed."""

    def __init__(self, what: str, timeout: float, stderr: str) -> None:
        self.timeout = timeout
        tail = stderr.strip()[-_STDERR_TAIL:]
        super().__init__(
            f"{what} did not finish within {timeout:g} s and was killed"
            + (f"; its stderr ends with:\n{tail}" if tail else "")
        )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_child(
    argv: Sequence[str],
    *,
    what: str,
    timeout: float,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
) -> Completed:
    """Run ``argv`` to completion; raise ``ChildTimedOut``/``ChildFailed`` (with stderr).

    ``what`` names the child in messages ("measurement worker 3", "py-spy").
    """
    if not argv:
        raise InvalidInputError("run_child needs a non-empty argv")
    if not timeout > 0:
        raise InvalidInputError(f"timeout must be > 0 seconds; got {timeout!r}")
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # its own process group, so we can kill all of it
        )
    except FileNotFoundError:
        raise ExecutionError(f"{what}: the program {argv[0]!r} was not found") from None
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        _, err = proc.communicate()
        raise ChildTimedOut(what, timeout, err) from None
    except BaseException:  # KeyboardInterrupt included: never leave the child running
        _kill_group(proc)
        proc.wait()
        raise
    completed = Completed(tuple(argv), proc.returncode, out, err,
                          time.perf_counter() - started)
    if check and proc.returncode != 0:
        raise ChildFailed(what, completed)
    return completed


def try_child(argv: Sequence[str], *, what: str, timeout: float, cwd: Path | None = None,
              env: Mapping[str, str] | None = None) -> Completed | None:
    """Run a short external command whose failure the caller handles: its
    :class:`Completed` (any exit status), or None when it could not run (not found, not
    executable, or over ``timeout``; the child is killed then)."""
    try:
        return run_child(argv, what=what, timeout=timeout, cwd=cwd, env=env, check=False)
    except (ChildTimedOut, ExecutionError, OSError):
        return None


def git(*args: str, cwd: Path | str | None = None,
        timeout: float = GIT_TIMEOUT) -> Completed | None:
    """``git ARGS`` in ``cwd`` (see :func:`try_child`)."""
    return try_child(["git", *args], what=f"git {args[0] if args else ''}".strip(),
                     timeout=timeout, cwd=None if cwd is None else Path(cwd))


def git_output(*args: str, cwd: Path | str | None = None,
               timeout: float = GIT_TIMEOUT) -> str | None:
    """The stripped output of ``git ARGS`` in ``cwd``; None when it failed or was empty."""
    done = git(*args, cwd=cwd, timeout=timeout)
    if done is None or done.returncode != 0:
        return None
    return done.stdout.strip() or None

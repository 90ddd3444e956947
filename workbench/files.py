"""Reading and writing the files a user hands the workbench (results, budgets, baselines).

Reading names the file and what it should have been when it is missing or unreadable;
writing goes through a temporary file in the same directory, flushed to disk, and
``os.replace``: an interrupted or failed write leaves any existing file as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from workbench.errors import InvalidInputError

__all__ = ["read_text", "write_atomic"]


def read_text(path: str | os.PathLike[str], what: str, *, missing: str = "") -> str:
    """The text of the ``what`` file at ``path`` (``missing``: advice when it does not
    exist), or an InvalidInputError naming it."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{what} file {str(p)!r} does not exist{missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {what} file {str(p)!r}: {exc}") from None


def _umask() -> int:
    try:  # Linux says it without changing it (os.umask must set it to read it)
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _mode_for(target: Path) -> int:
    """The mode of the file a write replaces, else what a new file gets (0666 - umask)."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see the module docstring)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp makes the file 0600: keep the mode of the file replaced, else the umask's
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

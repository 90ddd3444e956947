"""The command line's exit codes (listed at the end of ``workbench --help``)."""

from __future__ import annotations

__all__ = ["EXIT_BREACH", "EXIT_EXECUTION", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE"]

EXIT_OK = 0
EXIT_BREACH = 1  # check: an error-level budget breach
EXIT_USAGE = 2
EXIT_EXECUTION = 3
EXIT_INTERRUPTED = 130

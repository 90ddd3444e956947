"""Constants shared by the target runner and the parsers (kept apart so that running
``python -m workbench.profile.run_target`` imports nothing else of this package)."""

from __future__ import annotations

__all__ = ["JOB_SCHEMA", "LOOP_FRAME"]

#: Version of the runner's job and report JSON.
JOB_SCHEMA = 1
#: The name of the runner's function whose frames are the measured calls.
LOOP_FRAME = "_run_loop"

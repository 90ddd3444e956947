"""Tests that need a tool from outside Python (Chromium, Valgrind): skip with the reason
when it is missing, except where ``WORKBENCH_REQUIRE_TOOLS=1`` (CI sets it) says the tool
must be there, in which case its absence fails the test instead of passing as a skip."""

from __future__ import annotations

import os

import pytest

__all__ = ["REQUIRED", "require_tool"]

REQUIRED = os.environ.get("WORKBENCH_REQUIRE_TOOLS", "") == "1"


def require_tool(present: bool, what: str, install: str) -> None:
    """Skip (or, when tools are required, fail) the calling test unless ``present``."""
    if present:
        return
    if REQUIRED:
        pytest.fail(f"{what} is missing and WORKBENCH_REQUIRE_TOOLS=1 requires it ({install})")
    pytest.skip(f"{what} is missing ({install}); set WORKBENCH_REQUIRE_TOOLS=1 to fail instead")

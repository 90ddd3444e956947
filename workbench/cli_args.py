"""Moved to :mod:`workbench.app.args` (the flags the command line and the magics share);
this name stays only until ``notebook/budget_magic.py`` imports them from there."""

from __future__ import annotations

from workbench.app.args import add_measure_flags, config_of, positive_int

__all__ = ["add_measure_flags", "config_of", "positive_int"]

"""Compatibility: ``workbench.results.KINDS`` names this module for ``stage-shares``
records. Delete it once KINDS names ``workbench.reporting.shares``."""

from __future__ import annotations

from workbench.app.reporting import StageShare, StageShares

__all__ = ["StageShare", "StageShares"]

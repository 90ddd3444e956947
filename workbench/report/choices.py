"""Compatibility: ``workbench.results.KINDS`` names this module for ``stage-choices``
records. Delete it once KINDS names ``workbench.reporting.choices``."""

from __future__ import annotations

from workbench.app.reporting import StageChoice, StageChoices

__all__ = ["StageChoice", "StageChoices"]

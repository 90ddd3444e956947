"""Measurement settings as a front end states them: a
:class:`~workbench.measure.config.MeasureConfig` from the values a user gave (a bad value
raises, naming it), and what too few worker processes cannot decide."""

from __future__ import annotations

from workbench.measure.comparison import minimum_workers, workers_warning
from workbench.measure.config import MeasureConfig

__all__ = ["MeasureConfig", "minimum_workers", "workers_warning"]

"""A matplotlib trend plot of a history series with its detected steps (returned, not shown)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench._optional import require
from workbench.budget.history import Series
from workbench.budget.steps import Step

__all__ = ["trend_figure"]


def trend_figure(series: Series, steps: Sequence[Step] = ()) -> Any:
    """Values per run (with their intervals where known) and a line at every step."""
    require("matplotlib", feature="plots", extra="analysis")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    ax = fig.add_subplot()
    xs = list(range(len(series.points)))
    ax.plot(xs, series.values, "o-", color="#4c72b0", label=series.metric)
    lows = [p.ci_low if p.ci_low is not None else p.value for p in series.points]
    highs = [p.ci_high if p.ci_high is not None else p.value for p in series.points]
    ax.fill_between(xs, lows, highs, color="#4c72b0", alpha=0.2, label="interval")
    for step in steps:
        ax.axvline(step.index - 0.5, color="#c44e52", linestyle="--")
        ax.annotate(f"x{step.ratio:.2f}", (step.index - 0.5, step.after), color="#c44e52")
    ax.set_xlabel("run (oldest first)")
    ax.set_ylabel(series.metric)
    ax.set_title(f"{series.stage}: {series.metric} across checks")
    ax.legend()
    return fig

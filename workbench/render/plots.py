"""Matplotlib figures of measurements (ECDF, speed-up bars, a sweep on log-log axes);
returned, never shown or saved implicitly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from workbench._optional import require

if TYPE_CHECKING:
    from workbench.measure.comparison import Comparison
    from workbench.measure.sweep import Sweep

__all__ = ["latency_ecdf", "speedup_bars", "sweep_loglog"]


def _figure(width: float = 7.0, height: float = 3.6) -> tuple[Any, Any]:
    require("matplotlib", feature="plots", extra="analysis")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def latency_ecdf(comp: Comparison) -> Any:
    """ECDF of per-call latency, one line per variant (log x axis)."""
    fig, ax = _figure()
    for r in comp.results:
        samples = np.sort(np.asarray(r.measurement.samples, dtype=float)) / 1e6
        if samples.size:
            ax.step(samples, np.arange(1, samples.size + 1) / samples.size, where="post",
                    label=r.variant)
    ax.set_xscale("log")
    ax.set_xlabel("latency per call (ms)")
    ax.set_ylabel("fraction of samples")
    ax.set_title(f"{comp.stage} on {comp.workload}")
    ax.legend()
    return fig


def speedup_bars(comp: Comparison) -> Any:
    """Speed-up over the baseline per variant, with the bootstrap interval as error bars."""
    fig, ax = _figure(6.0, 3.2)
    names, values, low, high = [], [], [], []
    for r in comp.results:
        est = None if r.versus_baseline is None else r.versus_baseline.speedup
        if est is None or est.value is None:
            continue
        names.append(r.variant)
        values.append(est.value)
        lo = est.interval.low if est.interval else est.value
        hi = est.interval.high if est.interval else est.value
        low.append(est.value - lo)
        high.append(hi - est.value)
    ax.bar(names, values, yerr=[low, high], capsize=6, color="#4c72b0")
    ax.axhline(1.0, color="grey", linewidth=1, linestyle="--")
    ax.set_ylabel(f"speed-up over {comp.baseline} (x)")
    ax.set_title(f"{comp.stage} on {comp.workload}: median ratio, 95% CI")
    return fig


def sweep_loglog(sw: Sweep) -> Any:
    """Median latency against size on log-log axes, with each variant's fitted slope."""
    fig, ax = _figure()
    sizes = np.asarray(sw.sizes, dtype=float)
    for v in sw.variants:
        medians = np.asarray([np.nan if m is None else m / 1e6 for m in sw.medians(v)])
        fit = sw.slopes.get(v)
        label = v if fit is None else f"{v} (slope {fit.slope:.2f})"
        line = ax.plot(sizes, medians, "o", label=label)[0]
        if fit is not None:
            ax.plot(sizes, np.exp(fit.intercept) * sizes**fit.slope / 1e6, "-",
                    color=line.get_color(), alpha=0.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("workload size (documents)")
    ax.set_ylabel("median latency per call (ms)")
    ax.set_title(f"{sw.stage}: scaling on {sw.workload}")
    ax.legend()
    return fig

"""The verdict on a speed-up, a resampling interval of a ratio, and how time scales with size.

Convention: a **speed-up** is ``statistic(baseline) / statistic(candidate)`` over times, so
a value above 1 means the candidate is faster. Samples come in *groups*, one sequence per
worker process, because samples from one process share its state (heap layout, CPU
frequency, cache placement) and are not independent of each other.

:func:`verdict` classifies a speed-up estimate and a p-value; ``compare`` forms both with the
worker process as the unit (:func:`workbench.measure.comparison.pair_stats`, on worker
medians: :mod:`workbench.measure.worker_stats`). There is no test on pooled samples here.
Nothing here resamples pooled samples: the bootstrap of a ratio of pooled statistics that
budget checks once used is gone with them (:mod:`workbench.budget.bounds`).

The scaling fit (:func:`loglog_slope`) is a least-squares line through log(time) against
log(size) whose interval treats its points as independent, so its points must be the
independent units: one per worker process (that worker's median time at its size), never
the individual samples of a worker, which share that process's state. Fed every sample
(3 or 4 sizes, 5 workers of 15 samples each), a 95% slope interval covered the true
exponent 95-96% of the time without spread between processes, 85% at 1% spread and 58% at
3%; fed the workers' medians, 94-96% in all three cases (``tests/test_coverage.py``,
2000 replicates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from workbench.errors import InvalidInputError
from workbench.measure.stats import (
    Estimate,
    Interval,
    _as_samples,
    _check_confidence,
    _scipy_stats,
)

__all__ = [
    "NOISE_FLOOR",
    "SlopeFit",
    "Verdict",
    "loglog_slope",
    "verdict",
]

#: "median", "mean", or a number q in (0, 100): the q-th percentile.
Verdict = Literal["faster", "slower", "inconclusive"]

#: Differences smaller than this (3 %) are within what fresh processes running identical
#: code show on a shared 2-core machine; the verdict's default minimum effect.
NOISE_FLOOR = 0.03
_CHUNK_ELEMENTS = 2_000_000  # bound on one bootstrap chunk's (resamples x values) array


def verdict(
    speedup_estimate: Estimate, p_value: float, *, alpha: float = 0.01,
    min_effect: float = NOISE_FLOOR
) -> Verdict:
    """Classify a speed-up estimate and a p-value as faster, slower or inconclusive.

    "faster" needs all of: the interval's low end above 1, ``p_value < alpha`` and a point
    speed-up of at least ``1 + min_effect``. "slower" mirrors it: the high end below 1,
    ``p_value < alpha`` and a point of at most ``1 - min_effect``. Anything else, including
    an estimate without a value or interval, is "inconclusive". The default 3 % is the size
    of the differences between fresh processes running identical code on a shared 2-core
    machine (A/A runs of ``benchmarks/detection.py`` reached 2.6 %).
    """
    if not (isinstance(p_value, int | float) and 0.0 <= p_value <= 1.0):
        raise InvalidInputError(f"p_value must be a number in [0, 1]; got {p_value!r}")
    if not (isinstance(alpha, int | float) and 0.0 < alpha < 1.0):
        raise InvalidInputError(f"alpha must be strictly between 0 and 1; got {alpha!r}")
    if not (isinstance(min_effect, int | float) and 0.0 <= min_effect < 1.0):
        raise InvalidInputError(f"min_effect must be in [0, 1); got {min_effect!r}")
    point, iv = speedup_estimate.value, speedup_estimate.interval
    if point is None or iv is None or p_value >= alpha:
        return "inconclusive"
    if iv.low > 1.0 and point >= 1.0 + min_effect:
        return "faster"
    if iv.high < 1.0 and point <= 1.0 - min_effect:
        return "slower"
    return "inconclusive"


@dataclass(frozen=True, slots=True)
class SlopeFit:
    """``log(time) = intercept + slope * log(size)`` (natural logs), fitted by least squares.

    ``interval`` is the t-distribution interval of the slope with ``n_points - 2`` degrees
    of freedom, valid when the points are independent units: one per worker process (its
    median time at its size), as :func:`loglog_slope`'s callers pass them. ``n_points`` is
    the number of those units; ``r2`` the coefficient of determination. A slope near 1 is
    linear scaling, near 2 quadratic.
    """

    slope: float
    intercept: float
    interval: Interval
    r2: float
    n_points: int


def loglog_slope(
    sizes: Sequence[float],
    times: Sequence[float | Sequence[float]],
    confidence: float = 0.95,
) -> SlopeFit:
    """Fit the scaling exponent of time against input size on log-log axes.

    ``times[i]`` is either one time or a sequence of times measured at ``sizes[i]``; every
    time is one point of the fit, and sizes may repeat. The interval takes the points as
    independent, so each time must be one independent unit: a worker process's median
    time (one point per worker per size, e.g. :func:`workbench.measure.sweep.build_sweep`),
    not the samples of a worker, which share its process's state and would make the
    interval far too narrow when processes differ. At least 3 distinct sizes are required
    (two would fit any slope exactly and leave no degrees of freedom for an interval):
    fewer raises InvalidInputError, as do non-positive sizes or times.
    """
    conf = _check_confidence(confidence)
    if len(sizes) != len(times):
        raise InvalidInputError(
            f"sizes and times must have the same length (one entry of times per size); "
            f"got {len(sizes)} sizes and {len(times)} times"
        )
    xs: list[float] = []
    ys: list[float] = []
    for size, t in zip(sizes, times, strict=True):
        at_size = t if isinstance(t, Sequence | np.ndarray) else [t]
        repeated = _as_samples(at_size, f"times at size {size!r}", positive=True)
        xs.extend([size] * repeated.size)
        ys.extend(repeated.tolist())
    x = _as_samples(xs, "sizes", positive=True)
    distinct = np.unique(x)
    if distinct.size < 3:
        raise InvalidInputError(
            f"loglog_slope needs at least 3 distinct sizes; got {distinct.tolist()!r}"
        )
    stats = _scipy_stats()
    fit = stats.linregress(np.log(x), np.log(np.asarray(ys)))
    n = int(x.size)
    half = float(stats.t.ppf((1 + conf) / 2, n - 2)) * float(fit.stderr)
    slope = float(fit.slope)
    return SlopeFit(
        slope=slope,
        intercept=float(fit.intercept),
        interval=Interval(slope - half, slope + half, conf),
        r2=float(fit.rvalue) ** 2,
        n_points=n,
    )

"""A hierarchical-bootstrap interval for the ratio of two percentiles (p50, p95, p99...).

:func:`workbench.measure.compare_stats.bootstrap_ratio_ci` covers the median and the mean;
budget rules on p95/p99 need other percentiles, resampled the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError
from workbench.measure import compare_stats, stats

__all__ = ["percentile_ratio_ci"]


def _bootstrap_q(groups: list[npt.NDArray[np.float64]], q: float, resamples: int,
                 rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Hierarchical-bootstrap replicates of the pooled q-th percentile (as compare_stats)."""
    k = len(groups)
    sizes = np.array([g.size for g in groups])
    width = int(sizes.max())
    padded = np.zeros((k, width))
    for i, g in enumerate(groups):
        padded[i, : g.size] = g
    ragged = bool((sizes != width).any())
    out = np.empty(resamples)
    chunk = max(1, 2_000_000 // (k * width))
    for start in range(0, resamples, chunk):
        r = min(chunk, resamples - start)
        workers = rng.integers(0, k, size=(r, k))
        drawn = sizes[workers][..., None]
        values = padded[workers[..., None], rng.integers(0, drawn, size=(r, k, width))]
        if ragged:
            values = np.where(np.arange(width) < drawn, values, np.nan)
            out[start:start + r] = np.nanpercentile(values.reshape(r, k * width), q, axis=1)
        else:
            out[start:start + r] = np.percentile(values.reshape(r, k * width), q, axis=1)
    return out


def percentile_ratio_ci(a_groups: Sequence[Sequence[float]], b_groups: Sequence[Sequence[float]],
                        q: float, *, confidence: float = 0.95, resamples: int = 2000,
                        seed: int = 0) -> stats.Estimate:
    """``pQ(a) / pQ(b)`` of the pooled samples with a hierarchical-bootstrap interval.

    q=50 is :func:`compare_stats.bootstrap_ratio_ci` (median); other percentiles resample
    the same way (workers, then samples within each drawn worker) and take the percentile
    interval of the replicate ratios, widened to include the point. Deterministic per seed.
    """
    if q == 50:
        return compare_stats.bootstrap_ratio_ci(a_groups, b_groups, statistic="median",
                                                confidence=confidence, resamples=resamples,
                                                seed=seed)
    if not (isinstance(q, int | float) and 0 < q < 100):
        raise InvalidInputError(f"percentile q must be strictly between 0 and 100; got {q!r}")
    if not a_groups or not b_groups:
        raise InvalidInputError("both sides need at least one group of samples; got "
                                f"{len(a_groups)} and {len(b_groups)}")
    stats._check_confidence(confidence)
    if not isinstance(resamples, int) or isinstance(resamples, bool) or resamples < 100:
        raise InvalidInputError(f"resamples must be an integer >= 100; got {resamples!r}")
    a = [stats._as_samples(g, f"a_groups[{i}]", positive=True) for i, g in enumerate(a_groups)]
    b = [stats._as_samples(g, f"b_groups[{i}]", positive=True) for i, g in enumerate(b_groups)]
    point = float(np.percentile(np.concatenate(a), q) / np.percentile(np.concatenate(b), q))
    rng = np.random.default_rng(seed)
    ratios = _bootstrap_q(a, q, resamples, rng) / _bootstrap_q(b, q, resamples, rng)
    tail = 100 * (1 - confidence) / 2
    low, high = (float(x) for x in np.percentile(ratios, [tail, 100 - tail]))
    low, high = min(low, point), max(high, point)
    note = f"p{q:g}(a)/p{q:g}(b): hierarchical bootstrap, {resamples} resamples"
    n = sum(g.size for g in a) + sum(g.size for g in b)
    return stats.Estimate(point, stats.Interval(low, high, confidence), n, note)

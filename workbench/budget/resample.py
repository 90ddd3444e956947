"""A hierarchical-bootstrap interval for the ratio of two percentiles (p50, p95, p99...),
as budget rules on percentiles need it."""

from __future__ import annotations

from collections.abc import Sequence

from workbench.errors import InvalidInputError
from workbench.measure import compare_stats, stats

__all__ = ["percentile_ratio_ci"]


def percentile_ratio_ci(a_groups: Sequence[Sequence[float]], b_groups: Sequence[Sequence[float]],
                        q: float, *, confidence: float = 0.95, resamples: int = 2000,
                        seed: int = 0) -> stats.Estimate:
    """``pQ(a) / pQ(b)`` of the pooled samples with a hierarchical-bootstrap interval.

    The resampling is :func:`compare_stats.bootstrap_ratio_ci`'s (workers, then samples
    within each drawn worker) with the q-th percentile as the statistic. Deterministic per
    seed.
    """
    if not (isinstance(q, int | float) and 0 < q < 100):
        raise InvalidInputError(f"percentile q must be strictly between 0 and 100; got {q!r}")
    return compare_stats.bootstrap_ratio_ci(
        a_groups, b_groups, statistic="median" if q == 50 else float(q),
        confidence=confidence, resamples=resamples, seed=seed)

"""The usual description of latency samples: :class:`Summary` of one set
(:func:`summarize`) or of the samples of several workers (:func:`summarize_groups`, with
the worker as the unit of its intervals)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from workbench.errors import InvalidInputError
from workbench.measure.grouped_ci import _as_groups, grouped_percentile_ci
from workbench.measure.stats import (
    Estimate,
    FloatArray,
    _as_samples,
    _check_confidence,
    iqr,
    mad,
    outliers,
    percentile_ci,
)

__all__ = ["Summary", "summarize", "summarize_groups"]


# -- summary -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    """The usual description of one set of latency samples (``stdev`` None when n < 2)."""

    n: int
    mean: float
    stdev: float | None
    min: float
    max: float
    median: Estimate
    p95: Estimate
    p99: Estimate
    mad: float
    iqr: float
    outliers: int

    def to_json(self) -> dict[str, Any]:
        """A dict of plain ints, floats, strings and None (json.dumps-able)."""
        return {
            "n": self.n,
            "mean": self.mean,
            "stdev": self.stdev,
            "min": self.min,
            "max": self.max,
            "median": self.median.to_json(),
            "p95": self.p95.to_json(),
            "p99": self.p99.to_json(),
            "mad": self.mad,
            "iqr": self.iqr,
            "outliers": self.outliers,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        try:
            stdev = data["stdev"]
            return cls(
                n=int(data["n"]),
                mean=float(data["mean"]),
                stdev=None if stdev is None else float(stdev),
                min=float(data["min"]),
                max=float(data["max"]),
                median=Estimate.from_json(data["median"]),
                p95=Estimate.from_json(data["p95"]),
                p99=Estimate.from_json(data["p99"]),
                mad=float(data["mad"]),
                iqr=float(data["iqr"]),
                outliers=int(data["outliers"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"malformed Summary JSON ({exc!r}); expected the keys of Summary.to_json(): "
                "n, mean, stdev, min, max, median, p95, p99, mad, iqr, outliers"
            ) from None


def _summary(arr: FloatArray, percentiles: list[Estimate]) -> Summary:
    n = int(arr.size)
    return Summary(
        n=n,
        mean=float(np.mean(arr)),
        stdev=float(np.std(arr, ddof=1)) if n >= 2 else None,
        min=float(arr.min()),
        max=float(arr.max()),
        median=percentiles[0],
        p95=percentiles[1],
        p99=percentiles[2],
        mad=mad(arr),
        iqr=iqr(arr),
        outliers=outliers(arr),
    )


def summarize(samples: npt.ArrayLike, confidence: float = 0.95) -> Summary:
    """n, mean, sample stdev, extremes, p50/p95/p99 with intervals, MAD, IQR, outlier count.

    The intervals are :func:`percentile_ci`'s, which take the samples as independent: right
    for one worker's samples, too narrow for the pooled samples of several workers (use
    :func:`summarize_groups`).
    """
    arr = _as_samples(samples)
    conf = _check_confidence(confidence)
    return _summary(arr, [percentile_ci(arr, q, conf) for q in (50, 95, 99)])


def summarize_groups(
    groups: Sequence[Sequence[float]],
    confidence: float = 0.95,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> Summary:
    """:func:`summarize` of samples taken by several workers (one sequence per worker).

    The descriptive figures are of the pooled samples; the p50/p95/p99 intervals are
    :func:`grouped_percentile_ci`'s, with the worker as the unit. Results for up to
    ``_CACHED_SAMPLES`` samples are cached (a measurement's summary is asked for by every
    rendering of it, and its intervals take tens of milliseconds).
    """
    arrays = _as_groups(groups)
    conf = _check_confidence(confidence)
    if sum(a.size for a in arrays) <= _CACHED_SAMPLES:
        key = tuple(tuple(a.tolist()) for a in arrays)
        return _summarize_groups_cached(key, conf, resamples, seed)
    return _summarize_groups(groups, conf, resamples, seed)


_CACHED_SAMPLES = 10_000


def _summarize_groups(
    groups: Sequence[Sequence[float]], confidence: float, resamples: int, seed: int
) -> Summary:
    ests = [grouped_percentile_ci(groups, q, confidence, resamples=resamples, seed=seed)
            for q in (50, 95, 99)]
    return _summary(np.concatenate([np.asarray(g, dtype=np.float64) for g in groups]), ests)


@lru_cache(maxsize=64)
def _summarize_groups_cached(
    groups: tuple[tuple[float, ...], ...], confidence: float, resamples: int, seed: int
) -> Summary:
    return _summarize_groups(groups, confidence, resamples, seed)

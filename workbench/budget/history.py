"""Performance history in SQLite: one row per run, target and metric.

Table ``history``: ``id, run_id, git_sha, created_at, stage, variant, workload, metric,
value, ci_low, ci_high`` (values in canonical units: ns, bytes, items/s, exponent; the
interval is the value's own, NULL when there is none). The database runs in WAL mode with
a busy timeout. :func:`record` writes all rows of a run in ONE transaction taken with
``BEGIN IMMEDIATE``, retrying with back-off while another writer holds the lock
("database is locked"), so concurrent writers lose nothing; a writer killed mid-transaction
leaves no partial run behind (SQLite discards the uncommitted transaction) and every
earlier row intact.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from workbench.budget.check_result import CheckResult
from workbench.budget.spec import DEFAULT_VARIANT, METRICS
from workbench.errors import InvalidInputError
from workbench.measure import stats
from workbench.measure.measurement import Measurement

__all__ = ["HistoryRow", "Point", "Series", "load_series", "record", "record_rows",
           "rows_from_check", "rows_from_measurements", "series_keys"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS history (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "run_id TEXT NOT NULL, git_sha TEXT, created_at TEXT NOT NULL, stage TEXT NOT NULL, "
    "variant TEXT NOT NULL, workload TEXT, metric TEXT NOT NULL, value REAL NOT NULL, "
    "ci_low REAL, ci_high REAL)",
    "CREATE INDEX IF NOT EXISTS history_series ON history (stage, metric, variant, workload)",
)
_INSERT = ("INSERT INTO history (run_id, git_sha, created_at, stage, variant, workload, "
           "metric, value, ci_low, ci_high) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


@dataclass(frozen=True, slots=True)
class HistoryRow:
    stage: str
    variant: str
    workload: str | None
    metric: str
    value: float
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True, slots=True)
class Point:
    run_id: str
    git_sha: str | None
    created_at: str
    variant: str
    workload: str | None
    value: float
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True, slots=True)
class Series:
    """The history of one metric of one stage, oldest first."""

    stage: str
    metric: str
    points: tuple[Point, ...]

    @property
    def values(self) -> tuple[float, ...]:
        return tuple(p.value for p in self.points)

    def __len__(self) -> int:
        return len(self.points)

    def split(self) -> tuple[Series, ...]:
        """One series per ``(variant, workload)`` that has points, in that order: a trend
        across variants (pure, then native) would report a step that is no change."""
        keys = sorted({(p.variant, p.workload) for p in self.points},
                      key=lambda k: (k[0], k[1] or ""))
        return tuple(Series(self.stage, self.metric,
                            tuple(p for p in self.points if (p.variant, p.workload) == k))
                     for k in keys)

    @property
    def label(self) -> str:
        """``stage/variant on workload`` when every point shares them, else the stage."""
        variants = {p.variant for p in self.points}
        workloads = {p.workload for p in self.points}
        if len(variants) != 1 or len(workloads) != 1:
            return self.stage
        (variant,), (workload,) = variants, workloads
        return f"{self.stage}/{variant}" + (f" on {workload}" if workload else "")


def _interval(est: stats.Estimate) -> tuple[float | None, float | None]:
    return (None, None) if est.interval is None else (est.interval.low, est.interval.high)


def rows_from_measurements(measurements: Sequence[Measurement]) -> tuple[HistoryRow, ...]:
    """Latency percentiles, throughput and memory peaks of each successful measurement."""
    rows: list[HistoryRow] = []
    for m in measurements:
        if not m.ok or not m.samples:
            continue
        key = (m.target.name, m.target.variant or DEFAULT_VARIANT, m.target.workload)
        summary = m.summary()
        for metric, est in (("latency_p50", summary.median), ("latency_p95", summary.p95),
                            ("latency_p99", summary.p99)):
            if est.value is not None:
                rows.append(HistoryRow(*key, metric, est.value, *_interval(est)))
        tp = m.throughput()
        low, high = _interval(summary.median)
        if tp and low and high:
            items = m.items_per_call * 1e9
            rows.append(HistoryRow(*key, "throughput", tp, items / high, items / low))
        for metric, values in (
            ("peak_rss", [r.rss_peak_kb * 1024.0 for r in m.runs
                          if r.ok and r.rss_peak_kb is not None]),
            ("heap_peak", [float(r.heap_peak_bytes) for r in m.runs
                           if r.ok and r.heap_peak_bytes is not None]),
        ):
            if values:
                rows.append(HistoryRow(*key, metric, max(values), min(values), max(values)))
    return tuple(rows)


def rows_from_check(result: CheckResult) -> tuple[HistoryRow, ...]:
    """The observed value of each verdict, once per stage/variant/workload/metric."""
    seen: dict[tuple[str, str, str | None, str], HistoryRow] = {}
    for v in result.verdicts:
        r = v.rule
        key = (r.stage, r.variant, v.workload, r.metric)
        if v.observed is None or key in seen or "*" in (r.stage, r.variant):
            continue
        seen[key] = HistoryRow(*key, v.observed, v.observed_low, v.observed_high)
    return tuple(seen.values())


def _connect(db_path: str | Path, timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(str(db_path), timeout=timeout, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def record_rows(db_path: str | Path, rows: Iterable[HistoryRow], run_id: str,
                git_sha: str | None = None, created_at: str | None = None, *,
                timeout: float = 30.0, attempts: int = 20) -> int:
    """Append ``rows`` as one run in ONE transaction; returns the number of rows written.

    ``rows`` is consumed inside the transaction (and replayed if the transaction has to
    be retried because another writer held the lock).
    """
    if not run_id:
        raise InvalidInputError(f"run_id must be a non-empty string; got {run_id!r}")
    when = created_at or datetime.now(UTC).isoformat(timespec="seconds")
    consumed: list[HistoryRow] = []
    source = iter(rows)

    def params(row: HistoryRow) -> tuple[object, ...]:
        return (run_id, git_sha, when, row.stage, row.variant, row.workload, row.metric,
                float(row.value), row.ci_low, row.ci_high)

    def replay() -> Iterator[tuple[object, ...]]:
        yield from (params(row) for row in list(consumed))  # rows a failed attempt took
        for row in source:
            consumed.append(row)
            yield params(row)

    for attempt in range(attempts):
        try:
            conn = _connect(db_path, timeout)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _SCHEMA:
                        conn.execute(statement)
                    written = conn.executemany(_INSERT, replay()).rowcount
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                return int(written)
            finally:
                conn.close()
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or attempt == attempts - 1:
                raise InvalidInputError(f"cannot write history to {str(db_path)!r}: {exc}"
                                        ) from None
            time.sleep(min(1.0, 0.02 * 2**attempt) * (0.5 + random.random()))
        except sqlite3.DatabaseError as exc:
            raise InvalidInputError(f"cannot write history to {str(db_path)!r}: {exc} "
                                    "(is it a workbench history database?)") from None
    raise AssertionError("unreachable")  # pragma: no cover


def record(db_path: str | Path, source: CheckResult | Sequence[Measurement], run_id: str,
           git_sha: str | None = None, created_at: str | None = None) -> int:
    """Append a check's observed values, or measurements' metrics, as run ``run_id``."""
    rows = rows_from_check(source) if isinstance(source, CheckResult) \
        else rows_from_measurements(source)
    return record_rows(db_path, rows, run_id, git_sha, created_at)


def load_series(db_path: str | Path, stage: str, metric: str, variant: str | None = None,
                workload: str | None = None) -> Series:
    """Every recorded value of ``metric`` of ``stage`` (optionally one variant/workload).

    Oldest first (by ``created_at``, then insertion order). Without ``variant`` or
    ``workload`` the series mixes them (each point says which it is);
    :meth:`Series.split` separates them.
    """
    if metric not in METRICS:
        raise InvalidInputError(f"unknown metric {metric!r}; choose one of: "
                                + ", ".join(METRICS))
    if not Path(db_path).is_file():
        raise InvalidInputError(f"history database {str(db_path)!r} does not exist")
    query = ("SELECT run_id, git_sha, created_at, variant, workload, value, ci_low, ci_high "
             "FROM history WHERE stage = ? AND metric = ?")
    params: list[object] = [stage, metric]
    if variant is not None:
        query += " AND variant = ?"
        params.append(variant)
    if workload is not None:
        query += " AND workload = ?"
        params.append(workload)
    try:
        conn = _connect(db_path, 30.0)
        try:
            rows = conn.execute(query + " ORDER BY created_at, id", params).fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidInputError(f"cannot read history from {str(db_path)!r}: {exc}") from None
    return Series(stage, metric, tuple(Point(*row) for row in rows))


def series_keys(db_path: str | Path, metric: str = "latency_p50"
                ) -> tuple[tuple[str, str, str | None], ...]:
    """The distinct ``(stage, variant, workload)`` with rows of ``metric``, sorted (a
    ``None`` workload before the named ones)."""
    if metric not in METRICS:
        raise InvalidInputError(f"unknown metric {metric!r}; choose one of: "
                                + ", ".join(METRICS))
    if not Path(db_path).is_file():
        raise InvalidInputError(f"history database {str(db_path)!r} does not exist")
    try:
        conn = _connect(db_path, 30.0)
        try:
            rows = conn.execute("SELECT DISTINCT stage, variant, workload FROM history "
                                "WHERE metric = ?", (metric,)).fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidInputError(f"cannot read history from {str(db_path)!r}: {exc}") from None
    keys = [(str(s), str(v), None if w is None else str(w)) for s, v, w in rows]
    return tuple(sorted(keys, key=lambda k: (k[0], k[1], k[2] is not None, k[2] or "")))

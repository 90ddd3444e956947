"""Choosing among candidate implementations by timing them here, on this machine.

CPU flags say what a CPU can do, not what runs fastest on it now: on an AVX512-BF16 EPYC
with a neighbour on one of its two cores, the bf16 back end picked from the flags made
minilm native 14x slower than vectorized (issue 13). So :func:`fastest` builds every
candidate, runs it on a small probe and keeps the fastest; flags only order the
candidates. minilm's native back ends (:mod:`workbench.rag.minilm_backend`) and
``retrieve``'s Numba thread count use it.

Timing: a first (warm-up) call per candidate, timed; a candidate whose first call is
over :data:`SLOW_FIRST` times the best steady time so far is dropped without more calls
(emulated bf16 on a CPU without it costs a second a call). Then timed calls in
interleaved rounds (up to ``rounds`` each, fewer once ``budget`` seconds have passed),
dropping any candidate over :data:`SLOW` times the best; the fastest minimum wins. A
candidate that fails to build or run is skipped with the reason in the note; when all
fail, the first failure is raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from workbench.errors import InvalidInputError

__all__ = ["SLOW", "SLOW_FIRST", "Candidate", "Choice", "bind", "env_choice", "env_threads",
           "fastest", "thread_counts"]

R = TypeVar("R")

#: A candidate slower than this many times the best is dropped (after each round).
SLOW = 2.0
#: A candidate whose first call is slower than this many times the best is dropped.
SLOW_FIRST = 4.0


@dataclass(frozen=True)
class Candidate(Generic[R]):
    """One way to run: a back end with a thread count, and how to build its runner."""

    backend: str
    threads: int
    build: Callable[[], R]

    @property
    def label(self) -> str:
        return f"{self.backend}, {self.threads} thread{'' if self.threads == 1 else 's'}"


@dataclass(frozen=True)
class Choice(Generic[R]):
    """The candidate kept, its runner, and a note saying how it was chosen."""

    backend: str
    threads: int
    runner: R
    note: str
    seconds: float  # what choosing cost, builds included


def _ms(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2g} us"
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _timed(probe: Callable[[R], object], runner: R) -> float:
    started = time.perf_counter()
    probe(runner)
    return time.perf_counter() - started


def fastest(candidates: Sequence[Candidate[R]], probe: Callable[[R], object], *,
            probe_text: str, why: str = "", rounds: int = 3, budget: float = 3.0) -> Choice[R]:
    """Build each candidate and time ``probe(runner)``; keep the fastest (see the module).

    ``probe_text`` describes the probe in the note ("a probe of 8 texts x 32 tokens");
    ``why`` is added to it (an override that narrowed the candidates). ``budget`` bounds
    the seconds of timed calls (building and first calls not counted) before the later
    rounds. A single
    candidate is built, not timed."""
    if not candidates:
        raise InvalidInputError("no back-end candidates to choose from")
    started = time.perf_counter()
    if len(candidates) == 1:
        only = candidates[0]
        runner = only.build()
        spent = time.perf_counter() - started
        built = f"; built in {_ms(spent)}" if spent >= 0.05 else ""
        return Choice(only.backend, only.threads, runner,
                      f"{only.label} (the only candidate{why}; not timed){built}", spent)
    runners: dict[int, R] = {}
    times: dict[int, list[float]] = {}
    dropped: dict[int, str] = {}
    failed: list[tuple[int, BaseException]] = []

    def best() -> float | None:
        return min((min(times[i]) for i in runners), default=None)

    def prune() -> None:
        top = best()
        for i in list(runners):
            if top is not None and min(times[i]) > SLOW * top:
                del runners[i]
                dropped[i] = f"{_ms(min(times[i]))} (over {SLOW:g}x the best: dropped)"

    building = firsts = 0.0
    for i, candidate in enumerate(candidates):
        try:
            build_started = time.perf_counter()
            try:
                runner = candidate.build()
            finally:
                building += time.perf_counter() - build_started
            first = _timed(probe, runner)
            firsts += first
            top = best()
            if top is not None and first > SLOW_FIRST * top:
                dropped[i] = f"{_ms(first)} on its first call (over {SLOW_FIRST:g}x: dropped)"
                continue
            times[i] = [_timed(probe, runner)]
        except Exception as exc:  # cannot build or run here: the others may
            failed.append((i, exc))
            continue
        runners[i] = runner
        prune()
    for _ in range(rounds - 1):
        if time.perf_counter() - started - building - firsts > budget or len(runners) < 2:
            break
        for i in list(runners):
            times[i].append(_timed(probe, runners[i]))
        prune()
    if not runners:
        raise failed[0][1]
    win = min(runners, key=lambda i: min(times[i]))
    chosen = candidates[win]
    others = [f"{candidates[i].label} {_ms(min(times[i]))}" for i in sorted(runners) if i != win]
    others += [f"{candidates[i].label} {text}" for i, text in sorted(dropped.items())]
    reasons: dict[str, list[str]] = {}
    for i, error in failed:
        reasons.setdefault(_reason(error), []).append(candidates[i].label)
    others += [f"{' and '.join(labels)} could not be used here ({reason})"
               for reason, labels in reasons.items()]
    spent = time.perf_counter() - started
    note = (f"{chosen.label} (fastest of {len(candidates)} candidates{why}, timed on "
            f"{probe_text}): {_ms(min(times[win]))}; " + "; ".join(others)
            + f"; choosing took {_ms(spent)}: {_ms(building)} building, {_ms(firsts)} in "
            f"first calls, {_ms(spent - building - firsts)} timing")
    return Choice(chosen.backend, chosen.threads, runners[win], note, spent)


def env_choice(environ: Mapping[str, str], var: str, accepted: Sequence[str]) -> str | None:
    """The value of ``var`` if it is one of ``accepted``; ``None`` when unset or ``auto``."""
    raw = environ.get(var, "").strip()
    if raw in ("", "auto"):
        return None
    if raw not in accepted:
        raise InvalidInputError(
            f"{var}={raw!r} is not accepted; use one of {', '.join(accepted)}, or auto "
            "(or leave it unset) to choose by timing on this machine")
    return raw


def env_threads(environ: Mapping[str, str], var: str) -> int | None:
    """The thread count in ``var`` (an integer >= 1); ``None`` when unset or ``auto``."""
    raw = environ.get(var, "").strip()
    if raw in ("", "auto"):
        return None
    try:
        threads = int(raw)
    except ValueError:
        threads = 0
    if threads < 1:
        raise InvalidInputError(
            f"{var}={raw!r} is not accepted; use a whole number of threads >= 1, or auto "
            "(or leave it unset) to choose by timing on this machine")
    return threads


def thread_counts(requested: int | None, limit: int) -> tuple[list[int], str]:
    """The thread counts to try, most first, and a note part when ``requested`` is lowered."""
    if requested is None:
        return sorted({1, max(1, limit)}, reverse=True), ""
    if requested > limit:
        return [limit], f" lowered to the {limit} allowed CPU{'' if limit == 1 else 's'}"
    return [requested], ""


def bind(build: Callable[[int], R], threads: int) -> Callable[[], R]:
    return lambda: build(threads)

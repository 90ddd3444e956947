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

Eligibility: a chooser may pass ``admit``, which judges each candidate's first probe
output before any timing (minilm's accuracy gate: a quantized back end must agree with
pure). A refused candidate is never timed and the note gives the reason; a faster answer
that is wrong is not a candidate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from workbench.errors import InvalidInputError

__all__ = ["SLOW", "SLOW_FIRST", "Admit", "Candidate", "Choice", "bind", "env_choice",
           "env_threads", "fastest", "thread_counts"]

R = TypeVar("R")
#: Judges a candidate's probe output: ``None`` admits it, a reason refuses it.
Admit = Callable[[object], "str | None"]

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
    return _run(probe, runner)[0]


def _run(probe: Callable[[R], object], runner: R) -> tuple[float, object]:
    started = time.perf_counter()
    output = probe(runner)
    return time.perf_counter() - started, output


class _Race(Generic[R]):
    """The timing of the candidates: who is still in, their times, who was dropped or
    failed, and the seconds spent building and in first calls."""

    def __init__(self, candidates: Sequence[Candidate[R]], probe: Callable[[R], object],
                 admit: Admit | None = None):
        self.candidates, self.probe, self.admit = candidates, probe, admit
        self.runners: dict[int, R] = {}
        self.times: dict[int, list[float]] = {}
        self.dropped: dict[int, str] = {}
        self.failed: list[tuple[int, BaseException]] = []
        self.building = self.firsts = 0.0

    def best(self) -> float | None:
        return min((min(self.times[i]) for i in self.runners), default=None)

    def prune(self) -> None:
        top = self.best()
        for i in list(self.runners):
            if top is not None and min(self.times[i]) > SLOW * top:
                del self.runners[i]
                self.dropped[i] = f"{_ms(min(self.times[i]))} (over {SLOW:g}x the best: dropped)"

    def enter(self, i: int) -> None:
        """Build candidate ``i``, time its first call and, unless its output is not
        admitted or it was too slow, one more; a candidate that cannot be built or run
        here is noted, not raised."""
        try:
            build_started = time.perf_counter()
            try:
                runner = self.candidates[i].build()
            finally:
                self.building += time.perf_counter() - build_started
            first, output = _run(self.probe, runner)
            self.firsts += first
            refused = None if self.admit is None else self.admit(output)
            if refused is not None:
                self.dropped[i] = refused
                return
            top = self.best()
            if top is not None and first > SLOW_FIRST * top:
                self.dropped[i] = (f"{_ms(first)} on its first call (over {SLOW_FIRST:g}x: "
                                   "dropped)")
                return
            self.times[i] = [_timed(self.probe, runner)]
        except Exception as exc:  # cannot build or run here: the others may
            self.failed.append((i, exc))
            return
        self.runners[i] = runner
        self.prune()

    def round(self) -> None:
        for i in list(self.runners):
            self.times[i].append(_timed(self.probe, self.runners[i]))
        self.prune()

    def others(self, win: int) -> list[str]:
        """What became of every candidate but the winner, for the note."""
        label = [c.label for c in self.candidates]
        out = [f"{label[i]} {_ms(min(self.times[i]))}" for i in sorted(self.runners)
               if i != win]
        out += [f"{label[i]} {text}" for i, text in sorted(self.dropped.items())]
        reasons: dict[str, list[str]] = {}
        for i, error in self.failed:
            reasons.setdefault(_reason(error), []).append(label[i])
        return out + [f"{' and '.join(labels)} could not be used here ({reason})"
                      for reason, labels in reasons.items()]


def _only(only: Candidate[R], probe: Callable[[R], object], why: str,
          admit: Admit | None) -> Choice[R]:
    """A single candidate: built, judged when there is a judge, not timed."""
    started = time.perf_counter()
    runner = only.build()
    if admit is not None:
        refused = admit(probe(runner))
        if refused is not None:
            raise InvalidInputError(f"the back end {only.label} (the only candidate{why}) is "
                                    f"{refused}; "
                                    "leave the choice to auto to pick an eligible one")
    spent = time.perf_counter() - started
    built = f"; built in {_ms(spent)}" if spent >= 0.05 else ""
    judged = "; its probe output passed the accuracy gate" if admit is not None else ""
    return Choice(only.backend, only.threads, runner,
                  f"{only.label} (the only candidate{why}; not timed){judged}{built}", spent)


def fastest(candidates: Sequence[Candidate[R]], probe: Callable[[R], object], *,
            probe_text: str, why: str = "", rounds: int = 3, budget: float = 3.0,
            admit: Admit | None = None) -> Choice[R]:
    """Build each candidate and time ``probe(runner)``; keep the fastest (see the module).

    ``probe_text`` describes the probe in the note ("a probe of 8 texts x 32 tokens");
    ``why`` is added to it (an override that narrowed the candidates). ``budget`` bounds
    the seconds of timed calls (building and first calls not counted) before the later
    rounds. ``admit`` judges a candidate's first probe output: a reason (``str``) makes
    the candidate ineligible before it is timed, ``None`` lets it in. A single candidate
    is built and judged, not timed; when it is refused, that is an error."""
    if not candidates:
        raise InvalidInputError("no back-end candidates to choose from")
    if len(candidates) == 1:
        return _only(candidates[0], probe, why, admit)
    started = time.perf_counter()
    race = _Race(candidates, probe, admit)
    for i in range(len(candidates)):
        race.enter(i)
    for _ in range(rounds - 1):
        timed = time.perf_counter() - started - race.building - race.firsts
        if timed > budget or len(race.runners) < 2:
            break
        race.round()
    if not race.runners:
        if race.failed:
            raise race.failed[0][1]
        raise InvalidInputError("no back-end candidate is eligible here: "
                                + "; ".join(race.others(-1)))
    win = min(race.runners, key=lambda i: min(race.times[i]))
    chosen = candidates[win]
    spent = time.perf_counter() - started
    note = (f"{chosen.label} (fastest of {len(candidates)} candidates{why}, timed on "
            f"{probe_text}): {_ms(min(race.times[win]))}; " + "; ".join(race.others(win))
            + f"; choosing took {_ms(spent)}: {_ms(race.building)} building, "
            f"{_ms(race.firsts)} in first calls, "
            f"{_ms(spent - race.building - race.firsts)} timing")
    return Choice(chosen.backend, chosen.threads, race.runners[win], note, spent)


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

"""The worker runs of a budget check, grown look by look: one block of jobs per target
(its current side, and its baseline side when that is measured in the same run).

A check can start from runs made elsewhere in the same session (:meth:`Rounds.seed`): a
report's budgets page judges the measurements its compare page made (same target, same
workload, same settings) and measures only what they lack, so a report measures each
target once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from workbench.measure.config import MeasureConfig
from workbench.measure.engine import Job, interleave_blocks
from workbench.measure.launch import Launcher
from workbench.measure.measurement import Measurement
from workbench.measure.protocol import WorkerRun
from workbench.measure.targets import TargetSpec
from workbench.progress import Progress

__all__ = ["Pair", "Rounds", "same_settings"]

Pair = tuple[str, str]


def same_settings(a: MeasureConfig, b: MeasureConfig) -> bool:
    """Whether two configurations measure alike (the worker count and time limit aside)."""
    return replace(a, workers=1, timeout=1.0) == replace(b, workers=1, timeout=1.0)


class Rounds:
    """Worker runs per target and side, and how many rounds each target has had."""

    def __init__(self, specs: Sequence[TargetSpec], sides: Sequence[tuple[str, Launcher]],
                 config: MeasureConfig, progress: Progress | None) -> None:
        self.specs: dict[Pair, TargetSpec] = {(s.name, s.variant or "pure"): s for s in specs}
        self.sides = sides
        self.config = config
        self.progress = progress
        self.runs: dict[str, list[WorkerRun]] = {}
        self.had: dict[Pair, int] = dict.fromkeys(self.specs, 0)

    def _blocks(self, pairs: Sequence[Pair]) -> list[list[Job]]:
        return [[(f"{self.specs[p].label} ({side})", self.specs[p], launch)
                 for side, launch in self.sides] for p in pairs]

    def seed(self, measured: Sequence[Measurement], side: str) -> tuple[str, ...]:
        """Take the runs of ``measured`` (made elsewhere: the same target, workload,
        parameters and settings, all workers succeeded) as ``side``'s first rounds of
        their targets; the labels of those taken. Only a check with one side can be
        seeded: a side measured alongside must get the same rounds."""
        if len(self.sides) != 1:
            raise ValueError("only a check with one measured side can start from runs "
                             "made elsewhere")
        taken = []
        for m in measured:
            pair = (m.target.name, m.target.variant or "pure")
            spec = self.specs.get(pair)
            if spec is None or self.had[pair] or not m.runs or \
                    any(not r.ok for r in m.runs) or \
                    spec.job_json() != m.target.job_json() or \
                    not same_settings(m.config, self.config):
                continue
            self.runs[f"{spec.label} ({side})"] = list(m.runs)
            self.had[pair] = len(m.runs)
            taken.append(spec.label)
        return tuple(taken)

    def extend(self, pairs: Sequence[Pair], rounds: int) -> None:
        """``rounds`` more rounds of each of ``pairs``."""
        self.fill({p: self.had[p] + rounds for p in pairs})

    def fill(self, want: dict[Pair, int]) -> None:
        """Rounds until each pair has had the number of rounds ``want`` gives it; pairs
        that have had the same number so far are interleaved with each other."""
        groups: dict[tuple[int, int], list[Pair]] = {}
        for pair, n in want.items():
            if n > self.had[pair]:
                groups.setdefault((self.had[pair], n), []).append(pair)
        for (had, n), pairs in sorted(groups.items()):
            interleave_blocks(self._blocks(pairs), self.config, self.progress,
                              rounds=n - had, first=had, into=self.runs)
            for pair in pairs:
                self.had[pair] = n

    def side(self, name: str) -> tuple[Measurement, ...]:
        out = []
        for spec in self.specs.values():
            runs = tuple(self.runs.get(f"{spec.label} ({name})", ()))
            out.append(Measurement.new(spec, replace(self.config, workers=len(runs)), runs))
        return tuple(out)

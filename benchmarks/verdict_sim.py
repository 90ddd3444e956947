"""Do budget verdicts mean the limit? The check's own verdict functions on simulated workers.

    python benchmarks/verdict_sim.py [--trials 200] [--old-trials 40] [--rules 1,8]
                                     [--old REV] [--only new|old]

Simulates ``workbench check --against`` of one stage (``latency_p50 <= 1.05x``) and of eight
stages (eight such rules, all changed alike) with the product's functions: the verdicts of
``workbench.budget.verdict.check`` at each look, driven by
``workbench.budget.sequential.run_looks`` with the check's first-look sizing and a
simulated clock (``--worker-seconds`` per worker of one target; ``--max-time`` 240 s as the
check's default). The data model is ``tests/test_coverage.py``'s: each worker a fresh
process with a log-normal effect of spread ``sigma_b`` (1, 3, 5 %), 15 samples per worker
with 2 % noise, 1 % of samples 1.5x slower. Each effect multiplies the current side:

- ``A/A`` (1.00): a breach is a false alarm;
- ``+3%`` (1.03, within the 1.05x limit): a breach is a false alarm;
- ``at limit`` (1.05): both verdicts are errors of their end; a pass is counted;
- ``+10%`` (1.10, over the limit): caught when it breaches.

Per cell it prints the share of checks with any rule breached, any passed, any left
undecided (inconclusive when time or looks ran out), the share of rules breached
("caught"), and the median looks and simulated seconds. The same table is
printed for the rule before this change (``--old``, default the commit before it): the
script extracts that commit's ``workbench`` package with ``git archive`` and runs itself on
it in a subprocess, so both tables come from the products' own code, in one run.
Goals (issue 28): A/A and +3 % breach <= 5 %, at-limit pass <= 5 %, +10 % caught >= 95 %.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OLD = "2b8b218"  # the last commit with the previous verdict rule
EFFECTS = (("A/A", 1.00), ("+3%", 1.03), ("at limit", 1.05), ("+10%", 1.10))
SPREADS = (0.01, 0.03, 0.05)
RULES = (1, 8)
LIMIT = 1.05


def _samples(rng: np.random.Generator, factor: float, sigma_b: float, n: int) -> list[float]:
    effect = rng.lognormal(0.0, sigma_b) if sigma_b > 0 else 1.0
    x = 1e6 * factor * effect * rng.lognormal(0.0, 0.02, n)
    x[rng.random(n) < 0.01] *= 1.5
    return [float(v) for v in x]


class _Trial:
    """One simulated check: the workers measured so far and the simulated clock."""

    def __init__(self, rng: np.random.Generator, factor: float, sigma_b: float,
                 worker_seconds: float, pairs: Sequence[tuple[str, str]],
                 env: dict[str, object]) -> None:
        self.rng, self.factor, self.sigma_b = rng, factor, sigma_b
        self.worker_seconds, self.pairs, self.env = worker_seconds, pairs, env
        self.runs: dict[tuple[str, str], list[list[float]]] = {}
        self.clock = 0.0

    def add(self, pairs: Sequence[tuple[str, str]], k: int) -> None:
        for stage, _ in pairs:
            for side, f in (("cur", self.factor), ("base", 1.0)):
                self.runs.setdefault((stage, side), []).extend(
                    _samples(self.rng, f, self.sigma_b, 15) for _ in range(k))
        self.clock += self.worker_seconds * 2 * k * len(pairs)

    def side(self, name: str) -> list[object]:
        from workbench.measure.config import MeasureConfig
        from workbench.measure.measurement import Measurement
        from workbench.measure.protocol import WorkerRun
        from workbench.measure.targets import TargetSpec

        out: list[object] = []
        for stage, _ in self.pairs:
            groups = self.runs[(stage, name)]
            wr = tuple(WorkerRun(index=i, ok=True, batch_ns=tuple(int(x) for x in g),
                                 items_per_call=1) for i, g in enumerate(groups))
            out.append(Measurement(TargetSpec("stage", stage, "pure", "w"),
                                   MeasureConfig(workers=len(wr)), wr,
                                   "2026-01-01T00:00:00+00:00", dict(self.env)))
        return out


def _simulate(rules: int, factor: float, sigma_b: float, trials: int, seed: int,
              max_time: float, worker_seconds: float) -> dict[str, object]:
    from workbench.budget import sequential
    from workbench.budget import verdict as vmod
    from workbench.budget.spec import parse_budgets

    text = "\n".join(f'[stage.s{i}]\nlatency_p50 = "{LIMIT}x"' for i in range(rules))
    spec = parse_budgets(text)
    env: dict[str, object] = {"cpu_model": "simulated", "python": "3.11", "packages": {}}
    new = "plan" in inspect.signature(vmod.check).parameters
    pairs_all = [(f"s{i}", "pure") for i in range(rules)]
    if new:
        from workbench.budget.boundary import MAX_LOOKS, Plan, first_look_workers
        plan = Plan(MAX_LOOKS, (2, 2))
        first = first_look_workers(0.05 / rules, plan, 5)
    else:
        from workbench.measure.worker_stats import workers_needed
        plan = None
        first = max(5, workers_needed(sequential.look_tail(1, 0.05) / rules))
    outcomes = {"breach": 0, "pass": 0, "undecided": 0}
    caught, seconds, looks_made = 0, [], []
    for t in range(trials):
        sim = _Trial(np.random.default_rng([seed, rules, int(factor * 1000),
                                            int(sigma_b * 1000), t]),
                     factor, sigma_b, worker_seconds, pairs_all, env)

        def evaluate(look: int, sim: _Trial = sim) -> object:
            kwargs: dict[str, object] = {"look": look}
            if new:
                kwargs["plan"] = plan
            return vmod.check(spec, sim.side("cur"), sim.side("base"),  # type: ignore[arg-type]
                              **kwargs)

        sim.add(pairs_all, first)
        extra = {"max_looks": plan.looks} if new and plan is not None else {}
        result, looks = sequential.run_looks(
            evaluate, lambda pairs, sim=sim: sim.add(pairs, sequential.ROUNDS_PER_LOOK),
            max_time, first_rounds=first, targets=rules, clock=lambda sim=sim: sim.clock,
            started=0.0, **extra)
        statuses = [v.status for v in result.verdicts]
        for key, status in (("breach", "breach"), ("pass", "pass"),
                            ("undecided", "inconclusive")):
            outcomes[key] += status in statuses
        caught += statuses.count("breach")
        seconds.append(sim.clock)
        looks_made.append(looks)
    return {"breach": outcomes["breach"] / trials, "pass": outcomes["pass"] / trials,
            "undecided": outcomes["undecided"] / trials,
            "caught": caught / (trials * rules), "seconds": statistics.median(seconds),
            "looks": statistics.median(looks_made), "first": first}


def _table(args: argparse.Namespace) -> list[dict[str, object]]:
    rows = []
    for rules in args.rules:
        for sigma_b in SPREADS:
            for name, factor in EFFECTS:
                t0 = time.perf_counter()
                r = _simulate(rules, factor, sigma_b, args.trials, args.seed, args.max_time,
                              args.worker_seconds)
                r.update(rules=rules, sigma_b=sigma_b, effect=name,
                         cpu=time.perf_counter() - t0)
                rows.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    return rows


def _old_rows(args: argparse.Namespace) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        blob = subprocess.run(["git", "-C", str(ROOT), "archive", args.old, "workbench"],
                              check=True, capture_output=True).stdout
        with tarfile.open(fileobj=BytesIO(blob)) as tar:
            tar.extractall(tmp, filter="data")
        env = {**os.environ, "PYTHONPATH": tmp}
        cmd = [sys.executable, __file__, "--child", "--trials", str(args.old_trials),
               "--rules", ",".join(str(r) for r in args.rules),
               "--seed", str(args.seed), "--max-time", str(args.max_time),
               "--worker-seconds", str(args.worker_seconds)]
        done = subprocess.run(cmd, env=env, cwd=tmp, check=True, capture_output=True,
                              text=True)
        return list(json.loads(done.stdout))


def _print(title: str, rows: Sequence[dict[str, object]], trials: int) -> None:
    print(f"\n{title}")
    print(f"{'rules':>5} {'sigma_b':>7} {'effect':>9} {'workers':>7} {'breach':>7} "
          f"{'pass':>6} {'undec.':>6} {'caught':>7} {'looks':>5} {'med. s':>7}  goal")
    goals = {"A/A": ("breach", "<= 5%"), "+3%": ("breach", "<= 5%"),
             "at limit": ("pass", "<= 5%"), "+10%": ("caught", ">= 95%")}
    for r in rows:
        key, text = goals[str(r["effect"])]
        value = float(r[key])  # type: ignore[arg-type]
        noise = 2 * (0.05 * 0.95 / trials) ** 0.5  # two standard errors of a 5 % rate
        ok = value <= 0.05 if text.startswith("<=") else value >= 0.95
        near = value <= 0.05 + noise if text.startswith("<=") else value >= 0.95 - noise
        print(f"{r['rules']:>5} {100 * float(r['sigma_b']):>6.0f}% {r['effect']:>9} "  # type: ignore[arg-type]
              f"{r['first']:>7} {100 * float(r['breach']):>6.1f}% "  # type: ignore[arg-type]
              f"{100 * float(r['pass']):>5.1f}% {100 * float(r['undecided']):>5.1f}% "  # type: ignore[arg-type]
              f"{100 * float(r['caught']):>6.1f}% {r['looks']:>5} "  # type: ignore[arg-type]
              f"{float(r['seconds']):>7.0f}  {key} {text}: "  # type: ignore[arg-type]
              f"{'met' if ok else 'within 2 s.e. of it' if near else 'MISSED'}")


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(x) for x in text.split(","))
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected rule counts >= 1 like 1,8; got {text!r}")
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=28)
    ap.add_argument("--old", default=OLD, help="the commit whose rule is shown beside")
    ap.add_argument("--only", choices=("new", "old"))
    ap.add_argument("--old-trials", type=int, default=40,
                    help="checks per cell for the old rule, whose bootstrap at late looks "
                         "takes minutes per check")
    ap.add_argument("--rules", type=_counts, default=RULES,
                    help="rule counts to simulate, e.g. 1,8 (default)")
    ap.add_argument("--max-time", type=float, default=240.0)
    ap.add_argument("--worker-seconds", type=float, default=0.5,
                    help="simulated seconds one worker of one target takes")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.trials < 1:
        ap.error(f"--trials must be >= 1; got {args.trials}")
    if args.child:
        print(json.dumps(_table(args)))
        return
    print(f"verdict simulation: {args.trials} checks per cell, max time {args.max_time:g} s, "
          f"{args.worker_seconds:g} s per worker (simulated clock); "
          f"load at start: {os.getloadavg()[0]:.2f}")
    if args.only != "old":
        _print("this rule (limit at both ends, calibrated boundary, one family)", _table(args),
               args.trials)
    if args.only != "new":
        _print(f"the rule before (commit {args.old}; {args.old_trials} checks per cell)",
               _old_rows(args), args.old_trials)


if __name__ == "__main__":
    main()

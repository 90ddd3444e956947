"""Instruction budgets: how far counts of the same code stray across checkouts, and do
verdicts under a 1.01x limit pass identical code and catch +2 %?

    python benchmarks/instructions.py [--trials 20] [--rounds 1] [--seed 7]
        [--aa chunk/pure,retrieve/vectorized] [--stages clean/pure,chunk/pure,...]

Three parts (counts do not depend on the machine's load; wall times do). The default run
(parts 1 and 2) takes about 25 minutes on an idle 2-core machine, a count taking ~15 s;
``--trials 0`` skips part 2, and part 3 runs only when ``--stages`` names stages:

1. **Spread across checkouts** (what ``CHECKOUT_SPREAD`` in
   ``workbench/measure/instructions.py`` states): ``--rounds`` times, the same code counted
   from three checkouts at paths of different (random) lengths, with an environment of a
   random size padded alike on every side (as ``check --against`` pads both sides): the
   one-stage pipeline of part 2 (only its module in the checkout) and the reference stages
   ``--aa`` on ``tiny`` (the ``workbench`` package copied into each checkout). Each
   count's spread over memory layouts is printed beside it, and the spread across the three
   checkouts, (max - min) / median, per stage and round; the largest must not exceed
   ``CHECKOUT_SPREAD``.
2. **Verdicts under ``instructions <= 1.01x``**, ``--trials`` trials, each with three new
   checkouts at paths of different (random) lengths and a new environment size: the
   baseline (a one-stage pipeline, text work repeated 200 times) counted in the first; the
   identical code counted in the second; +2 % work (204 times) and +0.5 % work (201 times)
   counted in the third. Each current count is judged against the baseline by the
   product's check (``workbench.budget.verdict.check``); the status, ratio and band of
   every verdict are printed, and the closing figures: identical code must pass every
   time, +2 % breach every time, +0.5 % never breach.
3. **Cost**: the wall time of one instruction count (every memory layout, both runs per
   layout, as a check makes it) per stage/variant ``--stages`` on ``tiny``.

``--seed`` draws the checkout paths and environment sizes (part 2 with ``seed + 1``).
The exit code is 0 when the largest spread of part 1 is within ``CHECKOUT_SPREAD`` and
part 2's three outcomes hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import string
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from workbench.budget.check_result import Verdict
from workbench.budget.instructions import band_note
from workbench.budget.spec import parse_budgets
from workbench.budget.verdict import check
from workbench.measure.fingerprint import fingerprint
from workbench.measure.instructions import (
    CHECKOUT_SPREAD,
    InstructionCount,
    InstructionSettings,
    count_instructions,
    instruction_env,
    verdict_band,
)
from workbench.measure.launch import environment_size
from workbench.measure.load import busy_note
from workbench.measure.targets import TargetSpec, stage_target

ROOT = Path(__file__).resolve().parents[1]
PIPE = '''
from workbench import Pipeline, stage, workload

REPEAT = {repeat}


@workload("texts", size=10, seed=3)
def texts(n, seed):
    import random
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    return tuple(" ".join(rng.choice(words) for _ in range(40)) for _ in range(n))


@stage(input="texts", output="int")
def work(texts):
    total = 0
    for _ in range(REPEAT):
        for text in texts:
            total += len(" ".join(sorted(text.split())))
    return total


def make():
    return Pipeline.of(work, name="bandcheck")
'''
LIMIT = '[stage.work]\ninstructions = { limit = "1.01x", level = "error" }\n'
BASE_REPEAT = 200
CHANGES = (("same code", BASE_REPEAT), ("+2 %", BASE_REPEAT * 102 // 100),
           ("+0.5 %", BASE_REPEAT * 1005 // 1000))
PIPE_SPEC = TargetSpec("stage", "work", "pure", "texts", {}, "pipe:make")
FILLER = "WORKBENCH_BENCH_FILLER"


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.3f} %"


def checkouts(tmp: Path, rng: random.Random, n: int = 3) -> list[Path]:
    """``n`` empty checkout directories at paths of different random lengths."""
    lengths = sorted(rng.sample(range(1, 80), n))
    roots = []
    for i, length in enumerate(lengths):
        name = f"{i}" + "".join(rng.choice(string.ascii_lowercase) for _ in range(length))
        roots.append(tmp / name)
        roots[-1].mkdir()
    return roots


def twin_size(roots: Sequence[Path], rng: random.Random) -> int:
    """A new environment (a dummy variable of random length), and the size every side's
    environment is padded to (what ``check --against`` does for its two sides)."""
    os.environ[FILLER] = "x" * rng.randrange(0, 24000)  # the layouts' base: 16, 20 or 24 KiB
    return max(environment_size(instruction_env(0, root)) for root in roots) + 64


def count(spec: TargetSpec, root: Path, size: int) -> InstructionCount:
    c = count_instructions(spec, InstructionSettings(), root=root, env_size=size,
                           strict=True)
    assert c.instructions is not None
    return c


def spread_across(rounds: int, pairs: list[str], rng: random.Random) -> float:
    """Part 1: the largest spread across three checkouts over stages and rounds."""
    worst = 0.0
    for r in range(rounds):
        with tempfile.TemporaryDirectory(prefix="wb-spread-") as tmp:
            roots = checkouts(Path(tmp), rng)
            size = twin_size(roots, rng)
            print(f"  round {r + 1}/{rounds}: checkout paths of {len(str(roots[0]))}, "
                  f"{len(str(roots[1]))} and {len(str(roots[2]))} characters, environment "
                  f"padded to {size} bytes", flush=True)
            for root in roots:
                (root / "pipe.py").write_text(PIPE.format(repeat=BASE_REPEAT))
            for pair in ["pipe/work", *pairs]:
                if pair == "pipe/work":
                    spec = PIPE_SPEC
                else:
                    stage, variant = pair.split("/")
                    spec = stage_target(stage, variant, "tiny")
                    for root in roots:
                        if not (root / "workbench").exists():
                            shutil.copytree(ROOT / "workbench", root / "workbench",
                                            ignore=shutil.ignore_patterns("__pycache__"))
                counts = [count(spec, root, size) for root in roots]
                values = [c.instructions or 0.0 for c in counts]
                across = (max(values) - min(values)) / statistics.median(values)
                worst = max(worst, across)
                shown = ", ".join(f"{v:,.0f} (layouts {_pct(c.spread)})"
                                  for v, c in zip(values, counts, strict=True))
                print(f"    {pair}: {shown}; across checkouts {_pct(across)}", flush=True)
    return worst


def verdicts(trials: int, rng: random.Random
             ) -> tuple[dict[str, list[Verdict]], list[float], list[float]]:
    """Part 2: per change, the verdict of every trial; the spreads of the identical code
    across the first two checkouts; the bands used."""
    spec = parse_budgets(LIMIT)
    out: dict[str, list[Verdict]] = {name: [] for name, _ in CHANGES}
    spreads, bands = [], []
    for i in range(trials):
        with tempfile.TemporaryDirectory(prefix="wb-verdict-") as tmp:
            roots = checkouts(Path(tmp), rng)
            size = twin_size(roots, rng)
            (roots[0] / "pipe.py").write_text(PIPE.format(repeat=BASE_REPEAT))
            base = count(PIPE_SPEC, roots[0], size)
            print(f"  trial {i + 1:2d}/{trials}: paths of {len(str(roots[0]))}/"
                  f"{len(str(roots[1]))}/{len(str(roots[2]))} characters, environment "
                  f"{size} bytes; baseline {base.instructions:,.0f} (layouts "
                  f"{_pct(base.spread)})", flush=True)
            for (name, repeat), root in zip(CHANGES, (roots[1], roots[2], roots[2]),
                                            strict=True):
                shutil.rmtree(root / "__pycache__", ignore_errors=True)  # no stale bytecode
                (root / "pipe.py").write_text(PIPE.format(repeat=repeat))
                now = count(PIPE_SPEC, root, size)
                [verdict] = check(spec, [], instructions=[now],
                                  baseline_instructions=[base]).verdicts
                out[name].append(verdict)
                band = verdict_band(now, base)
                bands.append(band)
                if name == "same code":
                    spreads.append(abs((now.instructions or 0.0) / (base.instructions or 1.0)
                                       - 1))
                print(f"    {name:9s} {verdict.status:12s} ratio {verdict.ratio or 0:.5f}x; "
                      f"{band_note(band, CHECKOUT_SPREAD, {'current': now, 'baseline': base})}",
                      flush=True)
                if i == 0:
                    print(f"      message: {verdict.message}", flush=True)
    return out, spreads, bands


def cost(pairs: list[str]) -> None:
    """Part 3: the wall time of one count per stage/variant on tiny."""
    for pair in pairs:
        stage, variant = pair.split("/")
        c = count_instructions(stage_target(stage, variant, "tiny"), InstructionSettings(),
                               strict=True)
        print(f"  {pair}: {c.seconds:.1f} s for one count ({c.instructions or 0:,.0f} "
              "instructions per call)", flush=True)


def _tally(found: list[Verdict]) -> str:
    statuses = [v.status for v in found]
    ratios = [v.ratio or 0.0 for v in found]
    return (f"pass {statuses.count('pass')}/{len(found)}, breach "
            f"{statuses.count('breach')}/{len(found)}, undecided "
            f"{statuses.count('inconclusive')}/{len(found)}; ratios {min(ratios):.5f}x .. "
            f"{max(ratios):.5f}x")


def closing(found: dict[str, list[Verdict]], spreads: list[float], bands: list[float]
            ) -> bool:
    """Part 2's closing figures; True when identical code passed every time, +2 %
    breached every time and +0.5 % never breached."""
    print(f"   measured spread across checkouts (same code, |ratio - 1|): "
          f"{_pct(min(spreads))} .. {_pct(max(spreads))}; bands used "
          f"±{_pct(min(bands))} .. ±{_pct(max(bands))}")
    for name, _ in CHANGES:
        print(f"   {name:9s}: {_tally(found[name])}")
    same_ok = all(v.status == "pass" for v in found["same code"])
    caught = all(v.status == "breach" for v in found["+2 %"])
    quiet = not any(v.status == "breach" for v in found["+0.5 %"])
    print(f"   identical code passes every time: {'yes' if same_ok else 'NO'}; +2 % breaches "
          f"every time: {'yes' if caught else 'NO'}; +0.5 % never breaches: "
          f"{'yes' if quiet else 'NO'}")
    return same_ok and caught and quiet


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20,
                        help="trials of part 2 (the closing figures)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of three checkouts in part 1")
    parser.add_argument("--seed", type=int, default=7,
                        help="seed of the checkout paths and environment sizes")
    parser.add_argument("--aa", default="chunk/pure,retrieve/vectorized",
                        help="reference stage/variant pairs whose spread part 1 measures")
    parser.add_argument("--stages", default="",
                        help="stage/variant pairs whose counting time part 3 measures "
                        "(none by default), e.g. clean/pure,chunk/pure,embed/pure,"
                        "retrieve/vectorized,chunk/native")
    args = parser.parse_args()
    env = fingerprint()
    print(f"machine: {env['cpu_model']}, {os.cpu_count()} CPUs, Python {env['python']}")
    print(f"load before: {busy_note() or 'idle (1-minute load average below 0.5)'}")
    print(f"stated spread across checkouts (CHECKOUT_SPREAD, the band's floor): "
          f"{_pct(CHECKOUT_SPREAD)}")

    print(f"\n1. Spread across checkouts: the same code from 3 checkouts, {args.rounds} "
          "rounds")
    worst = spread_across(args.rounds, [p for p in args.aa.split(",") if p],
                          random.Random(args.seed))
    floor_ok = worst <= CHECKOUT_SPREAD
    print(f"   largest spread across checkouts: {_pct(worst)} "
          f"({'within' if floor_ok else 'OVER'} the stated {_pct(CHECKOUT_SPREAD)})")

    verdicts_ok = True
    if args.trials:
        print(f"\n2. Verdicts under `instructions <= 1.01x`, {args.trials} trials (baseline "
              "in checkout 1; same code in checkout 2; +2 % and +0.5 % in checkout 3)")
        verdicts_ok = closing(*verdicts(args.trials, random.Random(args.seed + 1)))
    os.environ.pop(FILLER, None)

    pairs = [p for p in args.stages.split(",") if p]
    if pairs:
        print("\n3. Cost of one instruction count (3 layouts x 2 runs, 2 at a time) on tiny")
        cost(pairs)
    print("\nload after (the 1-minute average includes this benchmark's own Cachegrind "
          f"runs): {busy_note() or 'idle (1-minute load average below 0.5)'}")
    ok = floor_ok and verdicts_ok
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

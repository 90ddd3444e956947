"""Instruction budgets: are counts repeatable, and does a check catch a 1 % regression?

    python benchmarks/instructions.py [--trials 20] [--stages clean/pure,chunk/pure,...]

Three parts, all printed:

1. **A/A**: ``--trials`` counts of each of the reference stages ``--aa`` (chunk/pure and
   retrieve/vectorized) on ``tiny``, each with a different environment (a dummy variable
   of random length) and, alternately, from two checkouts of this code at paths of
   different lengths, as ``check --against`` would count them. Every count must lie within
   its equal band (``workbench.measure.instructions.equal_band``: the tolerance, or the
   layout spread when wider) of the median count.
2. **+1 %**: a throwaway git repository with a one-stage pipeline (text work repeated
   ``R`` times) and an error-level rule ``instructions <= 1.005x``; HEAD repeats the work
   1 % more often than HEAD~1. ``workbench check --against HEAD~1`` runs ``--trials``
   times, as a user would (wall-time rules none, ``--max-time 0``); each must breach.
3. **Cost**: the wall time of one instruction count (as a check makes it: every memory
   layout, both runs per layout) per reference stage/variant on ``tiny``.

Instruction counts do not depend on the machine's load, but wall times in part 3 do: the
output says what else was running.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbench.measure.fingerprint import fingerprint
from workbench.measure.instructions import (
    TOLERANCE,
    InstructionCount,
    InstructionSettings,
    count_instructions,
    equal_band,
)
from workbench.measure.load import busy_note
from workbench.measure.targets import stage_target

ROOT = Path(__file__).resolve().parents[1]
PIPE = '''
from workbench import Pipeline, stage, workload

REPEAT = {repeat}


@workload("texts", size=20, seed=3)
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
    return Pipeline.of(work, name="onepercent")
'''
BUDGETS = '[stage.work]\ninstructions = { limit = "1.005x", level = "error" }\n'
PYPROJECT = '[tool.workbench]\npipeline = "pipe:make"\nworkload = "texts"\n'
BASE_REPEAT = 100


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def aa(pair: str, trials: int) -> list[InstructionCount]:
    """Counts of ``pair`` from two checkouts (paths of different lengths), each with an
    environment of a different size."""
    rng = random.Random(7)
    stage, variant = pair.split("/")
    spec = stage_target(stage, variant, "tiny")
    with tempfile.TemporaryDirectory(prefix="wb-aa-") as tmp:
        roots = [Path(tmp) / "a", Path(tmp) / "a-much-longer-checkout-path"]
        for root in roots:
            shutil.copytree(ROOT / "workbench", root / "workbench",
                            ignore=shutil.ignore_patterns("__pycache__"))
        counts = []
        for i in range(trials):
            os.environ["WORKBENCH_BENCH_FILLER"] = "x" * rng.randrange(0, 3000)
            c = count_instructions(spec, InstructionSettings(), root=roots[i % 2],
                                   strict=True)
            assert c.instructions is not None
            counts.append(c)
            print(f"  A/A {i + 1:2d}/{trials}: {c.instructions:,.0f} instructions per call "
                  f"(layout spread {100 * c.settings['layout_spread']:.3f}%, "
                  f"{c.seconds:.0f} s)", flush=True)
        os.environ.pop("WORKBENCH_BENCH_FILLER", None)
    return counts


def one_percent(trials: int) -> tuple[list[int], list[float], list[float]]:
    """Exit codes, ratios and wall times of ``check --against HEAD~1`` on +1 % work."""
    codes, ratios, walls = [], [], []
    with tempfile.TemporaryDirectory(prefix="wb-1pct-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        _git(repo, "init", "-q")
        (repo / "budgets.toml").write_text(BUDGETS)
        (repo / "pyproject.toml").write_text(PYPROJECT)
        for repeat, message in ((BASE_REPEAT, "the work"),
                                (BASE_REPEAT * 101 // 100, "1 % more work")):
            (repo / "pipe.py").write_text(PIPE.format(repeat=repeat))
            _git(repo, "add", "-A")
            _git(repo, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", message)
        out = Path(tmp) / "check.json"
        for i in range(trials):
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, "-m", "workbench.cli", "check", "--against", "HEAD~1",
                 "--workers", "2", "--samples", "3", "--max-time", "0", "--no-history",
                 "--no-progress", "--json", str(out)],
                cwd=repo, capture_output=True, text=True)
            walls.append(time.monotonic() - started)
            codes.append(done.returncode)
            verdicts = json.loads(out.read_text())["verdicts"] if out.is_file() else []
            counted = [v for v in verdicts if v["rule"]["metric"] == "instructions"]
            ratio = counted[0]["ratio"] if counted and counted[0]["ratio"] else float("nan")
            status = counted[0]["status"] if counted else f"no verdict: {done.stderr[-300:]}"
            ratios.append(ratio)
            print(f"  +1 % {i + 1:2d}/{trials}: {status}, ratio {ratio:.4f}, exit "
                  f"{done.returncode}, {walls[-1]:.0f} s", flush=True)
    return codes, ratios, walls


def cost(pairs: list[str]) -> list[tuple[str, float, float]]:
    out = []
    for pair in pairs:
        stage, variant = pair.split("/")
        c = count_instructions(stage_target(stage, variant, "tiny"), InstructionSettings(),
                               strict=True)
        assert c.instructions is not None
        out.append((pair, c.seconds, c.instructions))
        print(f"  {pair}: {c.seconds:.1f} s for one count ({c.instructions:,.0f} "
              "instructions per call)", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--aa", default="chunk/pure,retrieve/vectorized",
                        help="stage/variant pairs counted repeatedly in part 1")
    parser.add_argument("--stages", default="clean/pure,chunk/pure,embed/pure,"
                        "retrieve/vectorized,chunk/native",
                        help="stage/variant pairs whose counting time part 3 measures")
    args = parser.parse_args()
    env = fingerprint()
    print(f"machine: {env['cpu_model']}, {os.cpu_count()} CPUs, Python {env['python']}")
    print(f"load before: {busy_note() or 'idle (1-minute load average below 0.5)'}")
    print(f"tolerance: {100 * TOLERANCE:.3g}% (relative)")

    aa_ok = True
    for pair in [p for p in args.aa.split(",") if p]:
        print(f"\n1. A/A: {args.trials} counts of {pair} on tiny, varied environment "
              "and checkout path")
        counts = aa(pair, args.trials)
        values = [c.instructions or 0.0 for c in counts]
        mid = statistics.median(values)
        middle = counts[values.index(sorted(values)[len(values) // 2])]
        worst = max(abs(v / mid - 1) for v in values)
        bands = [equal_band(c, middle) for c in counts]
        inside = sum(1 for v, b in zip(values, bands, strict=True) if abs(v / mid - 1) <= b)
        plain = sum(1 for v in values if abs(v / mid - 1) <= TOLERANCE)
        aa_ok = aa_ok and inside == len(counts)
        print(f"   median {mid:,.0f}; largest deviation {100 * worst:.4f}%; range "
              f"{min(values):,.0f} .. {max(values):,.0f}; layout spreads "
              f"{100 * min(c.spread for c in counts):.3f}% .. "
              f"{100 * max(c.spread for c in counts):.3f}%")
        print(f"   within the equal band: {inside}/{len(counts)}; within the plain "
              f"tolerance {100 * TOLERANCE:.3g}%: {plain}/{len(counts)}")

    print(f"\n2. +1 % work, `check --against HEAD~1` with instructions <= 1.005x, "
          f"{args.trials} trials")
    codes, ratios, walls = one_percent(args.trials)
    caught = sum(1 for c in codes if c == 1)
    print(f"   caught (exit 1, breach): {caught}/{len(codes)}; ratios "
          f"{min(ratios):.4f} .. {max(ratios):.4f}; median wall time of a check "
          f"{statistics.median(walls):.0f} s")

    print("\n3. cost of one instruction count (3 layouts x 2 runs, 2 at a time) on tiny")
    cost([p for p in args.stages.split(",") if p])
    print("\nload after (the 1-minute average includes this benchmark's own Cachegrind "
          f"runs): {busy_note() or 'idle (1-minute load average below 0.5)'}")
    ok = aa_ok and caught == len(codes)
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

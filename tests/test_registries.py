"""One registration per kind: a profiler and a metric declared in this file alone appear
in every front end and in the results, with nothing else edited.

The profiler ("tally") times a stage variant's calls with the workbench's own in-process
measurement; the metric ("latency_p90") limits the 90th percentile of the time per call.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, ClassVar, Self

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from result_samples import measurement

from workbench import app
from workbench.budget.spec import parse_budgets
from workbench.budget.verdict import check
from workbench.cli import main
from workbench.measure.config import MeasureConfig
from workbench.measure.metrics import Metric, register_metric, unregister_metric
from workbench.notebook import session as sessions
from workbench.notebook.magics import WorkbenchMagics
from workbench.notebook.panel.main import build_panel
from workbench.profile import registry
from workbench.project import Project
from workbench.refs import REFERENCE_PIPELINE
from workbench.render import Renderer
from workbench.results import Result, result_from_json

# -- the throwaway profiler: a result, its renderer and the function, all here ------------


@dataclass(frozen=True)
class Tally(Result):
    kind: ClassVar[str] = "call-tally"
    schema_version: ClassVar[int] = 1

    stage: str
    variant: str
    calls: int
    median_ns: float

    def _payload(self) -> dict[str, Any]:
        return {"stage": self.stage, "variant": self.variant, "calls": self.calls,
                "median_ns": self.median_ns}

    @classmethod
    def _from_payload(cls, data: Mapping[str, Any]) -> Self:
        return cls(str(data["stage"]), str(data["variant"]), int(data["calls"]),
                   float(data["median_ns"]))


def _headline(t: Tally) -> str:
    return f"tally of {t.stage}/{t.variant}: {t.calls} calls"


RENDERERS = {"call-tally": Renderer(
    _headline, lambda t, **_: f"{_headline(t)}, median {t.median_ns:.0f} ns",
    lambda t, **_: f"<p class='tally'>{escape(_headline(t))}</p>")}


def tally(stage: str, workload: Any, variant: str = "pure", *, pipeline: Any = None,
          params: Any = None, threads: int = 1, timeout: float = 300.0,
          keep_artifacts: bool = False, calls: int = 3) -> Tally:
    m = app.measure(stage, workload, variant=variant, pipeline=pipeline, params=params,
                    config=MeasureConfig(workers=1, samples=calls, warmup_calls=1,
                                         warmup_seconds=0.0, mode="inprocess",
                                         timeout=timeout, threads=threads))
    assert m.ok, m.error_text()
    median = m.summary().median.value
    return Tally(stage, variant, len(m.samples), float(median or 0.0))


TALLY = registry.Profiler(
    "tally", "call-tally", tally, Tally, RENDERERS,
    "count and time a few calls of a stage variant", ".json or .txt",
    "Tally", "Run tally", "times 2 calls in this process", {"calls": 2},
    (registry.Option("calls", "positive_int", 3, "calls to time (default 3)"),))
P90 = Metric("latency_p90", "time", "lower", 90, "90th percentile time per call",
             flags=("p90",), label="p90 latency")


@pytest.fixture
def registered() -> Iterator[None]:
    registry.register(TALLY)
    register_metric(P90)
    try:
        yield
    finally:
        registry.unregister("tally")
        unregister_metric("latency_p90")


def _cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(argv)
    return code, out.getvalue()


# -- the profiler ------------------------------------------------------------------------


def test_a_registered_profiler_is_a_command_a_service_and_a_result(
        registered: None, tmp_path: Path) -> None:
    code, top = _cli(["--help"])
    assert code == 0 and "tally" in top and "count and time a few calls" in top
    code, own = _cli(["tally", "--help"])
    assert code == 0 and "--calls" in own and "calls to time (default 3)" in own
    out = tmp_path / "t.json"
    code, printed = _cli(["tally", "clean", "-w", "tiny", "--calls", "4", "-o", str(out)])
    assert code == 0, printed
    assert "tally of clean/pure: 4 calls, median" in printed
    again = result_from_json(json.loads(out.read_text()))  # the kind loads by its record
    assert isinstance(again, Tally) and again.calls == 4
    assert "<p class='tally'>tally of clean/pure: 4 calls</p>" in again.to_html()
    code, bad = _cli(["tally", "clean", "--calls", "0"])
    assert code == 2 and "--calls" in bad  # its option is validated like any flag
    done = app.profile("tally", "clean", "tiny", calls=2)
    assert isinstance(done, Tally) and done.calls == 2
    registry.unregister("tally")
    code, top = _cli(["--help"])
    assert "tally" not in top  # and gone again without a trace
    with pytest.raises(Exception, match="profile kind 'tally' is unknown; choose flame, "
                                        "memory or lines"):
        app.profile("tally", "clean", "tiny")


def test_a_registered_profiler_is_a_wb_command_and_a_panel_tab(
        registered: None, shell: InteractiveShell, tmp_path: Path) -> None:
    project = Project(root=tmp_path, pipeline=REFERENCE_PIPELINE, workload="tiny")
    session = sessions.reset(sessions.Session(project, REFERENCE_PIPELINE, "tiny"))
    try:
        with capture_output():
            done = shell.run_line_magic("wb", "tally clean --calls 2")
        assert isinstance(done, Tally) and done.calls == 2
        assert session.evidence_for("clean") == (done,)  # a decision's evidence, too
        assert "%wb tally" in (WorkbenchMagics.wb.__doc__ or "")
        panel = build_panel(workers=1, samples=3)
        assert list(panel.tabs.tab.titles) == ["Timing", "Fusion", "Flame graph", "Memory",
                                                "Lines", "Tally"]
        assert "times 2 calls in this process" in panel.tabs.targets["tally"].value
        panel.tabs.buttons["tally"].click()
        assert panel.wait(120)
        assert "tally of clean/pure: 2 calls" in panel.tabs.outputs["tally"].value
    finally:
        sessions.reset()


# -- the metric --------------------------------------------------------------------------


def test_a_registered_metric_is_in_the_grammar_the_flags_and_the_verdicts(
        registered: None) -> None:
    spec = parse_budgets('[stage.clean]\nlatency_p90 = "2ms"\n', stages=["clean"])
    (rule,) = spec.rules
    assert (rule.metric, rule.kind, rule.value) == ("latency_p90", "absolute", 2e6)
    with pytest.raises(Exception, match="latency_p90"):
        parse_budgets('[stage.clean]\nlatency_p90 = "2MB"\n', stages=["clean"])
    code, text = _cli(["decide", "--help"])
    assert code == 0 and "--p90" in text
    with pytest.raises(Exception, match="metric 'bad': kind 'seconds' is not one of time"):
        register_metric(Metric("bad", "seconds", "lower", 90))  # type: ignore[arg-type]
    with pytest.raises(Exception, match="flag --p90 already sets latency_p90"):
        register_metric(Metric("other_p90", "time", "lower", 90, flags=("p90",)))
    fast = measurement("pure", 1_000_000, workers=6, stage="clean")
    result = check(spec, [fast])
    (verdict,) = result.verdicts
    assert verdict.status == "pass" and verdict.rule.metric == "latency_p90"
    assert "p90 latency" in verdict.message
    assert "latency_p90" in result.to_text()


def test_a_registered_metric_is_a_budget_magic_flag(registered: None,
                                                   shell: InteractiveShell) -> None:
    with capture_output():
        shell.run_cell("import math\ndef work():\n    return sum(math.sqrt(x) for x in "
                       "range(2000))\n")
        ran = shell.run_cell("%%budget --p90 10s --workers 3 --samples 20 "
                             "--warmup-seconds 0.05 --name p90\nwork()\n")
    assert ran.error_in_exec is None and ran.error_before_exec is None
    block = sessions.current().last("budget-block")
    assert block is not None
    (verdict,) = block.check.verdicts  # type: ignore[attr-defined]
    assert verdict.rule.metric == "latency_p90" and verdict.status == "pass", verdict.message
    assert "--p90" in (WorkbenchMagics.budget.__doc__ or "")

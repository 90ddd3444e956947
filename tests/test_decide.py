"""Recording decisions through the command line, in a project of its own: real
measurements of the reference pipeline's ``chunk`` on ``tiny`` (2 workers x 5 samples), the
log, the budgets file that follows a decision, listing, showing, exporting and running
with the decided variants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.decisions import DecisionLog, build_decision
from workbench.errors import InvalidInputError

SMALL = ["--workers", "2", "--samples", "5", "--no-progress"]
BUDGETS = """\
# Budgets of the reference pipeline (a comment that must survive every decision)

[defaults]
peak_rss = { limit = "1.5x", level = "warn" }   # inline comment on the defaults

# chunk: pure and native are held to their p50
[stage.chunk]
variant = ["pure", "native"]
latency_p50 = { limit = "1.1x", level = "error" }  # the stage's own rule
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.workbench]\npipeline = "workbench.rag.reference:reference_pipeline"\n'
        'workload = "tiny"\ndecisions = "perf/log.jsonl"\n', encoding="utf-8")
    (tmp_path / "budgets.toml").write_text(BUDGETS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_decide_measures_records_updates_budgets_and_the_log_reads_back(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decide", "chunk", "vectorized", "--because", "vectorized is simpler to "
                 "keep than native and fast enough", "--latency", "50ms", *SMALL]) == 0
    out, err = capsys.readouterr()
    assert "measured every variant of chunk on tiny as the evidence" in err
    (record,) = DecisionLog(project / "perf" / "log.jsonl").read().records
    assert f"recorded {record.id} in {project / 'perf' / 'log.jsonl'}" in out
    assert (record.stage, record.variant, record.workload) == ("chunk", "vectorized", "tiny")
    assert record.pipeline == "workbench.rag.reference:reference_pipeline"
    assert [a.variant for a in record.alternatives] == ["pure", "cached", "vectorized", "native"]
    assert all(a.equivalent for a in record.alternatives)
    (comparison,) = record.evidence_of("comparison")
    assert comparison.variants == (  # type: ignore[attr-defined]
        "pure", "cached", "vectorized", "native")
    assert record.suggestion.variant is not None and record.hint is not None
    assert record.environment.get("cpu_model") and record.author
    # held to the given limit (replacing the stage's p50 rule), written to the budgets file
    assert [(r.metric, r.kind, r.value, r.level) for r in record.limits] == [
        ("latency_p50", "absolute", 50e6, "error")]
    text = (project / "budgets.toml").read_text(encoding="utf-8")
    for comment in ("# Budgets of the reference pipeline", "# inline comment on the defaults",
                    "# chunk: pure and native are held", "# the stage's own rule"):
        assert comment in text
    from workbench.budget.spec import load_budgets

    spec = load_budgets(project / "budgets.toml")
    own = [(r.metric, r.value) for r in spec.rules_for("chunk", "vectorized")
           if r.stage == "chunk"]
    assert own == [("latency_p50", 50e6)]
    assert record.budgets_file == str(project / "budgets.toml")

    # a second decision on the same evidence (a file): nothing measured, supersedes the first
    evidence = project / "chunk.json"
    evidence.write_text(comparison.dumps(), encoding="utf-8")
    assert main(["decide", "chunk", "pure", "--because", "pure after all",
                 "--evidence", str(evidence), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "measured every variant" not in err and "no limits were given" in err
    first, second = DecisionLog(project / "perf" / "log.jsonl").read().records
    assert second.supersedes == first.id and second.evidence_of("comparison") == (comparison,)

    assert main(["decisions"]) == 0
    listed = capsys.readouterr().out
    assert f"superseded by {second.id}" in listed and "current" in listed
    assert main(["decisions", "list", "--stage", "embed"]) == 0
    assert "no decisions match" in capsys.readouterr().out
    assert main(["decisions", "show", second.id[:8]]) == 0
    assert "pure after all" in capsys.readouterr().out
    assert main(["decisions", "export", "--html", "log.html", "--since", "2026-01-01"]) == 0
    assert "(2 decisions)" in capsys.readouterr().out
    page = (project / "log.html").read_text(encoding="utf-8")
    assert first.id in page and second.id in page and "<script" not in page

    assert main(["run", "--decided", "--select", "clean=native"]) == 0
    ran = capsys.readouterr().out
    assert "chunk" in ran and "pure" in ran
    from workbench import app

    pipe_run = app.run(None, "tiny", decided=project / "perf" / "log.jsonl")
    assert dict(pipe_run.selection)["chunk"] == "pure"


@pytest.mark.parametrize(("argv", "said"), [
    (["decide", "chunk", "pure", "--because", "   "], "the rationale (--because) is empty"),
    (["decide", "chunk", "gpu", "--because", "x"], "unknown variant 'gpu'"),
    (["decide", "chunnk", "pure", "--because", "x"], "unknown stage 'chunnk'"),
    (["decide", "chunk", "pure", "--because", "x", "--latency", "5 parsecs"], "--latency"),
    (["decide", "chunk", "pure", "--because", "x", "--evidence", "missing.json"],
     "missing.json"),
    (["decisions", "list", "--since", "last tuesday"], "--since 'last tuesday' is not a date"),
    (["decisions", "show", "d-nothing"], "no decision 'd-nothing'"),
])
def test_bad_input_is_a_usage_error_naming_it_and_nothing_is_written(
        project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], said: str) -> None:
    before = (project / "budgets.toml").read_bytes()
    assert main(argv) == 2
    assert said in capsys.readouterr().err
    assert not (project / "perf" / "log.jsonl").exists()
    assert (project / "budgets.toml").read_bytes() == before


def test_evidence_that_is_not_a_result_is_refused(project: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (project / "bad.json").write_text(json.dumps({"kind": "poem"}), encoding="utf-8")
    assert main(["decide", "chunk", "pure", "--because", "x", "--evidence", "bad.json"]) == 2
    assert "--evidence bad.json: unknown result kind 'poem'" in capsys.readouterr().err
    assert main(["run", "--decided"]) == 2
    assert "no decision log at" in capsys.readouterr().err


def test_a_variant_that_differs_from_pure_cannot_be_chosen() -> None:
    from result_samples import EVIL, STAGE, comparison

    made = comparison()
    with pytest.raises(InvalidInputError, match="is not equivalent to pure"):
        build_decision(stage=STAGE, variant=f"native{EVIL}", rationale="fast",
                       pipeline="p:q", comparison=made)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="was not measured in the evidence"):
        build_decision(stage=STAGE, variant="vectorized", rationale="fast",
                       pipeline="p:q", comparison=made)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="the comparison is of stage"):
        build_decision(stage="embed", variant="pure", rationale="fast",
                       pipeline="p:q", comparison=made)  # type: ignore[arg-type]

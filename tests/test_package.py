"""Packaging promises: a light `import workbench`, an explicit public API, a CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import workbench
from workbench.cli import main

HEAVY = ("torch", "transformers", "polars", "numba", "IPython", "ipywidgets", "papermill")


def test_import_workbench_loads_no_heavy_library() -> None:
    # A fresh interpreter: this test process has imported plenty already.
    code = (
        "import sys, json, workbench, workbench.stages, workbench.pipeline; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == []


def test_core_modules_do_not_import_front_end_libraries() -> None:
    code = (
        "import sys, json; import workbench.rag.reference, workbench.rag.clean, "
        "workbench.rag.chunk, workbench.rag.embed, workbench.cli, workbench.measure.engine, "
        "workbench.render.measure, workbench.render.plots, workbench.measure.worker, "
        "workbench.decisions.timeline, workbench.decisions.budget_follow, "
        "workbench.cli.deciding, workbench.cli.reporting, workbench.reporting.runner, "
        "workbench.reporting.pages, workbench.reporting.summary, workbench.reporting.params; "
        "print(json.dumps([m for m in ('IPython', 'ipywidgets', 'papermill', 'torch', "
        "'transformers', 'polars', 'numba') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == []


def test_the_core_imports_nothing_from_the_reference_pipeline() -> None:
    # measure/, profile/, budget/, decisions/ and the model know no RAG: the reference
    # pipeline is one user of them, loaded only when a command names it.
    code = (
        "import sys, json, pkgutil, importlib, workbench.measure, workbench.profile, "
        "workbench.budget, workbench.decisions\n"
        "for pkg in (workbench.measure, workbench.profile, workbench.budget, "
        "workbench.decisions):\n"
        "    for m in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(pkg.__name__ + '.' + m.name)\n"
        "import workbench.workloads, workbench.shipping, workbench.refs, workbench.runs\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('workbench.rag'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout) == []
    for package in ("measure", "profile", "budget", "decisions"):
        for path in (Path(workbench.__file__).parent / package).glob("*.py"):
            assert "workbench.rag" not in path.read_text(), path


def test_public_api_is_explicit() -> None:
    import types

    exported = {
        name for name, value in vars(workbench).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert exported | {"__version__"} == set(workbench.__all__)


def test_cli_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "run" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert workbench.__version__ in capsys.readouterr().out


def test_cli_without_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--workload", "huge"], "unknown workload 'huge'; choose one of: "),
        (
            ["run", "--workload", "tiny", "--select", "chunk=turbo"],
            "unknown variant 'turbo' for stage 'chunk'; choose one of: pure, cached, vectorized, "
            "native",
        ),
        (["run", "--select", "chunk"], "expected STAGE=VARIANT (e.g. chunk=native); got 'chunk'"),
        (["run", "--workload", "tiny", "--model", "bert"], "embedding model 'bert' is unknown"),
        (["run", "--param", "chunk.size=8", "--param", "chunk.overlap=8"],
         "0 <= overlap < size (8); got 8"),
        (["run", "--param", "size=8"], "expected STAGE.KEY=VALUE (e.g. chunk.size=128); got"),
        (["run", "--param", "chunky.size=8"], "unknown stage 'chunky'; choose one of: clean,"),
        (["run", "--param", "chunk.sise=8"],
         "unknown parameter 'sise' for stage 'chunk'; choose one of: overlap, size"),
        (["compare", "chunk", "--pipeline", "nowhere_at_all:make"],
         "cannot import module 'nowhere_at_all'"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_cli_usage_errors_exit_2_with_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_cli_runs_the_pipeline_end_to_end(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "run.json"
    code = main(["run", "--workload", "tiny", "--all", "vectorized", "--param", "chunk.size=64",
                 "--json", str(out_json)])
    assert code == 0
    text = capsys.readouterr().out
    assert "on tiny: 40 items in" in text
    assert "clean/vectorized+chunk/vectorized (fused)" in text
    data = json.loads(out_json.read_text())
    assert data["schema_version"] == 1 and data["kind"] == "pipeline-run"
    assert data["selection"] == {"clean": "vectorized", "chunk": "vectorized",
                                 "embed": "vectorized", "retrieve": "vectorized"}
    assert [t["stages"] for t in data["timings"]] == [["clean", "chunk"], ["embed"],
                                                      ["retrieve"]]
    assert data["timings"][-1]["items_out"] == 16  # one result list per query
    assert data["output"].startswith("tuple (16 items, ((Hit(")
    assert data["timings"][0]["items_out"] > 3 * 208  # 64-character chunks, not 256


def test_console_script_is_installed() -> None:
    out = subprocess.run(["workbench", "workloads"], capture_output=True, text=True, check=True)
    assert "tiny" in out.stdout and "docs" in out.stdout

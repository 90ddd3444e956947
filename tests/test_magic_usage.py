"""A magic's usage error, wherever the notebook runs, and what comes (not) before it.

- Under papermill (and so ``workbench report``) the error's reason reaches the exception and
  the report's summary; a kernel asked as a person's front end asks keeps IPython's
  one-line ``UsageError``. Real kernels, real papermill.
- A notebook parameter holding a space goes into a magic's line (quoted, and for
  ``%%budget``'s limits unquoted too).
- No busy-machine warning and no progress bar before a usage error; both once measuring
  begins. The machine is made to look busy by faking the load average.

The measured cells run in the kernel (``--inprocess``) or in 2 small workers, to stay quick.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from notebook_files import own_notebook

import workbench.notebook.session as sessions
from workbench.budget.budgeted_block import BudgetedBlock
from workbench.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
QUICK = "--inprocess --workers 2 --samples 5 --warmup-seconds 0.05"
SMALL = "--workers 2 --samples 5 --warmup-seconds 0.05"
FAST_REASON = "%%budget: --latency: 'fast' is not a number followed by an optional unit"


# -- in a notebook a program runs -----------------------------------------------------------

def execute(source: Path, out: Path, **parameters: Any) -> Any:
    pm.execute_notebook(str(source), str(out), parameters=parameters, cwd=str(out.parent),
                        kernel_name="python3", progress_bar=False)
    return nbformat.read(out, as_version=4)


@pytest.mark.kernel
def test_a_usage_error_under_papermill_carries_its_reason(tmp_path: Path) -> None:
    source = own_notebook(tmp_path / "bad.ipynb", "%load_ext workbench",
                      f"%%budget --latency fast {QUICK}\ntotal = sum(range(100))")
    with pytest.raises(pm.PapermillExecutionError) as info:
        execute(source, tmp_path / "bad.out.ipynb")
    error = info.value
    assert error.ename == "MagicUsageError" and error.exec_count == 3
    assert error.evalue.startswith(FAST_REASON)
    assert f"MagicUsageError: {FAST_REASON}" in str(error)  # the text a CI log shows
    # one line, no traceback through the workbench's code
    nb = nbformat.read(tmp_path / "bad.out.ipynb", as_version=4)
    (shown,) = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(shown.traceback) == 1


@pytest.mark.kernel
def test_a_report_counts_a_usage_error_as_failed_with_its_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # as a user of this repository runs it
    source = own_notebook(tmp_path / "bad.ipynb", "%load_ext workbench",
                      f"%%budget --latency fast {QUICK}\ntotal = sum(range(100))")
    out = tmp_path / "reports"
    assert main(["report", "-n", str(source), "--out", str(out), "--no-progress"]) == 3
    (summary,) = out.glob("*/summary.json")
    (run,) = json.loads(summary.read_text())["notebooks"]
    assert run["status"] == "failed"  # not "breach": no budget was judged
    assert run["error"]["ename"] == "MagicUsageError"
    assert run["error"]["evalue"].startswith(FAST_REASON) and run["error"]["cell"] == 3


@pytest.mark.kernel
def test_a_limit_parameter_holding_a_space_goes_into_budget_lines(tmp_path: Path) -> None:
    # written as the docs say: quoted ({name!r}), which every flag takes; %%budget's limits
    # also take the value unquoted
    source = own_notebook(
        tmp_path / "limits.ipynb", "%load_ext workbench",
        f"%%budget --latency {{latency_limit!r}} --name quoted {QUICK}\n"
        "total = sum(range(100))",
        f"%%budget --latency {{latency_limit}} --name unquoted {QUICK}\n"
        "total = sum(range(100))",
        parameters='latency_limit = "1 s"')
    nb = execute(source, tmp_path / "limits.out.ipynb", latency_limit="10 s")
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not any(o.output_type == "error" for o in outputs)
    blocks = [o["data"]["text/plain"] for o in outputs
              if "application/vnd.workbench.budget-block+json" in o.get("data", {})]
    assert len(blocks) == 2 and all("<= 10 s" in b for b in blocks), blocks


@pytest.fixture(scope="module")
def kernel() -> Iterator[Any]:
    """A kernel with the extension loaded, and a client that asks it to run code."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply, _ = ask(client, "%load_ext workbench", allow_stdin=False)
        assert reply["status"] == "ok", reply
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def ask(client: Any, code: str, *,
        allow_stdin: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The execute reply and the cell's outputs (streams and errors)."""
    msg_id = client.execute(code, allow_stdin=allow_stdin)
    reply = client.get_shell_msg(timeout=60)["content"]
    outputs = []
    while True:
        msg = client.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return reply, outputs
        if msg["msg_type"] in ("stream", "error"):
            outputs.append({"type": msg["msg_type"], **msg["content"]})


@pytest.mark.kernel
def test_a_front_end_a_person_types_into_keeps_the_one_line_usage_error(kernel: Any) -> None:
    # JupyterLab, Notebook and VS Code ask with allow_stdin (input() works there)
    reply, outputs = ask(kernel, "%wb compare chunk --workers 0", allow_stdin=True)
    assert reply["ename"] == "UsageError"
    assert outputs == [{"type": "stream", "name": "stderr", "text": "UsageError: argument "
                        "--workers: expected a positive integer, got 0\n"}]
    # a batch executor (nbclient, so papermill) asks without: an error output with the reason
    reply, outputs = ask(kernel, "%wb compare chunk --workers 0", allow_stdin=False)
    assert reply["ename"] == "MagicUsageError"
    (error,) = outputs
    assert error["type"] == "error" and error["ename"] == "MagicUsageError"
    assert error["evalue"] == "argument --workers: expected a positive integer, got 0"


# -- in this process's IPython shell --------------------------------------------------------

@pytest.fixture(autouse=True)
def _fresh(fresh_session: None) -> None:
    """Every test here in a fresh session of its own directory."""


class Ran:
    def __init__(self, shell: InteractiveShell, source: str) -> None:
        with capture_output() as cap:
            result = shell.run_cell(source, store_history=True)
        self.error = result.error_in_exec
        self.stdout: str = cap.stdout
        self.bundles: list[dict[str, Any]] = [o.data for o in cap.outputs]


def test_a_limit_holding_a_space_is_one_limit_quoted_or_not(shell: InteractiveShell) -> None:
    # a notebook parameter as papermill injects it, interpolated as it is and quoted
    assert Ran(shell, 'latency_limit = "10 s"\nrss_limit = "64 GB"').error is None
    for line in ("--latency {latency_limit} --rss {rss_limit}",
                 "--latency {latency_limit!r} --rss {rss_limit!r}",
                 "--latency 10 s --rss '64 GB'"):
        ran = Ran(shell, f"%%budget {line} {QUICK}\ntotal = sum(range(100))\n")
        assert ran.error is None, (line, ran.error)
        block = sessions.current().last("budget-block")
        assert isinstance(block, BudgetedBlock)
        limits = {v.rule.metric: v.rule.value for v in block.check.verdicts}
        assert limits == {"latency_p50": 10e9, "peak_rss": 64e9}, line


@pytest.mark.parametrize("source", [
    "%wb compare tokenize",
    "%wb compare chunk -w nosuch",
    "%wb compare chunk --param chunk.bogus=1",
    "%wb sweep tokenize --sizes 10,20,30",
    "%wb check --budgets nosuch.toml",
    "%wb baseline --budgets nosuch.toml",
    "%wb decide tokenize pure --because x",
    "%%budget --inprocess --stage chunk --against pure -w nosuch --latency 1.1x\ntotal = 1\n",
    # every other magic and command, each with one bad input
    "%wb", "%wb nosuch", "%wb compare chunk --variants nosuch", "%wb compare chunk -w len",
    "%wb compare chunk --workers 0", "%wb sweep chunk --sizes 10,20,30 -w nosuch",
    "%wb flame nosuch", "%wb flame chunk --variant nosuch", "%wb memory chunk -w nosuch",
    "%wb lines chunk -w nosuch", "%wb lines chunk --function nosuch", "%wb check -w nosuch",
    "%wb baseline -w nosuch", "%wb run -w nosuch", "%wb run --select chunk=nosuch",
    "%wb select chunk=nosuch", "%wb use -w nosuch", "%wb use --pipeline nosuch:x",
    "%wb panel -w nosuch", "%wb panel --workers 0", "%wb stages --pipeline nosuch:x",
    "%wb workloads --pipeline nosuch:x", "%wb history chunk --metric nosuch",
    "%wb decide chunk pure", "%wb decisions show nosuch", "%wb session extra",
    "%%budget --latency fast\ntotal = 1\n", "%%budget --stage nosuch --latency 1ms\ntotal = 1\n",
    "%%budget --against nosuch --latency 1.1x\ntotal = 1\n", "%%budget --workers 0\ntotal = 1\n",
])
def test_a_usage_error_comes_before_any_warning_or_progress_bar(
        shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (5.0, 5.0, 5.0))  # the machine looks busy
    ran = Ran(shell, source)
    assert isinstance(ran.error, UsageError), ran.error
    assert ran.stdout == "" and ran.bundles == []  # no warning, no progress bar


def test_the_busy_warning_and_the_bar_come_when_measuring_begins(
        shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (5.0, 5.0, 5.0))
    ran = Ran(shell, f"%wb compare clean --variants vectorized {SMALL}")
    assert ran.error is None, ran.error
    assert ran.stdout.startswith("WARNING: the machine is busy: 1-minute load average 5.00")
    assert any("application/vnd.jupyter.widget-view+json" in b for b in ran.bundles)  # the bar

"""Measuring on a Dask cluster: a real ``LocalCluster`` of 2 worker processes started here,
real fresh measurement workers on its nodes, a real worker killed mid-run."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench import app
from workbench.cli import main
from workbench.cluster.address import ENV_VARIABLE, check_address, cluster_address
from workbench.cluster.connect import Cluster, connect
from workbench.cluster.fanout import ClusterFanout
from workbench.cluster.parallel import partition
from workbench.errors import ExecutionError, InvalidInputError
from workbench.measure.config import MeasureConfig
from workbench.measure.measurement import Measurement

PIPE = "cluster_pipeline:make"
QUICK = MeasureConfig(workers=5, samples=8, warmup_calls=1, warmup_seconds=0.02,
                      timeout=60)


def _local_cluster(workers: int) -> Any:
    """A real LocalCluster of ``workers`` single-threaded worker processes (no dashboard
    on a fixed port: two may run at once)."""
    import distributed

    return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                    dashboard_address=":0")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a LocalCluster of 2 worker processes."""
    with _local_cluster(2) as local:
        yield str(local.scheduler_address)


@pytest.fixture
def cluster(scheduler: str) -> Iterator[Cluster]:
    with connect(scheduler) as connected:
        yield connected


def _nodes(m: Measurement) -> set[str]:
    return {str(r.fingerprint.get("node")) for r in m.runs}


# -- addresses -------------------------------------------------------------------------

@given(host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z0-9-]{1,10}){0,2}", fullmatch=True),
       port=st.integers(1, 65535))
def test_a_host_and_port_is_a_tcp_address_and_a_bad_port_is_refused(host: str,
                                                                     port: int) -> None:
    assert check_address(f"{host}:{port}") == f"tcp://{host}:{port}"
    assert check_address(f"tls://{host}:{port}") == f"tls://{host}:{port}"
    with pytest.raises(InvalidInputError, match=rf"'{host}:{port + 65536}'.*tcp://HOST:PORT"):
        check_address(f"{host}:{port + 65536}")


@pytest.mark.parametrize("bad", ["sched", "http://sched:8786", "tcp://sched", "local:0",
                                 "local:x", ""])
def test_a_bad_address_names_the_value_and_what_is_accepted(bad: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        check_address(bad, "--cluster")
    assert f"--cluster {bad!r}" in str(raised.value) or "local:N needs N" in str(raised.value)
    assert "local" in str(raised.value)


def test_the_flag_wins_over_the_project_which_wins_over_the_environment() -> None:
    env = {ENV_VARIABLE: "tcp://env:1"}
    assert cluster_address("tcp://flag:1", "tcp://toml:1", env) == "tcp://flag:1"
    assert cluster_address(None, "tcp://toml:1", env) == "tcp://toml:1"
    assert cluster_address(None, None, env) == "tcp://env:1"
    assert cluster_address(None, None, {}) is None
    with pytest.raises(InvalidInputError, match=ENV_VARIABLE):
        cluster_address(None, None, {ENV_VARIABLE: "nonsense"})


def test_an_unreachable_scheduler_exits_3_naming_it(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    code = main(["compare", "chunk", "--cluster", f"tcp://127.0.0.1:{port}", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 3
    assert f"tcp://127.0.0.1:{port}" in err and "cannot reach the Dask scheduler" in err
    assert time.monotonic() - started < 15


def test_inprocess_cannot_run_on_a_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "chunk", "--inprocess", "--cluster", "local:1"]) == 2
    assert "--inprocess" in capsys.readouterr().err


# -- placement and verdicts ------------------------------------------------------------

@pytest.mark.cluster
@pytest.mark.timing
def test_a_compare_through_the_cluster_gives_the_local_verdicts_on_one_node(
        cluster: Cluster) -> None:
    local = app.compare("spin", "spins", pipeline=PIPE, variants=["vectorized"], config=QUICK)
    fanout = ClusterFanout(cluster)
    remote = app.compare("spin", "spins", pipeline=PIPE, variants=["vectorized"],
                         config=QUICK, fanout=fanout)
    for comp in (local, remote):
        pair = comp.result("vectorized").versus_baseline
        # an eighth of the work: decided whatever a neighbour does to some workers
        assert pair is not None and pair.verdict == "faster", comp.to_text()
        assert pair.speedup.value is not None and pair.speedup.value > 3, comp.to_text()
    # every job of the comparison ran on one node of the cluster; the local one on none
    nodes = set().union(*(_nodes(r.measurement) for r in remote.results))
    assert len(nodes) == 1 and nodes <= set(cluster.nodes())
    assert all(r.measurement.nodes == tuple(nodes) for r in remote.results)
    assert all(_nodes(r.measurement) == {"None"} for r in local.results)
    assert fanout.placed == {"spin on spins": sorted(nodes)}


@pytest.mark.cluster
def test_comparisons_of_a_sweep_spread_over_the_nodes(cluster: Cluster) -> None:
    fanout = ClusterFanout(cluster)
    sweep = app.sweep("spin", "spins", sizes=[2, 4, 6, 8], pipeline=PIPE,
                      variants=["vectorized"],
                      config=MeasureConfig(workers=2, samples=3, warmup_calls=1,
                                           warmup_seconds=0.0), fanout=fanout)
    used = set()
    for _, comp in sweep.points:
        nodes = set().union(*(_nodes(r.measurement) for r in comp.results))
        assert len(nodes) == 1  # one comparison, one node
        used |= nodes
    assert used == set(cluster.nodes())  # four comparisons, both nodes


def test_a_relative_verdict_across_two_machines_is_not_comparable() -> None:
    from dataclasses import replace

    from result_samples import measurement

    from workbench.measure.comparison import pair_stats

    a = measurement("pure", 2e6)
    b = measurement("vectorized", 1e6)
    on = lambda m, node: replace(m, runs=tuple(  # noqa: E731
        replace(r, fingerprint={"node": node}) for r in m.runs))
    assert pair_stats(on(a, "tcp://a:1"), on(b, "tcp://a:1")).verdict == "faster"
    apart = pair_stats(on(a, "tcp://a:1"), on(b, "tcp://b:1"))
    assert apart.verdict == "not-comparable"
    assert "tcp://a:1" in apart.speedup.note and "tcp://b:1" in apart.speedup.note


@pytest.mark.cluster
def test_a_worker_killed_mid_run_reruns_the_comparison_on_another_node() -> None:
    config = MeasureConfig(workers=4, samples=30, warmup_calls=1, warmup_seconds=0.0,
                           timeout=60)
    with _local_cluster(2) as local, \
            connect(str(local.scheduler_address)) as cluster:
        fanout = ClusterFanout(cluster)
        pids: dict[str, int] = cluster.client.run(os.getpid)
        killed: list[str] = []

        def kill_when_placed() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not fanout.placed:
                time.sleep(0.05)
            time.sleep(1.0)  # mid-run: some of its workers are done
            node = fanout.placed["spin on spins"][0]
            killed.append(node)
            os.kill(pids[node], signal.SIGKILL)

        killer = threading.Thread(target=kill_when_placed)
        started = time.monotonic()
        killer.start()
        comp = app.compare("spin", "spins", pipeline=PIPE, variants=["vectorized"],
                           config=config, fanout=fanout)
        killer.join()
        took = time.monotonic() - started
    assert took < config.timeout, f"took {took:.0f} s"
    assert killed and any(f"node {killed[0]} left the cluster" in n for n in fanout.notes)
    nodes = set().union(*(_nodes(r.measurement) for r in comp.results))
    assert len(nodes) == 1 and killed[0] not in nodes  # re-run whole, elsewhere
    assert all(len(r.measurement.runs) == config.workers for r in comp.results)
    assert comp.ok


@pytest.mark.cluster
def test_with_every_node_lost_the_comparison_fails_with_the_reason() -> None:
    config = MeasureConfig(workers=3, samples=40, warmup_calls=1, warmup_seconds=0.0,
                           timeout=30)
    with _local_cluster(1) as local, \
            connect(str(local.scheduler_address)) as cluster:
        fanout = ClusterFanout(cluster)
        (pid,) = cluster.client.run(os.getpid).values()

        def kill_all() -> None:
            while not fanout.placed:
                time.sleep(0.05)
            time.sleep(0.5)
            local.scale(0)  # no node comes back
            os.kill(pid, signal.SIGKILL)

        threading.Thread(target=kill_all, daemon=True).start()
        started = time.monotonic()
        with pytest.raises(ExecutionError, match=r"left the cluster|no node"):
            app.compare("spin", "spins", pipeline=PIPE, variants=["vectorized"],
                        config=config, fanout=fanout)
        assert time.monotonic() - started < config.timeout


# -- the command line, notebook code, budgets, reports ------------------------------------

@pytest.mark.cluster
def test_the_cli_compares_on_the_cluster_and_records_the_node(
        scheduler: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.json"
    code = main(["compare", "spin", "--pipeline", PIPE, "--workload", "spins", "--cluster",
                 scheduler, "--workers", "2", "--samples", "3", "--warmup-seconds", "0",
                 "--no-progress", "--json", str(out)])
    assert code == 0, capsys.readouterr().err
    from workbench.measure.comparison import Comparison

    comp = Comparison.load(out)
    nodes = {n for r in comp.results for n in r.measurement.nodes}
    assert len(nodes) == 1 and next(iter(nodes)).startswith("tcp://127.0.0.1:")


CELL = '''
from workbench import Pipeline, Workload, stage

@stage(input="tuple[int, ...]", output="int")
def total(xs):
    return sum(x * x for x in xs)

@total.variant("vectorized")
def total_fast(xs):
    import numpy as np
    a = np.asarray(xs, dtype=np.int64)
    return int((a * a).sum())

numbers = Workload("cell-numbers-cluster", lambda n: tuple(range(n)), 300)
pipe = Pipeline.of(total, name="cell")
'''


@pytest.mark.cluster
def test_a_stage_defined_in_a_notebook_cell_runs_on_the_cluster(cluster: Cluster) -> None:
    from test_shipping import cell

    ns = cell(CELL, "/tmp/ipykernel_4242/cluster.py")
    comp = app.compare("total", ns["numbers"], pipeline=ns["pipe"],
                       config=MeasureConfig(workers=2, samples=3, warmup_calls=1,
                                            warmup_seconds=0.0),
                       fanout=ClusterFanout(cluster))
    assert comp.ok, comp.to_text()
    assert all(r.equivalence and r.equivalence.equivalent for r in comp.results)
    nodes = {n for r in comp.results for n in r.measurement.nodes}
    assert len(nodes) == 1 and nodes <= set(cluster.nodes())


@pytest.mark.cluster
def test_both_sides_of_check_against_run_on_one_node(
        scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from git_repo import commit_all, git

    import workbench.rag.workloads  # noqa: F401  (the tiny workload)

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "pipe_c.py").write_text(
        "from workbench import Pipeline, stage\n\n"
        "@stage(input='docs', output='int')\n"
        "def work(docs):\n    return sum(i * i % 7 for i in range(3000))\n\n"
        "def make():\n    return Pipeline.of(work, name='c')\n")
    (repo / "budgets.toml").write_text('[stage.work]\nlatency_p50 = "1.5x"\n')
    commit_all(repo, "one")  # the working tree is HEAD: both sides run the same code
    monkeypatch.chdir(repo)
    monkeypatch.syspath_prepend(str(repo))
    with connect(scheduler) as cluster:
        fanout = ClusterFanout(cluster)
        report = app.check(repo / "budgets.toml", workload="tiny", pipeline="pipe_c:make",
                           config=MeasureConfig(workers=3, samples=5, warmup_calls=1,
                                                warmup_seconds=0.0),
                           against="HEAD", repo=repo, max_time=0, fanout=fanout)
    both = [*report.current, *report.baseline]
    assert report.baseline, report.notices
    nodes = set().union(*(_nodes(m) for m in both))
    assert len(nodes) == 1 and next(iter(nodes)).startswith("tcp://127.0.0.1:")


@pytest.mark.cluster
@pytest.mark.kernel
def test_report_notebooks_run_on_the_nodes(scheduler: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code = main(["report", "--notebook", "decisions", "--out", str(tmp_path / "reports"),
                 "--cluster", scheduler, "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (summary,) = (tmp_path / "reports").glob("*/summary.json")
    notebooks = json.loads(summary.read_text())["notebooks"]
    assert [n["status"] for n in notebooks] == ["pass"]
    assert notebooks[0]["node"].startswith("tcp://127.0.0.1:")
    assert f"on {notebooks[0]['node']}" in captured.err


# -- the parallel tier -------------------------------------------------------------------

@given(items=st.lists(st.integers(), max_size=60), parts=st.integers(1, 12))
def test_partitions_are_contiguous_balanced_and_join_back(items: list[int],
                                                          parts: int) -> None:
    cut = partition(items, parts)
    assert [x for part in cut for x in part] == items
    assert len(cut) == min(parts, len(items))
    assert all(cut) and (not cut or max(map(len, cut)) - min(map(len, cut)) <= 1)


@pytest.mark.cluster
def test_the_parallel_tier_is_checked_like_any_variant_and_scales(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.measure.scale_out import ScaleOut

    monkeypatch.setenv("WORKBENCH_PARALLEL_WORKERS", "2")
    comp = app.compare("spin", "spins", pipeline=PIPE, variants=["parallel"],
                       config=MeasureConfig(workers=2, samples=3, warmup_calls=1,
                                            warmup_seconds=0.0, threads=2))
    assert comp.result("parallel").equivalence.equivalent  # type: ignore[union-attr]
    scaled = app.scale_out("spin", "spins@16", workers=[1, 2], pipeline=PIPE,
                           config=MeasureConfig(workers=3, samples=4, warmup_calls=1,
                                                warmup_seconds=0.1))
    assert scaled.workers == (1, 2) and scaled.ok, scaled.to_text()
    assert [v for v, _ in scaled.references] == ["vectorized"]
    assert [m.config.threads for _, m in scaled.points] == [1, 2]
    eff, low, high = scaled.efficiency(2)
    assert eff is not None and low is not None and high is not None and low <= eff <= high
    assert ScaleOut.from_json(scaled.to_json()) == scaled
    assert "efficiency" in scaled.to_text() and "<svg" in scaled.to_html()


def test_a_stage_without_a_parallel_variant_is_refused_by_name(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "chunk", "--cluster-workers", "1,2"]) == 2
    err = capsys.readouterr().err
    assert "'chunk' has no 'parallel' variant" in err
    assert main(["sweep", "embed", "--cluster-workers", "2"]) == 2
    assert "at least 2 distinct" in capsys.readouterr().err
    assert main(["sweep", "embed", "--cluster-workers", "1,2", "--sizes", "1,2,3"]) == 2

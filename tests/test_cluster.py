"""Sweeps on a Dask cluster: compare and GridSearchCV through joblib's Dask backend.

One real ``distributed.LocalCluster`` (two worker processes, one thread each) is started
for the module; every result is checked against the same work run serially here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import shenjing as sj
from _helpers import run_cli

distributed = pytest.importorskip("distributed")
pytest.importorskip("joblib")


@pytest.fixture(scope="module")
def cluster():
    import dask

    # Dask's 30 s connect timeout is too short on a loaded 2-core machine (the workers
    # start as new Python processes importing NumPy and shenjing): seen failing there.
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "180s"}),
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as local,
    ):
        yield local


SWEEP = dict(activations=["relu", "tanh"], seeds=2, epochs=30, optimizer="adam", lr=0.05)


def test_compare_on_the_cluster_equals_the_serial_run(cluster):
    with distributed.Client(cluster) as client:
        remote = sj.compare("moons", scheduler=cluster.scheduler_address, **SWEEP)
        # The work really went to the workers: each ran tasks in its own process.
        pids = client.run(lambda: __import__("os").getpid())
        assert len(set(pids.values())) == 2
    here = sj.compare("moons", **SWEEP)
    assert remote.table() == here.table()
    for name in here.runs:
        for a, b in zip(remote.runs[name], here.runs[name], strict=True):
            assert np.array_equal(a.losses, b.losses)
            assert a.final_loss == b.final_loss and a.seed == b.seed


def test_compare_accepts_a_connected_client(cluster):
    with distributed.Client(cluster) as client:
        remote = sj.compare("xor", scheduler=client, **SWEEP)
        assert client.status == "running"  # a client given is left open
    assert remote.table() == sj.compare("xor", **SWEEP).table()


def test_cli_scheduler_option_equals_the_serial_run(cluster, tmp_path, capsys):
    argv = ["compare", "--dataset", "xor", "--activations", "relu,tanh", "--seeds", "2"]
    argv += ["--epochs", "20", "--lr", "0.05", "--quiet"]
    code, _, err = run_cli(
        [*argv, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "remote")], capsys
    )
    assert code == 0, err
    code, _, err = run_cli([*argv, "--out", str(tmp_path / "here")], capsys)
    assert code == 0, err
    remote = json.loads((tmp_path / "remote" / "compare.json").read_text())
    here = json.loads((tmp_path / "here" / "compare.json").read_text())
    assert remote["table"] == here["table"]
    strip = lambda runs: {k: [{**r, "seconds": 0} for r in v] for k, v in runs.items()}  # noqa: E731
    assert strip(remote["runs"]) == strip(here["runs"])


# 15 epochs do not converge, on purpose (small and fast); joblib passes the filter on.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_over_shenjing_estimators_on_the_cluster(cluster):
    pytest.importorskip("sklearn")
    from sklearn.model_selection import GridSearchCV

    from shenjing.sklearn import MLPClassifier

    x, y = sj.datasets.load("moons", seed=0)
    grid = {"learning_rate_init": [1e-3, 1e-2], "hidden_layer_sizes": [(8,), (16,)]}
    est = MLPClassifier(max_iter=15, random_state=0)

    def search():
        return GridSearchCV(est, grid, cv=2, n_jobs=-1).fit(x, y)

    with sj.on_cluster(cluster.scheduler_address) as client:
        with distributed.get_task_stream(client) as tasks:
            remote = search()
        assert client.status == "running"
    assert len(tasks.data) >= 8  # 4 grid points x 2 folds ran as the cluster's tasks
    here = GridSearchCV(est, grid, cv=2, n_jobs=1).fit(x, y)
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        assert np.array_equal(remote.cv_results_[key], here.cv_results_[key])
    assert remote.best_params_ == here.best_params_


@pytest.mark.parametrize("bad", [42, "", None.__class__])
def test_a_bad_scheduler_is_refused_naming_it(bad):
    with pytest.raises(sj.ConfigError, match="scheduler"):
        sj.compare("xor", scheduler=bad, **SWEEP)

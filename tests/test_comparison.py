"""sj.compare: one run per variant and seed, a table, curves, files; usable from Python."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import shenjing as sj
from shenjing.comparison import COLUMNS, build_network, steps_to_fraction

TINY = {"seeds": 2, "epochs": 30, "lr": 0.05}


@pytest.fixture(scope="module")
def moons_result():
    return sj.compare("moons", activations=["sigmoid", "relu", "maxout"], **TINY)


def test_one_row_per_variant_and_one_curve_per_seed(moons_result):
    r = moons_result
    assert [v.name for v in r.variants] == ["sigmoid", "relu", "maxout"]
    table = r.table()
    assert [row["variant"] for row in table] == ["sigmoid", "relu", "maxout"]
    for row in table:
        assert tuple(row) == COLUMNS
        assert row["seeds"] == 2 and row["hidden"] == "64"
        assert row["final_loss_min"] <= row["final_loss"] <= row["final_loss_max"]
        assert 0.5 <= row["accuracy"] <= 1.0
    for v in r.variants:
        curves = r.curves(v.name)
        assert curves.shape == (2, 30) and curves.dtype == np.float64
        assert not np.array_equal(curves[0], curves[1])  # different seeds, different runs
    assert r.settings["task"] == "classification" and r.settings["seeds"] == [0, 1]
    with pytest.raises(sj.ConfigError, match="relu"):
        r.curves("tanh")


def test_runs_match_a_hand_built_run(moons_result):
    """The table's numbers are those of the network build_network makes, trained by fit."""
    x, y = sj.datasets.moons(seed=0)
    net = build_network("relu", (64,), 2, 2, seed=1)
    history = net.fit(
        x, y, loss="softmax_cross_entropy", optimizer=sj.Adam(lr=0.05), epochs=30,
        batch_size=None, shuffle=False,
    )  # fmt: skip
    run = moons_result.runs["relu"][1]
    assert run.seed == 1
    np.testing.assert_array_equal(run.losses, history.loss)
    final = net.evaluate(x, y, metrics=["accuracy"])
    assert run.final_loss == final["loss"] and run.accuracy == final["accuracy"]
    assert run.steps_to_target == steps_to_fraction(history.loss, 0.25)
    # Dead and saturated units come from sj.diagnose, pooled over the hidden layers.
    report = sj.diagnose(net, x)
    hidden = [lay for lay in report.layers if lay.dead_fraction is not None]
    assert run.dead_fraction == pytest.approx(
        sum(lay.dead_fraction * lay.units for lay in hidden) / sum(lay.units for lay in hidden)
    )
    assert run.saturated_fraction is None


def test_fractions_apply_where_they_mean_something(moons_result):
    rows = {row["variant"]: row for row in moons_result.table()}
    assert rows["sigmoid"]["dead_fraction"] is None
    assert 0 <= rows["sigmoid"]["saturated_fraction"] <= 1
    assert 0 <= rows["relu"]["dead_fraction"] <= 1 and rows["relu"]["saturated_fraction"] is None
    assert rows["maxout"]["saturated_fraction"] is None


def test_a_huge_learning_rate_kills_relu_units():
    wild = sj.compare("spiral", activations=["relu"], seeds=2, epochs=20, lr=10.0, optimizer="sgd")
    calm = sj.compare("spiral", activations=["relu"], seeds=2, epochs=20, lr=1e-3, optimizer="sgd")
    assert wild.table()[0]["dead_fraction"] > 0.5 > 0.05 > calm.table()[0]["dead_fraction"]


def test_relu_converges_faster_than_sigmoid_on_the_spiral():
    """The notes' claim, measured: steps until the loss is a quarter of its first value."""
    r = sj.compare("spiral", activations=["sigmoid", "relu"], seeds=2, epochs=150)
    rows = {row["variant"]: row for row in r.table()}
    assert rows["relu"]["reached_target"] == 2
    assert rows["sigmoid"]["steps_to_target"] is None or (
        rows["sigmoid"]["steps_to_target"] > 1.5 * rows["relu"]["steps_to_target"]
    )


def test_architectures_are_crossed_with_activations():
    r = sj.compare("xor", activations=["relu", "tanh"], hidden=[(8,), (4, 4)], seeds=1, epochs=5)
    assert [v.name for v in r.variants] == ["relu 8", "tanh 8", "relu 4-4", "tanh 4-4"]
    assert [row["hidden"] for row in r.table()] == ["8", "8", "4-4", "4-4"]


def test_build_network_layers():
    net = build_network("tanh", (8, 4), 3, 2, seed=0)
    assert [type(layer).__name__ for layer in net] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    net = build_network("maxout", (8, 4), 3, 2, seed=0)
    assert [type(layer).__name__ for layer in net] == ["Maxout", "Maxout", "Linear"]
    assert net[0].pieces == 2
    a, b = build_network("relu", (5,), 3, 2, seed=7), build_network("relu", (5,), 3, 2, seed=7)
    assert all(
        np.array_equal(p.value, q.value)
        for p, q in zip(a.parameters(), b.parameters(), strict=True)
    )


def test_steps_to_fraction():
    assert steps_to_fraction([8.0, 4.0, 2.0, 1.0], 0.25) == 3
    assert steps_to_fraction([8.0, 4.0, 2.0, 1.0], 0.1) is None
    assert steps_to_fraction([8.0], 0.5) is None


def test_regression_has_no_accuracy_and_own_data_works():
    r = sj.compare("sine", activations=["tanh"], seeds=1, epochs=10)
    assert r.settings["task"] == "regression" and r.table()[0]["accuracy"] is None
    x = np.linspace(-1, 1, 20)[:, None]
    r = sj.compare((x, (x[:, 0] > 0).astype(int)), activations=["relu"], seeds=[5], epochs=10)
    assert r.settings["dataset"] == "(x, y)" and r.runs["relu"][0].seed == 5
    assert r.table()[0]["accuracy"] is not None


def test_reproducible_and_the_same_in_parallel():
    kwargs = {"activations": ["relu", "tanh"], "seeds": 2, "epochs": 10}
    a = sj.compare("circles", **kwargs)
    b = sj.compare("circles", **kwargs, jobs=2)
    assert a.table() == b.table()
    for v in a.variants:
        np.testing.assert_array_equal(a.curves(v.name), b.curves(v.name))


def test_table_files(moons_result, tmp_path):
    moons_result.to_csv(str(tmp_path / "out" / "t.csv"))
    moons_result.to_json(str(tmp_path / "t.json"))
    with open(tmp_path / "out" / "t.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["variant"] for row in rows] == ["sigmoid", "relu", "maxout"]
    assert tuple(rows[0]) == COLUMNS
    assert rows[0]["dead_fraction"] == ""  # None is an empty cell
    assert float(rows[1]["final_loss"]) == moons_result.table()[1]["final_loss"]
    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["table"] == moons_result.table()
    assert doc["settings"]["dataset"] == "moons" and len(doc["runs"]["relu"]) == 2
    assert doc["table"][0]["dead_fraction"] is None
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_format_table(moons_result):
    text = moons_result.format_table()
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].split()[0] == "variant"
    assert lines[1].startswith("sigmoid") and "%" in lines[2]
    assert "3 variants" in repr(moons_result)


def test_progress_bar(capsys):
    sj.compare("xor", activations=["relu"], seeds=2, epochs=3, progress=True)
    assert "compare" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dataset": "mnist"}, "valid names"),
        ({"dataset": 3}, "dataset must be"),
        ({"activations": ["relu", "swish"]}, "Unknown activation 'swish'"),
        ({"activations": []}, "at least one activation"),
        ({"activations": ["relu", "relu"]}, "variants must differ"),
        ({"hidden": []}, "hidden"),
        ({"hidden": [0]}, "hidden width"),
        ({"seeds": 0}, "seeds"),
        ({"seeds": [1, 1]}, "distinct"),
        ({"epochs": 0}, "epochs"),
        ({"lr": -1.0}, "lr"),
        ({"optimizer": "lion"}, "optimizer"),  # "adamw" until AdamW was added
        ({"optimizer": sj.Adam()}, "optimizer and init must be names"),
        ({"init": "lecun"}, "initializer"),
        ({"target_fraction": 1.0}, "target_fraction"),
        ({"jobs": 0}, "jobs"),
        ({"dtype": "int8"}, "dtype"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises((sj.ConfigError, sj.DTypeError), match=match):
        sj.compare(**{"dataset": "xor", "epochs": 2, "seeds": 1, **kwargs})


def test_a_diverging_run_is_a_result_not_a_failure(tmp_path):
    r = sj.compare("sine", activations=["relu", "tanh"], seeds=3, epochs=200, lr=0.3,
                   optimizer="sgd")  # fmt: skip
    rows = {row["variant"]: row for row in r.table()}
    assert rows["tanh"]["diverged"] == 3 and rows["relu"]["diverged"] == 0
    assert np.isnan(rows["tanh"]["final_loss"]) and np.isfinite(rows["relu"]["final_loss"])
    run = r.runs["tanh"][0]
    assert run.diverged_at is not None and run.accuracy is None and np.isnan(run.final_loss)
    curve = r.curves("tanh")[0]
    assert curve.shape == (200,)
    assert (
        np.isfinite(curve[: run.diverged_at - 1]).all()
        and np.isnan(curve[run.diverged_at - 1 :]).all()
    )
    assert "3/3 diverged" in r.format_table()
    r.to_json(str(tmp_path / "d.json"))  # NaN is written as null, never as invalid JSON
    doc = json.loads((tmp_path / "d.json").read_text())
    assert doc["table"][1]["final_loss"] is None and doc["runs"]["tanh"][0]["final_loss"] is None


def test_runs_use_one_blas_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from shenjing.comparison import one_blas_thread

    def blas_threads():
        return {
            i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"
        }

    before = blas_threads()
    with one_blas_thread():
        assert blas_threads() <= {1}
    assert blas_threads() == before  # put back afterwards


def test_a_run_that_diverged_after_reaching_the_target_does_not_count():
    from shenjing.comparison import CompareResult, Run, Variant

    def run(seed, steps, diverged_at=None):
        final = np.nan if diverged_at else 0.1
        return Run(seed, np.array([1.0, 0.2, 0.1]), final, None if diverged_at else 1.0,
                   steps, 0.0, None, 0.01, diverged_at)  # fmt: skip

    result = CompareResult(
        variants=[Variant("relu", "relu", (8,))],
        runs={"relu": [run(0, 3), run(1, 2, diverged_at=3)]},
        settings={},
    )
    (row,) = result.table()
    assert row["steps_to_target"] == 3 and row["reached_target"] == 1 and row["diverged"] == 1

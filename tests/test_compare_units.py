"""compare's dying and reviving units, Krizhevsky's training-error criterion, init per
activation, and the figures' line styles."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from _helpers import check_png, run_cli
from shenjing.comparison import build_network
from shenjing.comparison.units import UnitTracker, init_for


def _silenced(activation):
    """1 → 4 → 1 with every hidden unit silent at the start (bias -3 on inputs in [0, 1])
    and positive output weights: the targets (5x) need the units' slope, which the
    output bias cannot give."""
    net = sj.Sequential(sj.Linear(1, 4, seed=0), activation, sj.Linear(4, 1, seed=1))
    net[0].W[...] = 1.0
    net[0].b[...] = -3.0
    net[2].W[...] = 0.5
    x = np.linspace(0, 1, 20)[:, None]
    return net, x, 5 * x[:, 0]


@pytest.mark.parametrize(("activation", "revives"), [(sj.ReLU(), False), (sj.LeakyReLU(0.1), True)])
def test_a_dead_relu_stays_dead_and_a_leaky_unit_fires_again(activation, revives):
    net, x, y = _silenced(activation)
    tracker = UnitTracker(x)
    net.fit(x, y, loss="mse", optimizer=sj.SGD(lr=0.5), epochs=200, batch_size=None,
            callbacks=[tracker])  # fmt: skip
    assert tracker.units == 4 and tracker.died.all()  # silent from step 0
    assert tracker.silent[0] == 1.0
    assert bool(tracker.revived.all()) is revives
    assert (min(tracker.silent) < 1.0) is revives  # some check saw them fire
    if not revives:  # no gradient reached the first layer at all
        assert np.all(net[0].b == -3.0)


def test_tracking_units_changes_no_step_of_training():
    result = sj.compare("spiral", activations=["relu"], seeds=[4], epochs=30, lr=0.05)
    net = build_network("relu", (64,), 2, 3, 4)
    history = net.fit(*sj.datasets.load("spiral", seed=0), loss="softmax_cross_entropy",
                      optimizer=sj.Adam(lr=0.05), epochs=30, batch_size=None, shuffle=False,
                      seed=4)  # fmt: skip
    run = result.runs["relu"][0]
    assert np.array_equal(run.losses, history.loss)
    assert run.silent_steps[0] == 0 and run.silent_steps[-1] == 30
    assert run.died_fraction is not None and 0 <= run.revived <= run.died


def test_table_pools_died_and_revived_over_seeds():
    result = sj.compare("spiral", activations=["relu", "leaky_relu", "tanh"], seeds=3,
                        epochs=150, optimizer="sgd", lr=3.0)  # fmt: skip
    rows = {row["variant"]: row for row in result.table()}
    for name in ("relu", "leaky_relu"):
        runs = result.runs[name]
        assert rows[name]["died_fraction"] == pytest.approx(
            np.mean([r.died_fraction for r in runs])
        )
        died = sum(r.died for r in runs)
        expected = sum(r.revived for r in runs) / died if died else None
        assert rows[name]["revived_fraction"] == expected
    assert rows["tanh"]["died_fraction"] is None and rows["tanh"]["revived_fraction"] is None
    header = result.format_table().splitlines()[0]
    assert "died" in header and "revived" in header and "to error" not in header


def test_epochs_to_error_follows_the_training_accuracy():
    result = sj.compare("moons", activations=["tanh"], seeds=[0], epochs=40, optimizer="sgd",
                        lr=0.5, batch_size=50, error_threshold=0.2)  # fmt: skip
    net = build_network("tanh", (64,), 2, 2, 0)
    history = net.fit(*sj.datasets.load("moons", seed=0), loss="softmax_cross_entropy",
                      optimizer=sj.SGD(lr=0.5), epochs=40, batch_size=50, seed=0,
                      metrics=["accuracy"])  # fmt: skip
    error = 1 - np.asarray(history.per_epoch["accuracy"])
    expected = int(np.flatnonzero(error <= 0.2)[0]) + 1
    assert result.runs["tanh"][0].epochs_to_error == expected
    assert result.table()[0]["epochs_to_error"] == expected
    assert "to error" in result.format_table().splitlines()[0]


def test_error_threshold_is_for_classification_only():
    x = np.linspace(-1, 1, 20)[:, None]
    with pytest.raises(sj.ConfigError, match="error_threshold"):
        sj.compare((x, x**2), activations=["relu"], seeds=1, epochs=2, error_threshold=0.25)
    with pytest.raises(sj.ConfigError, match="error_threshold"):
        sj.compare("xor", activations=["relu"], seeds=1, epochs=2, error_threshold=1.5)


def test_init_per_activation_is_he_for_relu_and_xavier_for_tanh():
    assert [init_for(a, "per_activation") for a in ("relu", "leaky_relu", "maxout")] == ["he"] * 3
    assert [init_for(a, "per_activation") for a in ("sigmoid", "tanh")] == ["xavier"] * 2
    result = sj.compare("spiral", activations=["relu", "tanh"], seeds=[1], epochs=1,
                        init="per_activation")  # fmt: skip
    x, y = sj.datasets.load("spiral", seed=0)
    for name, init in (("relu", "he"), ("tanh", "xavier")):
        net = build_network(name, (64,), 2, 3, 1, init=init)
        first = net.evaluate(x, y, loss="softmax_cross_entropy")["loss"]
        assert result.runs[name][0].losses[0] == pytest.approx(first, rel=1e-12)
    assert result.settings["init"] == "per_activation"


def test_cli_compare_units_figure_and_new_options(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    argv = ["compare", "--dataset", "moons", "--activations", "relu,leaky_relu,tanh"]
    argv += ["--seeds", "2", "--epochs", "30", "--optimizer", "sgd", "--lr", "0.5"]
    argv += ["--init", "per-activation", "--error-threshold", "0.25", "--out", str(tmp_path)]
    code, out, err = run_cli(argv, capsys)
    assert code == 0, err
    assert "init per_activation" in out and "to error: epochs until the training error" in out
    check_png(tmp_path / "compare-units.png", min_colours=8)
    # Every variant's curve has its own line style, so equal curves stay visible.
    from shenjing import plot

    result = sj.compare("moons", activations=["relu", "leaky_relu", "tanh"], seeds=1, epochs=3)
    ax = plot.compare_curves(result)
    styles = [line.get_linestyle() for line in ax.get_lines()[:3]]
    assert len(set(styles)) == 3
    units = plot.compare_units(result)
    assert [t.get_text().split(":")[0] for t in units.get_legend().get_texts()] == [
        "relu",
        "leaky_relu",
    ]


def test_gelu_panel_title_defines_its_symbols():
    pytest.importorskip("matplotlib")
    from shenjing.plot import activations as act_plot

    fig = act_plot.activations_figure()
    (title,) = [ax.get_title() for ax in fig.axes if ax.get_title().startswith("GELU")]
    assert "σ(2u)" in title and "u = " in title

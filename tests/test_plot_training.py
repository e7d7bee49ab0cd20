"""Figures of training and of the activations: they draw what they are given, and save."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from _helpers import check_png

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_loss_curve_from_a_list_and_a_history(tmp_path):
    ax = sj.plot.loss_curve([3.0, 2.0, 1.5], label="mine")
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(line.get_ydata(), [3.0, 2.0, 1.5])
    assert ax.get_yscale() == "linear" and ax.get_legend().get_texts()[0].get_text() == "mine"
    assert ax.get_title() and ax.get_xlabel() == "step" and ax.get_ylabel() == "loss"

    x, y = sj.datasets.moons(n_samples=60, seed=0)
    net = sj.Sequential(sj.Linear(2, 8, seed=0), sj.ReLU(), sj.Linear(8, 2, seed=1))
    history = net.fit(
        x, y, loss="softmax_cross_entropy", epochs=4, batch_size=16, seed=0,
        validation_split=0.25,
    )  # fmt: skip
    ax = sj.plot.loss_curve(history)
    train, val = ax.get_lines()
    assert len(train.get_xdata()) == len(history.loss) == 12  # 45 rows → 3 batches × 4
    np.testing.assert_array_equal(val.get_xdata(), [3, 6, 9, 12])
    np.testing.assert_allclose(val.get_ydata(), history["val_loss"])
    path = sj.plot.save(ax.figure, tmp_path / "loss.png")
    check_png(path, size=(640, 440))


def test_loss_curve_goes_log_when_the_loss_spans_decades():
    assert sj.plot.loss_curve(np.logspace(3, -2, 50)).get_yscale() == "log"
    assert sj.plot.loss_curve([5.0, 4.0]).get_yscale() == "linear"
    assert sj.plot.loss_curve([5.0, 4.0], log=True).get_yscale() == "log"
    assert sj.plot.loss_curve(np.logspace(3, -2, 5), log=False).get_yscale() == "linear"


def test_loss_curve_draws_on_a_given_axes():
    _, (a, b) = plt.subplots(1, 2)
    assert sj.plot.loss_curve([2.0, 1.0], ax=b) is b
    assert not a.get_lines() and len(b.get_lines()) == 1


@pytest.mark.parametrize(
    ("arg", "kwargs", "error", "match"),
    [
        ("losses", {}, sj.ConfigError, "History or a sequence"),
        ([], {}, sj.DataError, "no losses"),
        ([1.0], {"log": "yes"}, sj.ConfigError, "log must be"),
        ([-1.0, 0.0], {"log": True}, sj.DataError, "positive"),
    ],
)
def test_loss_curve_bad_input(arg, kwargs, error, match):
    with pytest.raises(error, match=match):
        sj.plot.loss_curve(arg, **kwargs)


def test_decision_boundary(tmp_path):
    x, y = sj.datasets.blobs(n_samples=90, centers=3, std=0.5, seed=1)
    net = sj.Sequential(sj.Linear(2, 16, seed=0), sj.ReLU(), sj.Linear(16, 3, seed=1))
    net.fit(x, y, loss="softmax_cross_entropy", optimizer=sj.Adam(lr=0.05), epochs=60, seed=0)
    ax = sj.plot.decision_boundary(net, x, y, resolution=50)
    assert "training accuracy 100.0%" in ax.get_title()
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["class 0", "class 1", "class 2"]
    assert ax.get_xlabel().startswith("x₁") and ax.get_ylabel().startswith("x₂")
    check_png(sj.plot.save(ax.figure, tmp_path / "b.png"), size=(640, 440), min_colours=20)


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "error"),
    [
        (np.zeros((4, 3)), np.zeros(4, int), {}, sj.ShapeError),
        (np.zeros((4, 2)), np.zeros(3, int), {}, sj.DataError),
        (np.zeros((4, 2)), np.zeros(4), {}, sj.DataError),
        (np.zeros((4, 2)), np.zeros(4, int), {"resolution": 1}, sj.ConfigError),
    ],
)
def test_decision_boundary_bad_input(x, y, kwargs, error):
    net = sj.Sequential(sj.Linear(2, 2, seed=0))
    with pytest.raises(error):
        sj.plot.decision_boundary(net, x, y, **kwargs)


def test_compare_curves(tmp_path):
    result = sj.compare("xor", activations=["relu", "tanh"], seeds=3, epochs=15, lr=0.05)
    ax = sj.plot.compare_curves(result)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert {"relu", "tanh"} <= set(lines)
    for name in ("relu", "tanh"):
        np.testing.assert_allclose(lines[name].get_ydata(), np.median(result.curves(name), axis=0))
    assert len(ax.collections) == 2  # one min–max band per variant
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    curves = result.curves("relu")
    assert band.min() == pytest.approx(curves.min()) and band.max() == pytest.approx(curves.max())
    assert "3 seeds" in ax.get_title() and ax.get_xlabel() == "step"
    check_png(sj.plot.save(ax.figure, tmp_path / "c.png"), size=(640, 440))


def test_compare_curves_with_diverged_runs(tmp_path):
    r = sj.compare("sine", activations=["relu", "tanh"], seeds=2, epochs=150, lr=0.3,
                   optimizer="sgd")  # fmt: skip
    ax = sj.plot.compare_curves(r)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "tanh (2/2 diverged)" in labels and "relu" in labels
    first = np.median([r.curves(v.name)[:, 0] for v in r.variants])
    assert ax.get_ylim()[1] < 2 * sj.plot.training.CLIP * first  # not 1e300: clipped
    check_png(sj.plot.save(ax.figure, tmp_path / "d.png"), size=(640, 440))


def test_activation_values_come_from_the_layers():
    x = np.array([-2.0, 0.0, 3.0])
    f, df = sj.plot.activation_values("relu", x)
    assert f.tolist() == [0.0, 0.0, 3.0] and df.tolist() == [0.0, 0.0, 1.0]  # ReLU'(0) = 0
    f, df = sj.plot.activation_values("sigmoid", x)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(f, s, rtol=1e-15) and np.testing.assert_allclose(df, s * (1 - s))
    f, df = sj.plot.activation_values("maxout", x)  # max(x, -0.5x - 1)
    np.testing.assert_allclose(f, [0.0, 0.0, 3.0]) and np.testing.assert_allclose(df, [-0.5, 1, 1])
    f, df = sj.plot.activation_values("leaky_relu", x)
    np.testing.assert_allclose(df, [0.01, 0.01, 1.0])


def _span(patch):
    """The x interval an axvspan covers (a Rectangle or, in older matplotlib, a Polygon)."""
    if hasattr(patch, "get_width"):
        return patch.get_x(), patch.get_x() + patch.get_width()
    xs = patch.get_xy()[:, 0]
    return xs.min(), xs.max()


def test_activation_panels_shade_saturation_and_the_dead_zone():
    def spans(name):
        ax = sj.plot.activation_panel(name)
        return [(p.get_label(), *_span(p)) for p in ax.patches], ax

    shaded, ax = spans("relu")
    assert len(shaded) == 1 and shaded[0][0].startswith("dead zone")
    assert shaded[0][1] == -6.0 and shaded[0][2] == pytest.approx(0.0, abs=0.02)
    shaded, _ = spans("sigmoid")  # both tails, where σ'(x) / 0.25 < 0.1: |x| > 3.6
    assert [str(label).startswith("saturated") for label, *_ in shaded] == [True, False]
    assert shaded[0][1:] == pytest.approx((-6.0, -3.6), abs=0.05)
    assert shaded[1][1:] == pytest.approx((3.6, 6.0), abs=0.05)
    _, ax = spans("leaky_relu")
    assert not ax.patches  # a constant small slope is not saturation
    _, ax = spans("maxout")
    assert not ax.patches
    _, ax = spans("elu")
    assert len(ax.patches) == 1  # the negative tail only
    _, ax = spans("tanh")
    identity = [line for line in ax.get_lines() if line.get_label().startswith("2σ(2x) − 1")]
    assert len(identity) == 1 and "e-16" in identity[0].get_label()
    with pytest.raises(sj.ConfigError, match="valid names"):
        sj.plot.activation_panel("swish")
    with pytest.raises(sj.ConfigError, match="x_range"):
        sj.plot.activation_panel("relu", x_range=(1, 2))


def test_activations_figure(tmp_path):
    fig = sj.plot.activations_figure()
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == len(sj.plot.activations.PANELS) == 8
    assert titles[0].startswith("sigmoid") and titles[-1].startswith("maxout")
    assert all(ax.get_legend() is not None and ax.get_xlabel() for ax in fig.axes)
    check_png(sj.plot.save(fig, tmp_path / "a.png"), size=(1440, 660), min_colours=50)
    fig = sj.plot.activations_figure(("relu", "tanh", "gelu"), columns=2)
    assert len(fig.axes) == 3

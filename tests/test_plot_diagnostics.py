"""Figures of diagnostics: each draws the recorded numbers, has labels and a legend."""

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


@pytest.fixture(scope="module")
def monitored():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.Sequential(
        sj.Linear(2, 32, seed=0), sj.ReLU(), sj.Linear(32, 16, seed=1), sj.Tanh(),
        sj.Linear(16, 3, seed=2),
    )  # fmt: skip
    hist = net.fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.1), epochs=3, batch_size=50,
                   seed=0, monitor=3)  # fmt: skip
    return net, x, y, hist


def _labelled(ax):
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert ax.get_legend() is not None


def test_dead_and_saturated_draws_the_series(monitored):
    _, _, _, hist = monitored
    ax = sj.plot.dead_and_saturated(hist)
    _labelled(ax)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"layer 1 ReLU: dead", "layer 3 Tanh: saturated"}
    rec = hist.diagnostics
    np.testing.assert_array_equal(lines["layer 1 ReLU: dead"].get_xdata(), rec.steps)
    np.testing.assert_allclose(
        lines["layer 1 ReLU: dead"].get_ydata(), 100 * rec.series("dead_fraction", 1)
    )


def test_update_ratios_against_the_rule_of_thumb(monitored):
    _, _, _, hist = monitored
    ax = sj.plot.update_ratios(hist.diagnostics)
    _labelled(ax)
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:3] == ["layer 0 Linear", "layer 2 Linear", "layer 4 Linear"]
    assert "0.001 (rule of thumb)" in labels
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), hist.diagnostics.series("update_ratio", 0))


def test_gradient_flow_of_a_report_and_of_training(monitored):
    net, x, y, hist = monitored
    report = sj.diagnose(net, x, y, loss="ce")
    ax = sj.plot.gradient_flow(report)
    _labelled(ax)
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [lay.grad_rms for lay in report.layers])
    ax = sj.plot.gradient_flow(hist)
    assert [ln.get_label() for ln in ax.get_lines()] == [
        "step 0",
        f"step {hist.diagnostics.steps[-1]}",
    ]
    with pytest.raises(sj.ConfigError, match="no gradients"):
        sj.plot.gradient_flow(sj.diagnose(net, x))


def test_activation_histograms_of_the_activation_layers(monitored):
    net, x, _, _ = monitored
    report = sj.diagnose(net, x)
    ax = sj.plot.activation_histograms(report)
    _labelled(ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [label.split(" (")[0] for label in labels] == ["layer 1 ReLU", "layer 3 Tanh"]
    # One outline per layer, its heights fractions of that layer's values (≤ 1).
    assert len(ax.patches) == 2
    top = max(patch.get_xy()[:, 1].max() for patch in ax.patches)
    assert 0.1 < top <= 1.0


def test_overview_is_a_figure_of_four_panels_and_saves(monitored, tmp_path):
    _, _, _, hist = monitored
    fig = sj.plot.diagnostics(hist)
    assert len(fig.axes) == 4
    assert "every 3 steps" in fig._suptitle.get_text()
    check_png(sj.plot.save(fig, tmp_path / "diag.png"), size=(1200, 880))


def test_report_figure(monitored, tmp_path):
    net, x, y, _ = monitored
    fig = sj.plot.report_figure(sj.diagnose(net, x, y, loss="ce"))
    assert len(fig.axes) == 2
    check_png(sj.plot.save(fig, tmp_path / "report.png"))


def test_a_history_without_diagnostics_is_refused():
    with pytest.raises(sj.ConfigError, match="monitor=True"):
        sj.plot.diagnostics(sj.History())
    with pytest.raises(sj.ConfigError, match="expected a History"):
        sj.plot.update_ratios([1, 2, 3])

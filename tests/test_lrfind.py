"""sj.lr_find: the range test on a copy, its suggestion and reason, and its figure."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj


@pytest.fixture(scope="module")
def spiral():
    return sj.datasets.spiral(seed=0)


def test_the_range_test_leaves_the_network_and_optimizer_alone(spiral):
    net = sj.mlp(2, [16], 3, seed=0)
    opt = sj.Adam(lr=0.05)
    net.fit(*spiral, loss="softmax_cross_entropy", optimizer=opt, epochs=1, seed=0)
    params = [p.value.copy() for p in net.parameters()]
    state = {k: v["m"].copy() for k, v in opt.state.items()}
    history = net.history
    result = sj.lr_find(net, *spiral, loss="softmax_cross_entropy", optimizer=opt, seed=0)
    assert all(np.array_equal(a, p.value) for a, p in zip(params, net.parameters(), strict=True))
    assert opt.lr == 0.05 and all(np.array_equal(state[k], opt.state[k]["m"]) for k in state)
    assert net.history is history
    assert len(result.rates) == len(result.losses) == len(result.smoothed) == 100


def test_rates_rise_geometrically_and_the_suggestion_is_explained(spiral):
    net = sj.mlp(2, [16], 3, seed=0)
    r = sj.lr_find(
        net, *spiral, loss="softmax_cross_entropy", min_lr=1e-5, max_lr=1.0, steps=50, seed=0
    )
    ratios = np.diff(np.log(r.rates))
    np.testing.assert_allclose(ratios, np.log(1e5) / 49, rtol=1e-9)
    assert r.rates[0] == 1e-5 and r.rates[-1] == pytest.approx(1.0)
    assert r.steepest in r.rates and r.suggestion == min(r.steepest, r.lowest / 10)
    assert f"{r.suggestion:.3g}" in r.reason and "falls fastest" in r.reason
    # at the steepest rate the smoothed loss is falling: lower a little further on
    i = r.rates.index(r.steepest)
    assert r.smoothed[min(i + 3, len(r.smoothed) - 1)] < r.smoothed[i]
    # and a short training run at the suggestion beats one at the smallest rate
    losses = {}
    for lr in (r.suggestion, r.rates[0]):
        h = sj.mlp(2, [16], 3, seed=0).fit(
            *spiral, loss="softmax_cross_entropy", optimizer=sj.Adam(lr=lr), epochs=5, seed=0
        )
        losses[lr] = h["loss"][-1]
    assert losses[r.suggestion] < losses[r.rates[0]]


def test_an_exploding_range_stops_early(spiral):
    net = sj.mlp(2, [16], 3, seed=0)
    r = sj.lr_find(
        net,
        *spiral,
        loss="softmax_cross_entropy",
        optimizer="sgd",
        min_lr=1e-3,
        max_lr=1e8,
        steps=200,
        seed=0,
    )
    assert len(r.rates) < 200
    assert "passed 4 times its lowest" in r.stopped or "non-finite" in r.stopped
    assert all(np.isfinite(r.losses))


def test_bad_arguments(spiral):
    net = sj.mlp(2, [4], 3, seed=0)
    for kwargs, name in (
        ({"min_lr": 0}, "min_lr"),
        ({"max_lr": 1e-8}, "max_lr"),
        ({"steps": 2}, "steps"),
        ({"smoothing": 1.0}, "smoothing"),
        ({"stop_factor": 1}, "stop_factor"),
    ):
        with pytest.raises(sj.ConfigError, match=name):
            sj.lr_find(net, *spiral, loss="softmax_cross_entropy", **kwargs)


def test_the_figure(spiral):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    r = sj.lr_find(sj.mlp(2, [8], 3, seed=0), *spiral, loss="softmax_cross_entropy", seed=0)
    ax = sj.plot.lr_find_curve(r)
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "learning rate"
    assert any(f"{r.suggestion:.3g}" in t.get_text() for t in ax.get_legend().get_texts())
    xs = [line.get_xdata()[0] for line in ax.get_lines()]
    assert r.suggestion in xs  # the dashed line
    plt.close(ax.figure)
    with pytest.raises(sj.ConfigError, match="lr_find"):
        sj.plot.lr_find_curve(object())


@pytest.mark.parametrize("name", ["regression", "xor"])
def test_on_the_notes_programs_the_suggestion_is_near_the_hand_picked_rate(name):
    """The notes chose 1e-4 (regression) and 0.002 (XOR) by hand; the range test lands
    within a factor of 3 of each, and full-batch SGD at its suggestion trains (its
    loss falls a thousandfold in 200 steps)."""
    from shenjing import notes

    s = notes.setup(name, seed=0)
    r = sj.lr_find(
        notes.network(s),
        s.x,
        s.y,
        loss="sse",
        optimizer=sj.SGD(lr=1.0),
        batch_size=None,
        min_lr=1e-8,
        max_lr=1.0,
        seed=0,
    )
    assert s.learning_rate / 3 < r.suggestion < 3 * s.learning_rate
    h = notes.network(s).fit(
        s.x,
        s.y,
        loss="sse",
        optimizer=sj.SGD(lr=r.suggestion),
        batch_size=None,
        epochs=s.steps,
        shuffle=False,
    )
    assert h.loss[-1] < 1e-4 * h.loss[0]

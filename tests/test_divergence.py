"""A loss that explodes while staying finite stops fit at fit(divergence=...)."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing.training.loop import DIVERGENCE


@pytest.mark.parametrize(
    "optimizer,loss",
    [
        (sj.SGD(lr=1e6), "softmax_cross_entropy"),
        (sj.Adam(lr=1e6), "softmax_cross_entropy"),
        (sj.Adam(lr=1e6), "mse"),
    ],
    ids=["sgd-ce", "adam-ce", "adam-mse"],
)
def test_the_issues_exploding_runs_stop(optimizer, loss):
    x, y = sj.datasets.spiral(seed=0)
    if loss == "mse":
        y = np.eye(3)[y]
    net = sj.mlp(2, [64], 3, seed=0)
    with pytest.raises(sj.DivergenceError, match="divergence=10000 times") as info:
        net.fit(x, y, loss=loss, optimizer=optimizer, epochs=20, seed=0)
    err = info.value
    h = err.history.loss
    assert all(np.isfinite(h)) and max(h) <= DIVERGENCE * h[0]
    assert all(np.isfinite(p.value).all() for p in net.parameters())
    # without the threshold the same run goes on to garbage losses, as the issue saw
    net = sj.mlp(2, [64], 3, seed=0)
    try:
        history = net.fit(
            x, y, loss=loss, optimizer=type(optimizer)(lr=1e6), epochs=3, seed=0, divergence=None
        )
        assert max(history.loss) > DIVERGENCE * history.loss[0]
    except sj.DivergenceError as exc:  # or to inf
        assert max(exc.history.loss) > DIVERGENCE * exc.history.loss[0]


def test_the_threshold_is_relative_to_the_first_loss_and_configurable():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [16], 3, seed=0, dtype="float64")
    with pytest.raises(sj.DivergenceError) as info:
        net.fit(
            x,
            y,
            loss="softmax_cross_entropy",
            optimizer=sj.SGD(lr=50.0),
            epochs=5,
            seed=0,
            divergence=3.0,
        )
    losses = info.value.history.loss
    assert max(losses) <= 3.0 * losses[0]
    assert "3 times the first" in str(info.value)
    with pytest.raises(sj.ConfigError, match="divergence"):
        net.fit(x, y, loss="softmax_cross_entropy", divergence=0.5)
    with pytest.raises(sj.ConfigError, match="divergence"):
        net.fit(x, y, loss="softmax_cross_entropy", divergence="big")


def test_a_healthy_run_never_reaches_the_default():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [32], 3, seed=0)
    history = net.fit(
        x, y, loss="softmax_cross_entropy", optimizer=sj.Adam(lr=0.05), epochs=20, seed=0
    )
    assert max(history.loss) < 10 * history.loss[0]

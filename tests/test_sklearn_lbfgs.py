"""The lbfgs objective's stacked passes (``shenjing.sklearn._stacked``) against the
network's own passes, and against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse

pytest.importorskip("sklearn")

import shenjing as sj
from shenjing.sklearn import _data, _lbfgs, _stacked

N, D, K = 37, 6, 3


def _problem(hidden, activation, loss, dtype=np.float64, weighted=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    net = sj.mlp(D, hidden, K, activation=activation, dtype=dtype, seed=seed)
    for layer in net.layers:  # nonzero biases, so a dropped bias term shows
        if "b" in layer.params:
            layer.params["b"][...] = rng.uniform(-0.5, 0.5, layer.params["b"].shape)
    loss_fn = sj.losses.get(loss)
    if loss == "softmax_cross_entropy":
        y = rng.integers(0, K, N)
    elif loss == "binary_cross_entropy":
        y = (rng.random((N, K)) < 0.5).astype(float)
    elif loss == "poisson":
        y = rng.poisson(2.0, (N, K)).astype(float)
    else:
        y = rng.standard_normal((N, K))
    T = loss_fn.prepare_target(y, (N, K), net.compute_dtype)
    sw = rng.uniform(0.2, 2.0, N) if weighted else None
    return net, loss_fn, X, T, sw


def _objectives(hidden, activation, loss, **kw):
    """The same objective twice: through the stacked passes and through the network's."""
    stacked = _lbfgs.Objective(*_problem(hidden, activation, loss, **kw), alpha=1e-3)
    plain = _lbfgs.Objective(*_problem(hidden, activation, loss, **kw), alpha=1e-3)
    assert stacked.stacked is not None
    plain.stacked = None
    return stacked, plain


CASES = [
    ((5,), "relu", "softmax_cross_entropy"),
    ((7, 4), "tanh", "mse"),
    ((4, 5, 3), "sigmoid", "binary_cross_entropy"),
    ((6,), "identity", "poisson"),
    ((5, 5), "leaky_relu", "softmax_cross_entropy"),
    ((4,), "gelu", "mse"),
    ((), "relu", "softmax_cross_entropy"),  # no hidden layer: the output layer is first
]


@pytest.mark.parametrize("hidden, activation, loss", CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_stacked_passes_give_the_networks_loss_and_gradient(hidden, activation, loss, weighted):
    stacked, plain = _objectives(hidden, activation, loss, weighted=weighted)
    theta = stacked.theta()
    np.testing.assert_array_equal(theta, plain.theta())
    for _ in range(3):  # a few points, as scipy's iterations would move θ
        value, grad = stacked(theta)
        value_ref, grad_ref = plain(theta)
        assert value == pytest.approx(value_ref, rel=1e-13)
        scale = np.abs(grad_ref).max()
        np.testing.assert_allclose(grad, grad_ref, rtol=0, atol=1e-13 * scale)
        theta = theta - 0.3 * grad_ref


def test_stacked_passes_in_float32_agree_with_the_networks():
    stacked, plain = _objectives((8, 5), "relu", "softmax_cross_entropy", dtype=np.float32)
    theta = stacked.theta()
    value, grad = stacked(theta)
    value_ref, grad_ref = plain(theta)
    assert value == pytest.approx(value_ref, rel=1e-5)
    np.testing.assert_allclose(grad, grad_ref, rtol=0, atol=1e-5 * np.abs(grad_ref).max())


@pytest.mark.parametrize("hidden, activation, loss", CASES[:4])
def test_stacked_objective_passes_a_finite_difference_check(hidden, activation, loss):
    objective = _lbfgs.Objective(*_problem(hidden, activation, loss, weighted=True), alpha=0.1)
    assert objective.stacked is not None
    theta = objective.theta()
    _, grad = objective(theta)
    numeric = np.empty_like(theta)
    h = 1e-6
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (objective(up)[0] - objective(down)[0]) / (2 * h)
    error = np.abs(grad - numeric).max() / max(np.abs(grad).max(), np.abs(numeric).max())
    assert error < 1e-7


def test_networks_the_stacked_passes_do_not_cover_run_their_own_passes():
    net, loss, X, T, _ = _problem((5,), "relu", "softmax_cross_entropy")
    # A sparse X of more than one chunk is densified a chunk at a time, never whole.
    rows = 2 * _data.CHUNK_ROWS + 1
    tall = scipy.sparse.random(rows, D, density=0.3, format="csr", random_state=0)
    labels = loss.prepare_target(np.arange(rows) % K, (rows, K), np.dtype(np.float64))
    assert _lbfgs.Objective(net, loss, tall, labels, None, 0.0).stacked is None
    maxout = sj.mlp(D, [4], K, activation="maxout", dtype=np.float64, seed=0)
    assert _lbfgs.Objective(maxout, loss, X, T, None, 0.0).stacked is None
    ends_in_activation = sj.Sequential([sj.Linear(D, K, dtype=np.float64), sj.Tanh()])
    assert _lbfgs.Objective(ends_in_activation, loss, X, T, None, 0.0).stacked is None


def test_the_copy_of_x_is_bounded(monkeypatch):
    net, loss, X, T, _ = _problem((5,), "relu", "softmax_cross_entropy")
    monkeypatch.setattr(_stacked, "STACK_LIMIT", (D + 1) * N * 8 - 1)
    assert _lbfgs.Objective(net, loss, X, T, None, 0.0).stacked is None
    monkeypatch.setattr(_stacked, "STACK_LIMIT", (D + 1) * N * 8)
    assert _lbfgs.Objective(net, loss, X, T, None, 0.0).stacked is not None


def test_w_and_b_apart_in_memory_are_not_joined():
    net, *_ = _problem((5,), "relu", "softmax_cross_entropy")
    layer = net.layers[0]
    flat = np.zeros(layer.params["W"].size + layer.params["b"].size + 1)
    w = flat[: layer.params["W"].size].reshape(layer.params["W"].shape)
    assert _stacked._joined(flat, w, flat[w.size : w.size + w.shape[1]]) is not None
    assert _stacked._joined(flat, w, flat[w.size + 1 :]) is None  # a gap between them
    assert _stacked._joined(flat, w, layer.params["b"]) is None  # another array


def test_lbfgs_fit_through_the_stacked_passes_matches_the_networks_own():
    from shenjing.sklearn import MLPClassifier

    rng = np.random.default_rng(3)
    X = rng.standard_normal((120, 5))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
    fast = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0)
    fast.fit(X, y)
    original = _stacked.stack
    try:
        _stacked.stack = lambda *args: None  # the network's own passes
        slow = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0)
        slow.fit(X, y)
    finally:
        _stacked.stack = original
    assert fast.n_iter_ == slow.n_iter_
    assert fast.loss_ == pytest.approx(slow.loss_, rel=1e-6)
    np.testing.assert_allclose(fast.predict_proba(X), slow.predict_proba(X), atol=1e-6)

"""``fit(sample_weight=..., class_weight=...)``: the weighted losses' gradients (float64
finite differences), per-row losses, the Poisson loss, and what a weighted fit trains."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing.training.weighting import WeightedLoss, class_weight_per_row


def numeric_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f(x)
        x[i] = old - h
        down = f(x)
        x[i] = old
        g[i] = (up - down) / (2 * h)
    return g


def relative_error(a, b):
    """max |a - b| over the largest magnitude, as ``sj.gradcheck`` measures."""
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    return float(np.max(np.abs(a - b))) / scale if scale else 0.0


def case(name, rng, n=6, k=3):
    """A loss, raw outputs and a target it takes (float64)."""
    pred = rng.normal(size=(n, k))
    if name == "softmax_cross_entropy":
        return sj.SoftmaxCrossEntropy(), pred, rng.integers(0, k, n)
    if name == "weighted_classes":
        return sj.SoftmaxCrossEntropy(class_weight=[0.5, 2.0, 1.5]), pred, rng.integers(0, k, n)
    if name == "binary_cross_entropy":
        return sj.BinaryCrossEntropy(), pred, rng.random((n, k))
    if name == "poisson":
        return sj.PoissonLoss(), pred, rng.poisson(2.0, (n, k)).astype(float)
    if name == "huber":
        return sj.Huber(delta=0.7), pred, pred - rng.uniform(0.1, 2.0, (n, k))
    return sj.losses.get(name), pred, rng.normal(size=(n, k))


NAMES = [
    "sse",
    "mse",
    "huber",
    "softmax_cross_entropy",
    "weighted_classes",
    "binary_cross_entropy",
    "poisson",
]


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_of_the_weighted_loss(name, rng):
    loss, pred, target = case(name, rng)
    t = loss.prepare_target(target, pred.shape, pred.dtype)
    w = rng.uniform(0, 3, len(pred))
    w[0] = 0.0  # a row that does not count
    weighted = WeightedLoss(loss)
    weighted.forward(pred, t, w)
    analytic = weighted.backward().copy()
    numeric = numeric_grad(lambda z: WeightedLoss(loss).forward(z, t, w), pred.copy())
    assert relative_error(analytic, numeric) < 1e-7
    assert not analytic[0].any()  # weight 0: no gradient


@pytest.mark.parametrize("name", NAMES)
def test_row_losses_make_the_loss_and_the_weighted_mean(name, rng):
    loss, pred, target = case(name, rng)
    t = loss.prepare_target(target, pred.shape, pred.dtype)
    rows = loss.row_losses(pred, t)
    assert rows.shape == (len(pred),)
    total = rows.sum() if loss.reduction == "sum" else rows.mean()
    assert loss.forward_unchecked(pred, t) == pytest.approx(total, rel=1e-12)
    w = rng.uniform(0.5, 2.0, len(pred))
    expect = w @ rows if loss.reduction == "sum" else (w @ rows) / w.sum()
    assert WeightedLoss(loss).forward(pred, t, w) == pytest.approx(expect, rel=1e-12)
    # Equal weights are the unweighted loss, gradient included.
    weighted = WeightedLoss(loss)
    equal = np.full(len(pred), 1.0 if loss.reduction == "sum" else 2.5)
    assert weighted.forward(pred, t, equal) == pytest.approx(loss(pred, target), rel=1e-12)
    np.testing.assert_allclose(weighted.backward(), loss.backward(), rtol=1e-12, atol=1e-15)


# -- the Poisson loss ---------------------------------------------------------------------


def test_poisson_gradcheck_and_value(rng):
    special = pytest.importorskip("scipy.special")
    pred = rng.normal(size=(5, 2))
    y = rng.poisson(3.0, (5, 2)).astype(float)
    loss = sj.PoissonLoss()
    result = sj.gradcheck(loss, pred, y)
    assert result.max_error < 1e-7, str(result)
    mu = np.exp(pred)
    expected = np.mean(special.xlogy(y, y / mu) - y + mu)  # half the Poisson deviance
    assert loss(pred, y) == pytest.approx(expected, rel=1e-12)
    assert loss(np.log(y + 1.0), y + 1.0) == pytest.approx(0.0, abs=1e-12)  # e^z = y


def test_poisson_extreme_outputs_warn_nothing_and_are_honest():
    loss = sj.PoissonLoss()
    y = np.array([[0.0], [2.0]])
    big = loss(np.array([[800.0], [1.0]]), y)  # e^800 overflows: the loss is inf
    assert big == np.inf and np.isinf(loss.backward()[0, 0])
    small = loss(np.array([[-800.0], [-800.0]]), y)  # e^-800 = 0: finite, large
    assert np.isfinite(small) and np.isfinite(loss.backward()).all()
    with pytest.raises(sj.DataError, match="targets must be >= 0"):
        loss(np.zeros((2, 1)), [[-1.0], [1.0]])


# -- fit ----------------------------------------------------------------------------------


def _data(rng, n=24):
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


def test_integer_weights_train_as_repeated_rows(rng):
    X, y = _data(rng)
    w = rng.integers(0, 4, len(X))
    w[:2] = [1, 2]  # not all zero
    kw = dict(loss="ce", optimizer=sj.SGD(lr=0.5), epochs=5, batch_size=None)
    weighted = sj.mlp(3, [5], 2, seed=0, dtype="float64")
    h = weighted.fit(X, y, sample_weight=w, **kw)
    repeated = sj.mlp(3, [5], 2, seed=0, dtype="float64")
    kw["optimizer"] = sj.SGD(lr=0.5)
    g = repeated.fit(np.repeat(X, w, axis=0), np.repeat(y, w), **kw)
    for a, b in zip(weighted.parameters(), repeated.parameters(), strict=True):
        np.testing.assert_allclose(a.value, b.value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h.per_epoch["loss"], g.per_epoch["loss"], rtol=1e-12)


def test_unit_weights_train_as_no_weights(rng):
    X, y = _data(rng)
    kw = dict(loss="ce", epochs=3, batch_size=5, seed=1)
    a, b = (sj.mlp(3, [5], 2, seed=0, dtype="float64") for _ in range(2))
    ha = a.fit(X, y, **kw)
    hb = b.fit(X, y, sample_weight=np.ones(len(X)), **kw)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_allclose(p.value, q.value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ha.loss, hb.loss, rtol=1e-12)


def test_class_weight_multiplies_each_rows_weight(rng):
    _, y = _data(rng)
    y[:3] = 2
    loss = sj.SoftmaxCrossEntropy()
    t = loss.prepare_target(y, (len(y), 3), np.float64)
    per_row = class_weight_per_row([1.0, 3.0, 0.5], loss, t, 3)
    np.testing.assert_array_equal(per_row, np.array([1.0, 3.0, 0.5])[y])
    balanced = class_weight_per_row("balanced", loss, t, 3)
    np.testing.assert_allclose(np.bincount(y, weights=balanced), [len(y) / 3] * 3)
    assert class_weight_per_row({2: 4.0}, loss, t, 3)[0] == 4.0
    # Binary cross-entropy with one output: target 1 is class 1.
    bce = sj.BinaryCrossEntropy()
    col = bce.prepare_target(y[3:] % 2, (len(y) - 3, 1), np.float64)
    np.testing.assert_array_equal(
        class_weight_per_row([1.0, 5.0], bce, col, 1), np.where(y[3:] % 2, 5.0, 1.0)
    )


def test_class_weight_in_fit_is_sample_weight_by_class(rng):
    X, y = _data(rng)
    kw = dict(loss="ce", epochs=3, batch_size=6, seed=2)
    a, b = (sj.mlp(3, [4], 2, seed=0, dtype="float64") for _ in range(2))
    a.fit(X, y, class_weight=[1.0, 3.0], sample_weight=np.arange(1.0, 25.0), **kw)
    b.fit(X, y, sample_weight=np.arange(1.0, 25.0) * np.array([1.0, 3.0])[y], **kw)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_allclose(p.value, q.value, rtol=1e-12)


def test_callbacks_see_the_batch_weights(rng):
    X, y = _data(rng)
    seen = []

    class Record(sj.callbacks.Callback):
        def on_backward_end(self, state):
            seen.append(state.weights.copy())

    w = rng.uniform(0.1, 1.0, len(X))
    net = sj.mlp(3, [4], 2, seed=0)
    net.fit(
        X,
        y,
        loss="ce",
        epochs=1,
        batch_size=10,
        shuffle=False,
        sample_weight=w,
        callbacks=[Record()],
    )
    np.testing.assert_allclose(np.concatenate(seen), w)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"sample_weight": np.zeros(24)}, sj.DataError, "zero for every row"),
        ({"sample_weight": -np.ones(24)}, sj.DataError, "non-negative"),
        ({"sample_weight": np.ones(5)}, sj.ShapeError, r"shape \(24,\)"),
        ({"sample_weight": np.array(["a"] * 24)}, sj.DTypeError, "real numbers"),
        ({"sample_weight": np.r_[np.nan, np.ones(23)]}, sj.DataError, "sample_weight"),
        ({"class_weight": [1.0]}, sj.ShapeError, "1 weights, but the network has 2"),
        ({"class_weight": "equal"}, sj.ConfigError, "'balanced'"),
        ({"class_weight": {5: 1.0}}, sj.ConfigError, r"class indices in \[0, 2\)"),
        ({"class_weight": [1.0, -1.0]}, sj.DataError, "non-negative"),
    ],
)
def test_bad_weights_are_refused_before_training(kwargs, error, message, rng):
    X, y = _data(rng)
    net = sj.mlp(3, [4], 2, seed=0)
    before = [p.value.copy() for p in net.parameters()]
    with pytest.raises(error, match=message):
        net.fit(X, y, loss="ce", epochs=1, **kwargs)
    assert all(np.array_equal(a, p.value) for a, p in zip(before, net.parameters(), strict=True))


def test_class_weight_needs_a_classification_loss(rng):
    X, _ = _data(rng)
    with pytest.raises(sj.ConfigError, match="class_weight needs a classification loss"):
        sj.mlp(3, [4], 1, seed=0).fit(X, X[:, 0], loss="mse", class_weight=[1, 2])


def test_validation_split_keeps_the_training_rows_weights(rng):
    X, y = _data(rng, n=40)
    net = sj.mlp(3, [4], 2, seed=0)
    history = net.fit(
        X,
        y,
        loss="ce",
        epochs=2,
        validation_split=0.25,
        seed=0,
        sample_weight=rng.uniform(0.5, 1.5, 40),
    )
    assert len(history.per_epoch["val_loss"]) == 2

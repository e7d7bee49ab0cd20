"""SoftmaxCrossEntropy's optional class weights: values, gradients, the unweighted path."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj


def _labels_and_probs(rng, n=7, k=4):
    labels = rng.integers(0, k, size=n)
    labels[:k] = np.arange(k)  # every class present
    probs = rng.random((n, k))
    probs /= probs.sum(axis=1, keepdims=True)
    return labels, probs


@pytest.mark.parametrize("target_kind", ["labels", "onehot", "probabilities"])
def test_gradcheck_weighted_softmax_cross_entropy(target_kind, rng):
    labels, probs = _labels_and_probs(rng)
    target = {"labels": labels, "onehot": np.eye(4)[labels], "probabilities": probs}[target_kind]
    pred = rng.normal(size=(7, 4)) * 3
    loss = sj.SoftmaxCrossEntropy(class_weight=[0.5, 2.0, 1.0, 3.5])
    result = sj.gradcheck(loss, pred, target)
    assert result.max_error < 1e-7, str(result)


def test_weighted_value_by_hand(rng):
    labels, _ = _labels_and_probs(rng)
    pred = rng.normal(size=(7, 4))
    w = np.array([0.5, 2.0, 1.0, 3.5])
    log_p = pred - np.log(np.exp(pred).sum(axis=1, keepdims=True))
    expected = -(w[labels] * log_p[np.arange(7), labels]).sum() / 7
    got = sj.SoftmaxCrossEntropy(class_weight=w)(pred, labels)
    assert got == pytest.approx(expected, rel=1e-12)
    # Labels and their one-hot rows give the same loss and gradient.
    a = sj.SoftmaxCrossEntropy(class_weight=w)
    b = sj.SoftmaxCrossEntropy(class_weight=w)
    assert a(pred, labels) == pytest.approx(b(pred, np.eye(4)[labels]), rel=1e-12)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-12, atol=1e-15)


def test_matches_torch_weighted_cross_entropy(rng):
    torch = pytest.importorskip("torch")
    labels, _ = _labels_and_probs(rng)
    pred = rng.normal(size=(7, 4))
    w = np.array([0.5, 2.0, 1.0, 3.5])
    z = torch.tensor(pred, requires_grad=True)
    # Our mean divides by N, not by Σ w as torch's "mean" does: compare with sum / N.
    ref = torch.nn.functional.cross_entropy(
        z, torch.tensor(labels), weight=torch.tensor(w), reduction="sum"
    ) / len(labels)
    ref.backward()
    loss = sj.SoftmaxCrossEntropy(class_weight=w)
    assert loss(pred, labels) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), z.grad.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("target_kind", ["labels", "probabilities"])
def test_unit_weights_equal_the_unweighted_loss(target_kind, rng):
    labels, probs = _labels_and_probs(rng)
    target = labels if target_kind == "labels" else probs
    pred = rng.normal(size=(7, 4)).astype(np.float32)
    plain, ones = sj.SoftmaxCrossEntropy(), sj.SoftmaxCrossEntropy(class_weight=np.ones(4))
    assert ones(pred, target) == pytest.approx(plain(pred, target), rel=1e-6)
    np.testing.assert_allclose(ones.backward(), plain.backward(), rtol=1e-5, atol=1e-7)


def test_unweighted_default_is_unchanged():
    loss = sj.SoftmaxCrossEntropy()
    assert loss.class_weight is None
    assert repr(loss) == "SoftmaxCrossEntropy()"
    assert repr(sj.SoftmaxCrossEntropy(class_weight=[1, 2])) == (
        "SoftmaxCrossEntropy(class_weight=[1.0, 2.0])"
    )


def test_backward_dtype_follows_pred(rng):
    labels, _ = _labels_and_probs(rng)
    pred = rng.normal(size=(7, 4)).astype(np.float32)
    loss = sj.SoftmaxCrossEntropy(class_weight=[1, 2, 3, 4])
    loss(pred, labels)
    assert loss.backward().dtype == np.float32


@pytest.mark.parametrize(
    ("weights", "error", "match"),
    [
        ([1.0, -1.0], sj.DataError, "non-negative"),
        ([1.0, np.nan], sj.DataError, "non-finite"),
        ([[1.0, 2.0]], sj.DTypeError, "1-D"),
        (["a", "b"], sj.DTypeError, "real numbers"),
    ],
)
def test_bad_class_weights(weights, error, match):
    with pytest.raises(error, match=match):
        sj.SoftmaxCrossEntropy(class_weight=weights)


def test_class_weight_length_must_match_the_classes(rng):
    loss = sj.SoftmaxCrossEntropy(class_weight=[1.0, 2.0, 3.0])
    with pytest.raises(sj.ShapeError, match="3 weights but the predictions have 4 classes"):
        loss(rng.normal(size=(5, 4)), np.zeros(5, dtype=int))

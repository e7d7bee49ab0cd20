"""Losses: gradients, values against direct formulas, extreme logits, targets and errors."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import shenjing as sj

SHAPES = [(1, 1), (4, 3), (6, 2)]
CLASS_SHAPES = [(1, 2), (5, 3), (8, 6)]
LOSSES = {
    "sse": sj.SumSquaredError,
    "mse": sj.MeanSquaredError,
    "huber": sj.Huber,
    "softmax_cross_entropy": sj.SoftmaxCrossEntropy,
    "binary_cross_entropy": sj.BinaryCrossEntropy,
}


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[labels]


def huber_residuals(rng, shape, delta, where):
    """Residuals with |r| in (0.1δ, 0.9δ) ("below"), (1.1δ, 3δ) ("above") or a mix."""
    below = rng.uniform(0.1, 0.9, shape) * delta
    above = rng.uniform(1.1, 3.0, shape) * delta
    size = {
        "below": below,
        "above": above,
        "mixed": np.where(rng.random(shape) < 0.5, below, above),
    }
    return size[where] * rng.choice([-1.0, 1.0], shape)


# -- gradients ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ["sse", "mse"])
def test_gradcheck_squared_errors(name, shape, rng):
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    result = sj.gradcheck(LOSSES[name](), pred, target)
    assert list(result.errors) == ["pred"]
    assert result.max_error < 1e-7, str(result)


@pytest.mark.parametrize("where", ["below", "above", "mixed"])
@pytest.mark.parametrize("delta", [1.0, 0.5])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_gradcheck_huber(shape, delta, where, rng):
    pred = rng.standard_normal(shape)
    target = pred - huber_residuals(rng, shape, delta, where)
    result = sj.gradcheck(sj.Huber(delta=delta), pred, target)
    assert result.max_error < 1e-7, str(result)


@pytest.mark.parametrize("target_kind", ["labels", "one_hot", "probabilities"])
@pytest.mark.parametrize("shape", CLASS_SHAPES, ids=str)
def test_gradcheck_softmax_cross_entropy(shape, target_kind, rng):
    n, k = shape
    pred = 2.0 * rng.standard_normal(shape)
    labels = rng.integers(0, k, n)
    target = {
        "labels": labels,
        "one_hot": one_hot(labels, k),
        "probabilities": rng.dirichlet(np.ones(k), n),
    }[target_kind]
    result = sj.gradcheck(sj.SoftmaxCrossEntropy(), pred, target)
    assert result.max_error < 1e-7, str(result)


@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
@pytest.mark.parametrize("shape", [(1, 1), (5, 1), (9, 1), (4, 3), (6, 2), (2, 5)], ids=str)
def test_gradcheck_binary_cross_entropy(shape, soft, rng):
    pred = 2.0 * rng.standard_normal(shape)
    target = rng.random(shape) if soft else rng.integers(0, 2, shape).astype(np.float64)
    result = sj.gradcheck(sj.BinaryCrossEntropy(), pred, target)
    assert result.max_error < 1e-7, str(result)


def test_gradcheck_binary_cross_entropy_with_flat_targets(rng):
    pred = rng.standard_normal((5, 1))
    result = sj.gradcheck(sj.BinaryCrossEntropy(), pred, np.array([0, 1, 1, 0, 1]))
    assert result.max_error < 1e-7, str(result)


# -- values and gradients against direct formulas ---------------------------------------------


def test_sum_squared_error(rng):
    pred, target = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    loss = sj.SumSquaredError()
    assert loss(pred, target) == np.sum((pred - target) ** 2)
    np.testing.assert_array_equal(loss.backward(), 2.0 * (pred - target))


def test_mean_squared_error(rng):
    pred, target = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    loss = sj.MeanSquaredError()
    assert loss(pred, target) == pytest.approx(np.mean((pred - target) ** 2), rel=1e-15)
    np.testing.assert_allclose(loss.backward(), 2.0 * (pred - target) / 15, rtol=1e-15)


@pytest.mark.parametrize("delta", [1.0, 0.5, 2.0])
def test_huber(delta, rng):
    pred = rng.standard_normal((6, 4))
    r = huber_residuals(rng, (6, 4), delta, "mixed")
    loss = sj.Huber(delta=delta)
    a = np.abs(r)
    expected = np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta)).mean()
    assert loss(pred, pred - r) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(loss.backward(), np.clip(r, -delta, delta) / 24, rtol=1e-14)


def test_huber_default_delta_is_one():
    assert sj.Huber().delta == 1.0


def test_softmax_cross_entropy(rng):
    pred = 3.0 * rng.standard_normal((7, 4))
    labels = rng.integers(0, 4, 7)
    loss = sj.SoftmaxCrossEntropy()
    value = loss(pred, labels)
    with mp.workdps(50):
        exact = mp.fsum(
            mp.log(mp.fsum(mp.exp(mp.mpf(z)) for z in row)) - mp.mpf(row[y])
            for row, y in zip(pred.tolist(), labels.tolist(), strict=True)
        ) / len(labels)
    assert value == pytest.approx(float(exact), rel=1e-14)
    np.testing.assert_allclose(
        loss.backward(), (softmax(pred) - one_hot(labels, 4)) / 7, rtol=1e-13, atol=1e-17
    )


def test_softmax_cross_entropy_targets_agree(rng):
    pred = rng.standard_normal((6, 3))
    labels = rng.integers(0, 3, 6)
    results = []
    for target in (labels, one_hot(labels, 3), labels[:, None], labels.astype(np.float64)):
        loss = sj.SoftmaxCrossEntropy()
        results.append((loss(pred, target), loss.backward().copy()))
    for value, grad in results[1:]:
        # Labels pick one entry, one-hot rows sum over all of them: rounding may differ.
        assert value == pytest.approx(results[0][0], rel=1e-15)
        np.testing.assert_allclose(grad, results[0][1], rtol=0, atol=1e-17)


def test_softmax_cross_entropy_with_probability_rows(rng):
    pred = rng.standard_normal((5, 4))
    target = rng.dirichlet(np.ones(4), 5)
    loss = sj.SoftmaxCrossEntropy()
    log_p = np.log(softmax(pred))
    assert loss(pred, target) == pytest.approx(-np.sum(target * log_p) / 5, rel=1e-14)
    np.testing.assert_allclose(loss.backward(), (softmax(pred) - target) / 5, rtol=1e-13)


def test_binary_cross_entropy(rng):
    pred = 2.0 * rng.standard_normal((6, 3))
    target = rng.random((6, 3))
    p = 1.0 / (1.0 + np.exp(-pred))
    loss = sj.BinaryCrossEntropy()
    expected = np.mean(-target * np.log(p) - (1 - target) * np.log(1 - p))
    assert loss(pred, target) == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(loss.backward(), (p - target) / 18, rtol=1e-13, atol=1e-17)


def test_binary_cross_entropy_one_output_takes_flat_targets(rng):
    pred = rng.standard_normal((4, 1))
    loss = sj.BinaryCrossEntropy()
    flat = loss(pred, np.array([1, 0, 0, 1]))
    column = loss(pred, np.array([[1.0], [0.0], [0.0], [1.0]]))
    assert flat == column


@pytest.mark.parametrize("name", list(LOSSES))
def test_reduction_sum_or_mean(name, rng):
    # Stacking a batch on itself doubles a sum and leaves a mean as it was.
    pred = rng.standard_normal((4, 3))
    target = {
        "softmax_cross_entropy": rng.integers(0, 3, 4),
        "binary_cross_entropy": rng.random((4, 3)),
    }.get(name, rng.standard_normal((4, 3)))
    loss = LOSSES[name]()
    once = loss(pred, target)
    twice = loss(np.concatenate([pred, pred]), np.concatenate([target, target]))
    assert loss.reduction == ("sum" if name == "sse" else "mean")
    factor = 2.0 if loss.reduction == "sum" else 1.0
    assert twice == pytest.approx(factor * once, rel=1e-15)


@pytest.mark.parametrize("name", list(LOSSES))
def test_backward_shape_and_dtype_follow_pred(name, rng):
    loss = LOSSES[name]()
    for dtype in (np.float32, np.float64):
        pred = rng.standard_normal((3, 2)).astype(dtype)
        target = np.array([0, 1, 1]) if name == "softmax_cross_entropy" else np.zeros((3, 2))
        assert isinstance(loss(pred, target), float)
        grad = loss.backward()
        assert grad.shape == (3, 2) and grad.dtype == dtype


# -- extreme logits against a 50-digit reference ----------------------------------------------

EXTREMES = {
    np.float64: [0.0, 1.0, 20.0, 88.0, 710.0, 1e4, 1e308],
    np.float32: [0.0, 1.0, 20.0, 88.0, 710.0, 1e4, 3e38],
}
RTOL = {np.float64: 1e-12, np.float32: 1e-5}
DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])


@mp.workdps(50)
def ce_reference(row, label):
    """-log softmax(row)[label] and its gradient, in 50 digits, without cancellation."""
    z = [mp.mpf(v) for v in row]
    top = max(range(len(z)), key=lambda k: z[k])
    e = [mp.exp(v - z[top]) for v in z]
    rest = mp.fsum(e[k] for k in range(len(z)) if k != top)  # Σ e = 1 + rest
    loss = mp.log1p(rest) + (z[top] - z[label])
    p = [v / (1 + rest) for v in e]
    grad = [p[k] for k in range(len(z))]
    grad[label] = -mp.fsum(p[k] for k in range(len(z)) if k != label)  # p_y - 1
    return loss, grad


@mp.workdps(50)
def close(got, exact, rtol, atol):
    return abs(mp.mpf(got) - exact) <= rtol * abs(exact) + atol


@DTYPES
def test_softmax_cross_entropy_on_extreme_logits(dtype):
    rows = []
    for v in EXTREMES[dtype]:
        rows += [[v, 0.0, -1.0], [-v, 0.0, 1.0], [v, v, 0.0]]
    eps = float(np.finfo(dtype).eps)
    tiny = float(np.finfo(dtype).smallest_subnormal)
    loss = sj.SoftmaxCrossEntropy()
    for row in rows:
        z = np.array([row], dtype=dtype)
        for label in range(3):
            # Overflow, invalid and divide must not happen; underflow is how e^-1e4 and
            # friends correctly become 0 (NumPy ignores it by default).
            with np.errstate(all="raise", under="ignore"):
                value = loss(z, np.array([label]))
                grad = loss.backward()[0].copy()
            exact, exact_grad = ce_reference(z[0].tolist(), label)
            # The loss is log Σ e^(z - max z), a log of a number ≥ 1, and the label's
            # gradient is p - 1: both are known to one ulp of 1 in absolute terms (a
            # confident right answer's 2e-9 is 2e-9 ± 1e-16). Other gradients are
            # probabilities, accurate relative to themselves down to the subnormals.
            where = f"row {row}, label {label}: loss {value!r}, grad {grad.tolist()}"
            assert not np.isnan(value) and not np.isnan(grad).any(), where
            assert close(value, exact, RTOL[dtype], eps), where
            for k in range(3):
                atol = eps if k == label else tiny
                assert close(float(grad[k]), exact_grad[k], RTOL[dtype], atol), where


@DTYPES
def test_softmax_cross_entropy_of_a_tall_batch_matches_its_rows(dtype):
    # A batch with many more rows than classes takes row_reduce's column-wise path; on
    # the extreme rows it must give what each row gives alone (NumPy's row reduction).
    # Up to 1e4: a batch of several rows whose loss is near the float maximum would
    # overflow the batch's sum of row losses, which is not what this test is about.
    rows = []
    for v in EXTREMES[dtype][:-1]:
        rows += [[v, 0.0, -1.0], [-v, 0.0, 1.0], [v, v, 0.0]]
    z = np.array(rows * 3, dtype=dtype)  # 54 rows of 3 classes: 54 >= 16 * 3
    labels = np.arange(len(z)) % 3
    loss = sj.SoftmaxCrossEntropy()
    with np.errstate(all="raise", under="ignore"):
        value = loss(z, labels)
        grad = loss.backward().copy()
        singles = [
            (loss(z[i : i + 1], labels[i : i + 1]), loss.backward()[0].copy())
            for i in range(len(z))
        ]
    np.testing.assert_allclose(value, np.mean([v for v, _ in singles]), rtol=RTOL[dtype])
    np.testing.assert_allclose(
        grad * len(z),
        np.array([g for _, g in singles]),
        rtol=RTOL[dtype],
        atol=float(np.finfo(dtype).eps),
    )


@pytest.mark.parametrize("shape", [(1797, 10), (40, 2), (20, 2), (100, 33), (5, 1)])
def test_row_reduce_agrees_with_numpy(shape, rng):
    from shenjing.base.stable import row_reduce

    z = rng.standard_normal(shape)
    got_max, got_sum = row_reduce(np.maximum, z), row_reduce(np.add, z)
    assert got_max.shape == got_sum.shape == (shape[0], 1)
    np.testing.assert_array_equal(got_max, z.max(axis=1, keepdims=True))  # exact
    np.testing.assert_allclose(got_sum, z.sum(axis=1, keepdims=True), rtol=1e-13, atol=1e-13)


@mp.workdps(50)
def bce_reference(z, y):
    """softplus(z) - y z and σ(z) - y, in 50 digits, without cancellation."""
    z, y = mp.mpf(z), mp.mpf(y)
    loss = (max(z, 0) - y * z) + mp.log1p(mp.exp(-abs(z)))
    sig_z, sig_minus_z = 1 / (1 + mp.exp(-z)), 1 / (1 + mp.exp(z))
    grad = -sig_minus_z if y == 1 else sig_z - y
    return loss, grad


def bce_extremes(dtype, y):
    zs = sorted({s * v for v in EXTREMES[dtype] for s in (1.0, -1.0)})
    loss = sj.BinaryCrossEntropy()
    results = []
    for z in zs:
        with np.errstate(all="raise", under="ignore"):
            value = loss(np.array([[z]], dtype=dtype), np.array([[y]]))
            grad = float(loss.backward()[0, 0])
        results.append((z, value, grad, *bce_reference(float(dtype(z)), y)))
    return results


@pytest.mark.parametrize("y", [0.0, 0.5, 1.0])
@DTYPES
def test_binary_cross_entropy_gradient_on_extreme_logits(dtype, y):
    # σ(z) - y is a difference from a number of size 1: good to one ulp of 1 absolute.
    eps = float(np.finfo(dtype).eps)
    for z, value, grad, _, exact_grad in bce_extremes(dtype, y):
        assert not np.isnan(value) and not np.isnan(grad)
        assert close(grad, exact_grad, RTOL[dtype], eps), (z, grad, exact_grad)


@pytest.mark.parametrize("y", [0.0, 0.5, 1.0])
@DTYPES
def test_binary_cross_entropy_loss_on_extreme_logits(dtype, y):
    # Held to the relative tolerance alone, even for a confident right answer
    # (z = 20, y = 1: log1p(e^-20) = 2e-9, which a difference of two sums of size 20
    # would get wrong in the 7th digit). The absolute term only admits losses below the
    # smallest subnormal, which can only round to 0 (z = 1e4, y = 1: 1e-4343).
    tiny = float(np.finfo(dtype).smallest_subnormal)
    for z, value, _, exact, _ in bce_extremes(dtype, y):
        assert close(value, exact, RTOL[dtype], tiny), (z, value, mp.nstr(exact, 17))


@DTYPES
def test_binary_cross_entropy_of_several_huge_right_answers(dtype):
    big = EXTREMES[dtype][-1]
    pred = np.full((3, 1), big, dtype=dtype)
    loss = sj.BinaryCrossEntropy()
    with np.errstate(all="raise", under="ignore"):
        value = loss(pred, np.ones((3, 1)))
    assert value == 0.0


@pytest.mark.parametrize("target_kind", ["labels", "one_hot"])
@DTYPES
def test_softmax_cross_entropy_with_opposite_huge_logits(dtype, target_kind):
    big = EXTREMES[dtype][-1]
    pred = np.array([[big, -big]], dtype=dtype)
    target = np.array([0]) if target_kind == "labels" else np.array([[1.0, 0.0]])
    loss = sj.SoftmaxCrossEntropy()
    with np.errstate(all="raise", under="ignore"):
        value = loss(pred, target)
        grad = loss.backward()
    assert value == 0.0
    np.testing.assert_array_equal(grad, [[0.0, 0.0]])


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(LOSSES))
def test_backward_before_forward(name):
    loss = LOSSES[name]()
    with pytest.raises(sj.StateError, match=rf"{type(loss).__name__}\.backward called before"):
        loss.backward()


@pytest.mark.parametrize(
    ("pred", "error", "match"),
    [
        (np.ones(3), sj.ShapeError, r"pred must be 2-D \(N, D\), got shape \(3,\)"),
        (np.ones((2, 2, 2)), sj.ShapeError, "pred must be 2-D"),
        (np.ones((0, 2)), sj.DataError, "pred is empty"),
        (np.array([["a", "b"]]), sj.DTypeError, "pred must hold real numbers"),
        (np.ones((1, 2)) * 1j, sj.DTypeError, "pred must hold real numbers"),
        (np.array([[1, None]], dtype=object), sj.DTypeError, "pred must hold real numbers"),
    ],
    ids=["1-D", "3-D", "empty", "str", "complex", "object"],
)
@pytest.mark.parametrize("name", list(LOSSES))
def test_invalid_predictions(name, pred, error, match):
    with pytest.raises(error, match=match):
        LOSSES[name]()(pred, np.zeros(pred.shape[:1], dtype=np.intp))


@pytest.mark.parametrize("name", ["sse", "mse", "huber", "binary_cross_entropy"])
def test_invalid_regression_targets(name):
    loss = LOSSES[name]()
    pred = np.zeros((4, 2))
    with pytest.raises(sj.ShapeError, match=r"target must have the predictions' shape \(4, 2\)"):
        loss(pred, np.zeros((4, 3)))
    with pytest.raises(sj.ShapeError, match="target"):
        loss(pred, np.zeros(4))
    with pytest.raises(sj.DataError, match=r"target contains 1 non-finite.*index \(2, 1\)"):
        loss(pred, np.where(np.arange(8).reshape(4, 2) == 5, np.nan, 0.0))
    with pytest.raises(sj.DTypeError, match="target must hold real numbers"):
        loss(pred, np.full((4, 2), "a"))


@pytest.mark.parametrize("bad", [1.5, -0.1])
def test_binary_cross_entropy_targets_must_lie_in_0_1(bad):
    target = np.array([[0.0], [1.0], [bad]])
    with pytest.raises(sj.DataError, match=r"target must lie in \[0, 1\]"):
        sj.BinaryCrossEntropy()(np.zeros((3, 1)), target)


@pytest.mark.parametrize(
    ("target", "error", "match"),
    [
        (np.array([0, 1, 3]), sj.DataError, r"labels must lie in \[0, 3\) for 3 outputs"),
        (np.array([0, -1, 2]), sj.DataError, r"labels must lie in \[0, 3\)"),
        (np.array([0.0, 1.5, 2.0]), sj.DTypeError, "labels must be whole numbers"),
        (np.array([0.0, np.nan, 2.0]), sj.DataError, "target contains 1 non-finite"),
        (np.array([0, 1]), sj.ShapeError, "target must hold 3 labels, one per row, got 2"),
        (np.array([["a"], ["b"], ["c"]]), sj.DTypeError, "target must hold numbers"),
        (np.ones((3, 2)) / 2, sj.ShapeError, r"one-hot rows of shape \(3, 3\)"),
        (np.full((3, 3), 0.5), sj.DataError, "each target row must be non-negative and sum to 1"),
        (
            np.array([[1.5, -0.5, 0.0]] * 3),
            sj.DataError,
            "each target row must be non-negative and sum to 1",
        ),
    ],
    ids=[
        "label_too_big",
        "label_negative",
        "label_fraction",
        "label_nan",
        "label_count",
        "label_str",
        "row_width",
        "row_sum",
        "row_negative",
    ],
)
def test_invalid_class_targets(target, error, match):
    with pytest.raises(error, match=match):
        sj.SoftmaxCrossEntropy()(np.zeros((3, 3)), target)


@pytest.mark.parametrize("delta", [0, -1.0, float("inf"), "1"])
def test_huber_delta_must_be_positive(delta):
    with pytest.raises(sj.ConfigError, match="delta"):
        sj.Huber(delta=delta)


# -- lookup ---------------------------------------------------------------------------------


def test_get_by_name_alias_class_and_instance():
    assert type(sj.losses.get("sse")) is sj.SumSquaredError
    assert type(sj.losses.get("Mean-Squared-Error")) is sj.MeanSquaredError
    assert type(sj.losses.get("cross_entropy")) is sj.SoftmaxCrossEntropy
    assert type(sj.losses.get("bce")) is sj.BinaryCrossEntropy
    assert type(sj.losses.get(sj.Huber)) is sj.Huber
    huber = sj.Huber(delta=0.5)
    assert sj.losses.get(huber) is huber
    assert repr(huber) == "Huber(delta=0.5)"


def test_unknown_loss_lists_valid_names_and_suggests_the_closest():
    with pytest.raises(sj.ConfigError, match=r"Unknown loss 'msee'") as info:
        sj.losses.get("msee")
    message = str(info.value)
    assert "Did you mean 'mse'?" in message
    for name in sj.losses.names():
        assert name in message

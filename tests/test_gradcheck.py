"""gradcheck: it passes correct backward passes and fails deliberately broken ones."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj

# -- deliberately broken layers and losses ------------------------------------------------


class SigmoidTimesTwo(sj.Sigmoid):
    """Off by a factor: dx = 2 dout y (1 - y)."""

    def _backward(self, dout, dx):
        super()._backward(dout, dx)
        dx *= 2


class TanhWithoutSquare(sj.Tanh):
    """A term missing: dx = dout (1 - y) instead of dout (1 - y²)."""

    def _backward(self, dout, dx):
        np.subtract(1, self._y, out=dx)
        dx *= dout


class ReLUWithoutMask(sj.ReLU):
    """The mask forgotten: every gradient passes."""

    def _backward(self, dout, dx):
        np.copyto(dx, dout)


class LinearTransposedDW(sj.Linear):
    """dW = (x.T @ dout).T: the right shape for a square layer, the wrong gradient."""

    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.grads["W"][...] = self.grads["W"].T.copy()
        return dx


class LinearWithoutDb(sj.Linear):
    """db left at zero."""

    def backward(self, dout, need_dx=True):
        dx = super().backward(dout, need_dx)
        self.grads["b"].fill(0)
        return dx


class LinearDxWithoutTranspose(sj.Linear):
    """dx = dout @ W instead of dout @ W.T (same shape for a square layer)."""

    def backward(self, dout, need_dx=True):
        super().backward(dout, need_dx)
        return np.asarray(dout) @ self.W


class MaxoutWrongPiece(sj.Maxout):
    """The gradient routed to the next piece instead of the winning one."""

    def backward(self, dout, need_dx=True):
        self._winner[...] = (self._winner + 1) % self.pieces
        return super().backward(dout, need_dx)


class SSEWithoutTwo(sj.SumSquaredError):
    def _backward(self, grad):
        super()._backward(grad)
        grad /= 2


class CrossEntropyWithoutMean(sj.SoftmaxCrossEntropy):
    def _backward(self, grad):
        super()._backward(grad)
        grad *= grad.shape[0]


class BCEWithoutTarget(sj.BinaryCrossEntropy):
    """σ(z) / size: the -y term missing."""

    def _backward(self, grad):
        super()._backward(grad)
        grad += self._target / grad.size


class HuberWithoutClip(sj.Huber):
    def _backward(self, grad):
        np.copyto(grad, self._diff)
        grad /= grad.size


def square_linear(cls, rng, n=4, d=3):
    layer = cls(d, d, dtype="float64", seed=rng)
    layer.b[...] = rng.standard_normal(d)
    return layer, rng.standard_normal((n, d))


BROKEN_LAYERS = {
    "sigmoid_times_two": (lambda rng: (SigmoidTimesTwo(), rng.standard_normal((3, 4))), "x"),
    "tanh_without_square": (lambda rng: (TanhWithoutSquare(), rng.standard_normal((3, 4))), "x"),
    "relu_without_mask": (lambda rng: (ReLUWithoutMask(), rng.standard_normal((3, 4))), "x"),
    "linear_transposed_dw": (lambda rng: square_linear(LinearTransposedDW, rng), "W"),
    "linear_without_db": (lambda rng: square_linear(LinearWithoutDb, rng), "b"),
    "linear_dx_without_transpose": (lambda rng: square_linear(LinearDxWithoutTranspose, rng), "x"),
    "maxout_wrong_piece": (
        lambda rng: (
            MaxoutWrongPiece(3, 2, pieces=3, dtype="float64", seed=rng),
            rng.standard_normal((4, 3)),
        ),
        "W",
    ),
}


@pytest.mark.parametrize("name", list(BROKEN_LAYERS))
def test_a_broken_layer_fails(name, rng):
    make, culprit = BROKEN_LAYERS[name]
    layer, x = make(rng)
    result = sj.gradcheck(layer, x)
    assert not result.ok and not result
    assert result.errors[culprit] > 1e-3, str(result)
    assert result.max_error > 1e-3


def test_the_check_points_at_the_wrong_array(rng):
    layer, x = square_linear(LinearWithoutDb, rng)
    result = sj.gradcheck(layer, x)
    assert result.errors["b"] > 1e-3
    assert result.errors["x"] < 1e-7 and result.errors["W"] < 1e-7


@pytest.mark.parametrize(
    ("loss", "make_target"),
    [
        (SSEWithoutTwo(), lambda rng, p: rng.standard_normal(p.shape)),
        (CrossEntropyWithoutMean(), lambda rng, p: rng.integers(0, p.shape[1], p.shape[0])),
        (BCEWithoutTarget(), lambda rng, p: rng.integers(0, 2, p.shape).astype(float)),
        (HuberWithoutClip(delta=0.5), lambda rng, p: p - 2.0 * rng.choice([-1, 1], p.shape)),
    ],
    ids=["sse_without_two", "ce_without_mean", "bce_without_target", "huber_without_clip"],
)
def test_a_broken_loss_fails(loss, make_target, rng):
    pred = rng.standard_normal((4, 3))
    result = sj.gradcheck(loss, pred, make_target(rng, pred))
    assert not result.ok
    assert result.errors["pred"] > 1e-3, str(result)


@pytest.mark.parametrize("directions", [None, 3])
def test_a_broken_layer_inside_a_network_fails(directions, rng):
    kw = {"dtype": "float64", "seed": rng}
    net = sj.Sequential(sj.Linear(3, 4, **kw), SigmoidTimesTwo(), sj.Linear(4, 2, **kw))
    result = sj.gradcheck(net, rng.standard_normal((5, 3)), directions=directions)
    assert not result.ok
    assert result.max_error > 1e-3, str(result)
    if directions is None:
        # Everything in front of the broken layer is wrong; the layer after it is right.
        assert result.errors["2.W"] < 1e-7 and result.errors["0.W"] > 1e-3


def test_a_broken_backward_through_a_loss_fails(rng):
    kw = {"dtype": "float64", "seed": rng}
    net = sj.Sequential(sj.Linear(3, 4, **kw), sj.Tanh(), LinearTransposedDW(4, 4, **kw))
    labels = rng.integers(0, 4, 6)
    result = sj.gradcheck(net, rng.standard_normal((6, 3)), labels, loss="softmax_cross_entropy")
    assert not result.ok
    assert result.errors["2.W"] > 1e-3, str(result)


# -- the check itself -----------------------------------------------------------------------


def test_a_correct_layer_passes_and_reports_every_array(rng):
    layer, x = square_linear(sj.Linear, rng)
    result = sj.gradcheck(layer, x)
    assert result.ok and bool(result)
    assert list(result.errors) == ["x", "W", "b"]
    assert 0 < result.max_error < 1e-7
    text = str(result)
    assert text.startswith("gradcheck passed (tolerance 1e-07)")
    assert all(name in text for name in ("x", "W", "b"))
    assert "too large" not in text


def test_a_failure_is_flagged_in_the_table(rng):
    layer, x = square_linear(LinearWithoutDb, rng)
    lines = str(sj.gradcheck(layer, x)).splitlines()
    assert lines[0].startswith("gradcheck FAILED")
    assert [line.split()[0] for line in lines if line.endswith("<-- too large")] == ["b"]


def test_tolerance_sets_the_pass_mark(rng):
    layer, x = square_linear(sj.Linear, rng)
    result = sj.gradcheck(layer, x, tolerance=1e-20)
    assert result.tolerance == 1e-20
    assert not result.ok  # a real finite difference is never exact to 1e-20


def test_check_input_false_leaves_out_x(rng):
    layer, x = square_linear(sj.Linear, rng)
    result = sj.gradcheck(layer, x, check_input=False)
    assert list(result.errors) == ["W", "b"]


def test_gradcheck_restores_parameters_and_leaves_x_alone(rng):
    layer, x = square_linear(sj.Linear, rng)
    before = {k: v.copy() for k, v in layer.params.items()}
    x_before = x.copy()
    sj.gradcheck(layer, x)
    sj.gradcheck(layer, x, directions=4)
    for key, value in before.items():
        np.testing.assert_array_equal(layer.params[key], value, err_msg=key)
    np.testing.assert_array_equal(x, x_before)


def test_the_seed_fixes_the_result(rng):
    layer, x = square_linear(sj.Linear, rng)
    assert sj.gradcheck(layer, x, seed=3).errors == sj.gradcheck(layer, x, seed=3).errors
    a = sj.gradcheck(layer, x, seed=3, directions=2).errors
    assert a == sj.gradcheck(layer, x, seed=3, directions=2).errors


def test_inputs_may_be_lists_or_integers():
    layer = sj.Linear(2, 2, dtype="float64", seed=0)
    assert sj.gradcheck(layer, [[1, 2], [3, -1]]).max_error < 1e-7


def test_float32_parameters_are_refused():
    with pytest.raises(sj.DTypeError, match=r"float64.*'W' is float32.*astype\('float64'\)"):
        sj.gradcheck(sj.Linear(2, 2, seed=0), np.ones((3, 2)))


def test_a_loss_needs_its_target():
    with pytest.raises(sj.DTypeError, match="gradcheck of a loss needs its target"):
        sj.gradcheck(sj.MeanSquaredError(), np.ones((3, 2)))


def test_an_empty_result_passes():
    result = sj.GradCheckResult()
    assert result.max_error == 0.0 and result.ok

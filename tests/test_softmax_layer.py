"""Softmax as a layer: torch's numbers, the Jacobian-vector product, extreme scores."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_and_backward_match_torch(dtype, rng):
    torch = pytest.importorskip("torch")
    x = (rng.standard_normal((8, 5)) * 4).astype(dtype)
    dout = rng.standard_normal((8, 5)).astype(dtype)
    layer = sj.Softmax()
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.softmax(xt, dim=1)
    yt.backward(torch.tensor(dout))
    tol = 1e-14 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(layer.forward(x), yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), rtol=tol, atol=tol)


def test_gradcheck(rng):
    result = sj.gradcheck(sj.Softmax(), rng.standard_normal((4, 6)) * 2)
    assert result.ok and result.errors["x"] < 1e-7, str(result)


def test_rows_are_distributions_and_a_shift_changes_nothing(rng):
    x = rng.standard_normal((5, 4))
    y = sj.Softmax().forward(x).copy()
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-15)
    assert (y > 0).all()
    np.testing.assert_allclose(sj.Softmax().forward(x + 1000), y, rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_scores_without_warnings(dtype):
    fmax = np.finfo(dtype).max
    x = np.array([[fmax, -fmax, 0], [fmax, fmax, fmax], [-fmax, -fmax, 0]], dtype=dtype)
    layer = sj.Softmax()
    y = layer.forward(x)
    np.testing.assert_array_equal(y[0], [1, 0, 0])
    np.testing.assert_allclose(y[1], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_array_equal(y[2], [0, 0, 1])
    assert np.isfinite(layer.backward(np.ones_like(x))).all()


def test_errors():
    layer = sj.Softmax()
    with pytest.raises(sj.StateError):
        layer.backward(np.ones((1, 2)))
    with pytest.raises(sj.ShapeError, match=r"\(N, D\)"):
        layer.forward(np.ones(3))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(sj.ShapeError, match="dout"):
        layer.backward(np.ones((2, 2)))
    with pytest.raises(sj.DTypeError):
        layer.forward(np.array([["a", "b"]]))

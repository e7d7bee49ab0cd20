"""LayerNorm: torch.nn.LayerNorm's numbers, gradients, extremes, one function in both modes."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj

TOL = {"float64": 1e-13, "float32": 2e-6}


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_and_backward_match_torch(dtype, affine, rng):
    torch = pytest.importorskip("torch")
    d = 7
    ours = sj.LayerNorm(d, eps=1e-4, affine=affine, dtype=dtype)
    theirs = torch.nn.LayerNorm(d, eps=1e-4, elementwise_affine=affine, dtype=getattr(torch, dtype))
    if affine:
        g, b = rng.uniform(0.5, 2, d), rng.standard_normal(d)
        ours.params["gamma"][...], ours.params["beta"][...] = g, b
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(g))
            theirs.bias.copy_(torch.tensor(b))
    x = (rng.standard_normal((12, d)) * 3 + 4).astype(dtype)
    dout = rng.standard_normal((12, d)).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.tensor(dout))
    pairs = [(ours.forward(x), yt), (ours.backward(dout), xt.grad)]
    if affine:
        pairs += [(ours.grads["gamma"], theirs.weight.grad), (ours.grads["beta"], theirs.bias.grad)]
    tol = TOL[dtype]
    for got, want in pairs:
        want = want.detach().numpy()
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("affine", [True, False])
def test_gradcheck(affine, rng):
    ln = sj.LayerNorm(5, affine=affine, dtype="float64")
    for value in ln.params.values():
        value[...] = rng.standard_normal(5)
    x = rng.standard_normal((6, 5)) * 2 + 1
    for training in (True, False):
        result = sj.gradcheck(ln, x, training=training)
        assert result.ok and result.max_error < 1e-7, str(result)


def test_the_same_function_in_training_and_evaluation_mode(rng):
    ln = sj.LayerNorm(4, dtype="float64")
    x = rng.standard_normal((3, 4))
    y = ln.forward(x).copy()
    np.testing.assert_array_equal(ln.eval().forward(x), y)
    assert ln.persistent_state() == {} and ln.rng_state is None
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-15)
    np.testing.assert_allclose(y.var(axis=1), 1 / (1 + ln.eps / x.var(axis=1)), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_extreme_rows_without_warnings(dtype, rng):
    fmax = float(np.finfo(dtype).max)
    x = np.array(
        [[5.0, 5.0, 5.0, 5.0], [fmax, -fmax, fmax, 0.0], [1e-30, -1e-30, 0, 0], [0, 0, 0, 0]],
        dtype=dtype,
    )
    y = sj.LayerNorm(4, dtype=dtype).forward(x)
    assert np.isfinite(y).all()
    np.testing.assert_array_equal(y[0], 0)  # a constant row: x̂ = 0, not 0/0
    np.testing.assert_array_equal(y[3], 0)
    ln = sj.LayerNorm(4, dtype=dtype)
    big = ln.forward(x[1:2])
    pattern = np.array([[1.0, -1.0, 1.0, 0.0]])  # the row over the largest float
    np.testing.assert_allclose(big, (pattern - pattern.mean()) / pattern.std(), rtol=1e-5)
    assert np.isfinite(ln.backward(np.ones((1, 4), dtype))).all()


def test_errors():
    with pytest.raises(sj.ConfigError, match="features"):
        sj.LayerNorm(0)
    with pytest.raises(sj.ConfigError, match="eps"):
        sj.LayerNorm(3, eps=-1.0)
    ln = sj.LayerNorm(3)
    with pytest.raises(sj.StateError):
        ln.backward(np.ones((1, 3)))
    with pytest.raises(sj.ShapeError, match=r"\(N, 3\)"):
        ln.forward(np.ones((2, 2)))

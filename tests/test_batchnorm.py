"""BatchNorm: torch.nn.BatchNorm1d's numbers in both modes, gradients, extremes, state."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj

# rtol/atol of the comparison with torch, per dtype (relative to the values' scale).
TOL = {"float64": 1e-13, "float32": 2e-6}


def torch_pair(dtype, rng, momentum=0.1, affine=True, d=6):
    torch = pytest.importorskip("torch")
    ours = sj.BatchNorm(d, momentum=momentum, eps=1e-3, affine=affine, dtype=dtype)
    theirs = torch.nn.BatchNorm1d(
        d, momentum=momentum, eps=1e-3, affine=affine, dtype=getattr(torch, dtype)
    )
    if affine:
        g, b = rng.uniform(0.5, 2, d), rng.standard_normal(d)
        ours.params["gamma"][...], ours.params["beta"][...] = g, b
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(g))
            theirs.bias.copy_(torch.tensor(b))
    return torch, ours, theirs


def close(a, b, dtype):
    b = np.asarray(b)
    tol = TOL[dtype]
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(np.abs(b).max(), 1.0))


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_training_and_evaluation_match_torch(dtype, affine, rng):
    torch, ours, theirs = torch_pair(dtype, rng, momentum=0.2, affine=affine)
    for _ in range(4):  # training steps: batch statistics, running statistics updated
        x = (rng.standard_normal((16, 6)) * 3 + 5).astype(dtype)
        dout = rng.standard_normal((16, 6)).astype(dtype)
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt)
        yt.backward(torch.tensor(dout))
        close(ours.forward(x), yt.detach().numpy(), dtype)
        close(ours.backward(dout), xt.grad.numpy(), dtype)
        if affine:
            close(ours.grads["gamma"], theirs.weight.grad.numpy(), dtype)
            close(ours.grads["beta"], theirs.bias.grad.numpy(), dtype)
            theirs.weight.grad = theirs.bias.grad = None
        close(ours.running_mean, theirs.running_mean.numpy(), dtype)
        close(ours.running_var, theirs.running_var.numpy(), dtype)
    ours.eval()
    theirs.eval()
    x = (rng.standard_normal((9, 6)) * 3 + 5).astype(dtype)
    dout = rng.standard_normal((9, 6)).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.tensor(dout))
    close(ours.forward(x), yt.detach().numpy(), dtype)
    close(ours.backward(dout), xt.grad.numpy(), dtype)
    close(ours.running_var, theirs.running_var.numpy(), dtype)  # evaluation updates nothing


def test_the_momentum_convention_is_the_weight_of_the_new_batch():
    bn = sj.BatchNorm(1, momentum=0.25, dtype="float64")
    x = np.array([[1.0], [3.0], [5.0]])  # mean 3, unbiased variance 4
    bn.forward(x)
    np.testing.assert_allclose(bn.running_mean, [0.75 * 0 + 0.25 * 3])
    np.testing.assert_allclose(bn.running_var, [0.75 * 1 + 0.25 * 4])


def test_evaluation_uses_the_running_statistics(rng):
    bn = sj.BatchNorm(3, dtype="float64").eval()
    bn.running_mean[...] = [1.0, 2.0, 3.0]
    bn.running_var[...] = [4.0, 9.0, 16.0]
    bn.params["gamma"][...] = [1.0, 2.0, 3.0]
    x = rng.standard_normal((5, 3))
    expected = (x - bn.running_mean) / np.sqrt(bn.running_var + bn.eps) * bn.params["gamma"]
    np.testing.assert_allclose(bn.forward(x), expected, rtol=1e-15)
    np.testing.assert_allclose(bn.forward(x[:1]), expected[:1], rtol=1e-15)  # row by row


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck(training, affine, rng):
    bn = sj.BatchNorm(4, affine=affine, dtype="float64")
    for value in bn.params.values():
        value[...] = rng.standard_normal(4)
    bn.running_mean[...] = rng.standard_normal(4)
    bn.running_var[...] = rng.uniform(0.5, 2, 4)
    state = bn.persistent_state()
    result = sj.gradcheck(bn, rng.standard_normal((7, 4)) * 2 + 1, training=training)
    assert result.ok and result.max_error < 1e-7, str(result)
    assert set(result.errors) == {"x", *bn.params}
    for key, value in bn.persistent_state().items():  # running statistics untouched
        np.testing.assert_array_equal(value, state[key])


def test_gradcheck_fails_a_batchnorm_without_the_statistics_term(rng):
    class NoStatisticsTerm(sj.BatchNorm):
        def backward(self, dout, need_dx=True):
            super().backward(dout, need_dx)
            return np.asarray(dout) * self.params["gamma"] * self._inv_std

    layer = NoStatisticsTerm(4, dtype="float64")
    result = sj.gradcheck(layer, rng.standard_normal((6, 4)), training=True)
    assert not result.ok and result.errors["x"] > 1e-3


def test_a_constant_column_and_a_single_row_give_zeros_without_warnings():
    bn = sj.BatchNorm(3, dtype="float64")
    bn.params["beta"][...] = [0.5, -1.0, 2.0]
    x = np.array([[7.0, 0.1, 1.0], [7.0, 0.1, 2.0], [7.0, 0.1, 3.0]])
    y = bn.forward(x)
    np.testing.assert_array_equal(y[:, :2], [[0.5, -1.0]] * 3)  # x̂ = 0 exactly
    dx = bn.backward(np.ones((3, 3)))
    assert np.isfinite(dx).all()
    np.testing.assert_allclose(bn.running_var, [0.9, 0.9, 0.9 + 0.1 * 1.0])
    single = bn.forward(np.array([[4.0, 5.0, 6.0]]))  # one row: its own mean
    np.testing.assert_array_equal(single, [[0.5, -1.0, 2.0]])
    assert np.isfinite(bn.running_var).all()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_huge_and_tiny_values_normalise_without_overflow(dtype, rng):
    base = rng.standard_normal((32, 3))
    fmax = float(np.finfo(dtype).max)
    for scale in (1e300 if dtype == "float64" else 1e30, fmax / 4, 1.0):
        bn = sj.BatchNorm(3, dtype=dtype)
        ref = (base - base.mean(0)) / np.sqrt(base.var(0) + bn.eps / scale / scale)
        y = bn.forward((base * scale).astype(dtype))
        np.testing.assert_allclose(y, ref, rtol=1e-4 if dtype == "float32" else 1e-9, atol=1e-5)
        assert np.isfinite(bn.running_var).all() and np.isfinite(bn.running_mean).all()
        assert np.isfinite(bn.backward(np.ones((32, 3), dtype))).all()
    tiny = sj.BatchNorm(3, dtype=dtype).forward((base * 1e-30).astype(dtype))
    assert np.isfinite(tiny).all() and np.abs(tiny).max() < 1e-10  # spread ≪ √eps
    edge = np.array([[fmax, -fmax, 0], [fmax, fmax, 0]], dtype=dtype)
    assert np.isfinite(sj.BatchNorm(3, dtype=dtype).forward(edge)).all()


def test_persistent_state_round_trips_and_is_checked():
    bn = sj.BatchNorm(3, dtype="float64")
    bn.forward(np.arange(12.0).reshape(4, 3))
    state = bn.persistent_state()
    assert set(state) == {"running_mean", "running_var"}
    state["running_mean"][0] = 99.0  # a copy: the layer is not changed through it
    assert bn.running_mean[0] != 99.0
    other = sj.BatchNorm(3, dtype="float64")
    other.load_persistent_state(bn.persistent_state())
    np.testing.assert_array_equal(other.running_var, bn.running_var)
    with pytest.raises(sj.ConfigError, match="running_mean and running_var"):
        other.load_persistent_state({"running_mean": np.zeros(3)})
    with pytest.raises(sj.ShapeError, match=r"shape \(3,\)"):
        other.load_persistent_state({"running_mean": np.zeros(4), "running_var": np.ones(4)})


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_and_load_keep_the_running_statistics_bit_for_bit(dtype, tmp_path, rng):
    net = sj.mlp(3, [5], 2, norm="batch", dtype=dtype, seed=0)
    net.fit(rng.standard_normal((40, 3)), rng.standard_normal((40, 2)), loss="mse", epochs=2)
    bn = net[1]
    assert bn.running_mean.any()  # fit trained in training mode: the statistics moved
    sj.save(net, tmp_path / "bn.shj")
    loaded = sj.load(tmp_path / "bn.shj")
    assert loaded[1].running_mean.tobytes() == bn.running_mean.tobytes()
    assert loaded[1].running_var.tobytes() == bn.running_var.tobytes()
    x = rng.standard_normal((7, 3))
    assert loaded.predict(x).tobytes() == net.predict(x).tobytes()


def test_astype_converts_the_running_statistics():
    bn = sj.BatchNorm(2).astype("float64")
    assert bn.running_mean.dtype == bn.running_var.dtype == bn.dtype == np.float64
    assert sj.BatchNorm(2, affine=False).dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"features": 0}, "features"),
        ({"features": 2, "momentum": 1.5}, "momentum"),
        ({"features": 2, "eps": 0.0}, "eps"),
        ({"features": 2, "affine": "yes"}, "affine"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(sj.ConfigError, match=match):
        sj.BatchNorm(**kwargs)
    with pytest.raises(sj.DTypeError, match="dtype"):
        sj.BatchNorm(2, dtype="int8")


def test_shape_errors_and_backward_before_forward():
    bn = sj.BatchNorm(3)
    with pytest.raises(sj.StateError, match="before forward"):
        bn.backward(np.ones((2, 3)))
    with pytest.raises(sj.ShapeError, match=r"\(N, 3\)"):
        bn.forward(np.ones((2, 4)))
    bn.forward(np.ones((2, 3)))
    with pytest.raises(sj.ShapeError, match="dout"):
        bn.backward(np.ones((3, 3)))

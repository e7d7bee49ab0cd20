"""Activations: gradients, values at the kinks, extreme inputs, shapes and errors."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import shenjing as sj

# Every activation, with the hyper-parameters the issue asks for.
ACTIVATIONS = {
    "sigmoid": sj.Sigmoid,
    "tanh": sj.Tanh,
    "relu": sj.ReLU,
    "leaky_relu": sj.LeakyReLU,
    "leaky_relu_0.2": lambda: sj.LeakyReLU(negative_slope=0.2),
    "elu": sj.ELU,
    "elu_0.5": lambda: sj.ELU(alpha=0.5),
    "softplus": sj.Softplus,
    "gelu": sj.GELU,
    "identity": sj.Identity,
}
SHAPES = [(7,), (3, 4), (2, 3, 5)]


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal draws pushed to |x| >= 0.1, far from the kinks at 0 (eps is 1e-5)."""
    x = rng.standard_normal(shape)
    return np.where(x >= 0, x + 0.1, x - 0.1)


# -- gradients ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_gradcheck(name, shape, rng):
    x = away_from_zero(rng, shape)
    result = sj.gradcheck(ACTIVATIONS[name](), x)
    assert list(result.errors) == ["x"]
    assert result.max_error < 1e-7, str(result)


# -- values at the kinks, pinned exactly ------------------------------------------------

KINK_X = np.array([-1.0, 0.0, 1.0])
KINK_DOUT = np.array([2.0, 3.0, 4.0])


def test_relu_at_the_kink():
    relu = sj.ReLU()
    np.testing.assert_array_equal(relu.forward(KINK_X), [0.0, 0.0, 1.0])
    # ReLU'(0) = 0: no gradient flows at exactly zero.
    np.testing.assert_array_equal(relu.backward(KINK_DOUT), [0.0, 0.0, 4.0])


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_leaky_relu_at_the_kink(slope):
    layer = sj.LeakyReLU(negative_slope=slope)
    np.testing.assert_array_equal(layer.forward(KINK_X), [-1.0 * slope, 0.0, 1.0])
    # LeakyReLU'(0) = negative_slope: the x <= 0 branch owns zero.
    np.testing.assert_array_equal(layer.backward(KINK_DOUT), [2.0 * slope, 3.0 * slope, 4.0])


def test_leaky_relu_default_slope_is_the_notes_value():
    assert sj.LeakyReLU().negative_slope == 0.01


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_elu_at_the_kink(alpha):
    layer = sj.ELU(alpha=alpha)
    y = layer.forward(KINK_X)
    assert y[1] == 0.0 and y[2] == 1.0
    assert y[0] == pytest.approx(alpha * (np.exp(-1.0) - 1.0), rel=1e-15)
    dx = layer.backward(KINK_DOUT)
    # ELU'(0) = alpha, exactly.
    assert dx[1] == 3.0 * alpha
    assert dx[2] == 4.0
    assert dx[0] == pytest.approx(2.0 * alpha * np.exp(-1.0), rel=1e-15)


def test_tanh_is_a_scaled_sigmoid():
    x = np.linspace(-20.0, 20.0, 4001)
    tanh = sj.Tanh().forward(x)
    scaled = 2.0 * sj.Sigmoid().forward(2.0 * x) - 1.0
    # Both sides are within a couple of ulps of 1 of the exact value.
    np.testing.assert_allclose(tanh, scaled, rtol=0, atol=1e-15)


def test_sigmoid_and_tanh_at_zero():
    assert sj.Sigmoid().forward(np.zeros(1))[0] == 0.5
    assert sj.Tanh().forward(np.zeros(1))[0] == 0.0


# -- extreme inputs against a 50-digit reference ------------------------------------------

with mp.workdps(50):
    _K = mp.sqrt(2 / mp.pi)
    _A = mp.mpf("0.044715")


def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def _gelu(x):
    return x * _sigmoid(2 * _K * (x + _A * x**3))


def _gelu_grad(x):
    u2 = 2 * _K * (x + _A * x**3)
    # s (1 - s) written as σ(2u) σ(-2u), so that the reference itself does not cancel.
    return _sigmoid(u2) + x * _sigmoid(u2) * _sigmoid(-u2) * 2 * _K * (1 + 3 * _A * x**2)


# name: (class, f, f')
REFERENCES = {
    "sigmoid": (sj.Sigmoid, _sigmoid, lambda x: _sigmoid(x) * _sigmoid(-x)),
    "tanh": (sj.Tanh, mp.tanh, lambda x: mp.sech(x) ** 2),
    "softplus": (sj.Softplus, lambda x: mp.log1p(mp.exp(x)), _sigmoid),
    "gelu": (sj.GELU, _gelu, _gelu_grad),
    "elu": (sj.ELU, lambda x: x if x > 0 else mp.expm1(x), lambda x: 1 if x > 0 else mp.exp(x)),
    "leaky_relu": (
        sj.LeakyReLU,
        lambda x: x if x > 0 else mp.mpf(0.01) * x,
        lambda x: 1 if x > 0 else mp.mpf(0.01),
    ),
    "relu": (sj.ReLU, lambda x: x if x > 0 else 0, lambda x: 1 if x > 0 else 0),
}
# Sigmoid, tanh and ELU compute their derivative from the cached output (y(1 - y),
# 1 - y², y + alpha), as the notes do. Where y is within an ulp of its asymptote, that
# difference is only known to about one ulp of 1 in absolute terms (σ'(20) is
# 2.0611536e-09; float64 gives 2.0611537e-09 and float32 gives 0), so their backward pass
# is held to that absolute error on top of the relative tolerance. Every derivative here
# is at most 1 in size, so an ulp of 1 is the rounding of the largest gradient.
FROM_OUTPUT = {"sigmoid", "tanh", "elu"}
RTOL = {np.float64: 1e-12, np.float32: 1e-5}
EXTREMES = {
    np.float64: [0.0, 1.0, 20.0, 88.0, 710.0, 1e4, 1e308],
    np.float32: [0.0, 1.0, 20.0, 88.0, 710.0, 1e4, 3e38],
}


def extreme_inputs(dtype) -> np.ndarray:
    values = EXTREMES[dtype]
    return np.array(sorted({v for a in values for v in (a, -a)}), dtype=dtype)


def assert_matches_reference(got, x, reference, rtol, atol, what):
    assert not np.isnan(got).any(), f"{what}: NaN in {got}"
    for xi, gi in zip(x.tolist(), got.tolist(), strict=True):
        with mp.workdps(50):
            exact = mp.mpf(reference(mp.mpf(xi)))
            err = abs(mp.mpf(gi) - exact)
            assert err <= rtol * abs(exact) + atol, (
                f"{what} at x={xi!r}: got {gi!r}, reference {mp.nstr(exact, 17)}"
            )


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(REFERENCES))
def test_extreme_inputs_match_a_high_precision_reference(name, dtype):
    cls, f, df = REFERENCES[name]
    x = extreme_inputs(dtype)
    layer = cls()
    # Overflow, invalid operations and division by zero must not happen. Underflow must:
    # σ(-1e4) = 1e-4343 has no float representation but 0, and e^-1e4 rounding to 0 on
    # the way is how a correct implementation gets there (NumPy ignores underflow by
    # default for the same reason).
    with np.errstate(all="raise", under="ignore"):
        y = layer.forward(x).copy()
        dx = layer.backward(np.ones_like(x)).copy()
    assert y.dtype == dtype and dx.dtype == dtype
    # The absolute term admits results below the smallest subnormal, which can only
    # round to 0 (or to the smallest subnormal): e.g. σ(-1e308) or GELU(-88).
    tiny = float(np.finfo(dtype).smallest_subnormal)
    rtol = RTOL[dtype]
    assert_matches_reference(y, x, f, rtol, tiny, f"{name} forward")
    grad_atol = float(np.finfo(dtype).eps) if name in FROM_OUTPUT else tiny
    assert_matches_reference(dx, x, df, rtol, grad_atol, f"{name} backward")


# -- shapes, dtypes, buffers -------------------------------------------------------------


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_shape_and_dtype_are_kept(name, rng):
    layer = ACTIVATIONS[name]()
    for dtype in (np.float32, np.float64):
        x = away_from_zero(rng, (4, 3)).astype(dtype)
        y = layer.forward(x)
        assert y.shape == x.shape and y.dtype == dtype
        dx = layer.backward(np.ones_like(x))
        assert dx.shape == x.shape and dx.dtype == dtype


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_integer_input_is_converted_to_float64(name):
    layer = ACTIVATIONS[name]()
    y = layer.forward(np.array([[-2, -1, 0, 1, 2]])).copy()
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, ACTIVATIONS[name]().forward(np.arange(-2.0, 3.0)[None]))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_need_dx_false_returns_none(name, rng):
    layer = ACTIVATIONS[name]()
    x = away_from_zero(rng, (2, 3))
    layer.forward(x)
    assert layer.backward(np.ones_like(x), need_dx=False) is None


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_an_activation_applied_to_its_own_output(name):
    # forward returns a buffer the layer reuses; feeding that buffer straight back in
    # (act(act(x))) must still compute the composed function.
    x = np.linspace(-3.0, 3.0, 13)
    first, second = ACTIVATIONS[name](), ACTIVATIONS[name]()
    expected = second.forward(first.forward(x).copy())
    layer = ACTIVATIONS[name]()
    np.testing.assert_array_equal(layer.forward(layer.forward(x)), expected)


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_backward_before_forward(name):
    layer = ACTIVATIONS[name]()
    with pytest.raises(sj.StateError, match=rf"{type(layer).__name__}\.backward called before"):
        layer.backward(np.ones((2, 3)))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_dout_of_the_wrong_shape(name):
    layer = ACTIVATIONS[name]()
    layer.forward(np.ones((2, 3)))
    with pytest.raises(sj.ShapeError, match=r"dout must have the output's shape \(2, 3\)"):
        layer.backward(np.ones((3, 2)))


@pytest.mark.parametrize(
    "bad",
    [np.array([["a", "b"]]), np.array([[1, None]], dtype=object), np.ones((2, 2)) * 1j],
    ids=["str", "object", "complex"],
)
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_non_real_input_is_refused(name, bad):
    with pytest.raises(sj.DTypeError, match=r"x must hold real numbers"):
        ACTIVATIONS[name]().forward(bad)


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: sj.LeakyReLU(negative_slope=-1), "negative_slope"),
        (lambda: sj.LeakyReLU(negative_slope=1.0), "negative_slope"),
        (lambda: sj.LeakyReLU(negative_slope=float("nan")), "negative_slope"),
        (lambda: sj.LeakyReLU(negative_slope="0.1"), "negative_slope"),
        (lambda: sj.ELU(alpha=0), "alpha"),
        (lambda: sj.ELU(alpha=-1.0), "alpha"),
        (lambda: sj.ELU(alpha=True), "alpha"),
    ],
)
def test_invalid_hyper_parameters(make, argument):
    with pytest.raises(sj.ConfigError, match=argument):
        make()


# -- lookup by name ---------------------------------------------------------------------


def test_get_by_name_alias_class_and_instance():
    assert type(sj.activations.get("relu")) is sj.ReLU
    assert type(sj.activations.get("Leaky-ReLU")) is sj.LeakyReLU
    assert type(sj.activations.get("logistic")) is sj.Sigmoid
    assert type(sj.activations.get(sj.Tanh)) is sj.Tanh
    layer = sj.ELU(alpha=0.5)
    assert sj.activations.get(layer) is layer
    # A name gives a fresh object each time: layers cache their inputs.
    assert sj.activations.get("relu") is not sj.activations.get("relu")


def test_unknown_name_lists_valid_names_and_suggests_the_closest():
    with pytest.raises(sj.ConfigError, match=r"Unknown activation 'relux'") as info:
        sj.activations.get("relux")
    message = str(info.value)
    assert "Did you mean 'relu'?" in message
    for name in sj.activations.names():
        assert name in message


def test_repr_shows_the_hyper_parameters():
    assert repr(sj.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(sj.ELU(alpha=0.5)) == "ELU(alpha=0.5)"
    assert repr(sj.ReLU()) == "ReLU()"

"""Linear: y = x @ W + b, its gradients, its initial weights and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj

# (N, D, M)
SHAPES = [(1, 1, 1), (4, 3, 2), (6, 2, 5)]


def random_linear(rng, d, m, bias=True):
    """A float64 Linear with random weights and a non-zero bias."""
    layer = sj.Linear(d, m, bias=bias, dtype="float64", seed=rng)
    if bias:
        layer.b[...] = rng.standard_normal(m)
    return layer


# -- gradients -------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_gradcheck(shape, bias, rng):
    n, d, m = shape
    layer = random_linear(rng, d, m, bias)
    result = sj.gradcheck(layer, rng.standard_normal((n, d)))
    assert set(result.errors) == ({"x", "W", "b"} if bias else {"x", "W"})
    assert result.max_error < 1e-7, str(result)


def test_gradients_by_hand(rng):
    layer = random_linear(rng, 3, 2)
    x, dout = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    layer.forward(x)
    dx = layer.backward(dout)
    np.testing.assert_array_equal(layer.dW, x.T @ dout)
    np.testing.assert_array_equal(layer.db, dout.sum(axis=0))
    np.testing.assert_array_equal(dx, dout @ layer.W.T)


def test_backward_overwrites_the_gradients(rng):
    layer = random_linear(rng, 3, 2)
    x, dout = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer.forward(x)
    layer.backward(dout)
    first = {k: v.copy() for k, v in layer.grads.items()}
    layer.backward(dout)
    for key, grad in layer.grads.items():
        np.testing.assert_array_equal(grad, first[key], err_msg=key)


def test_need_dx_false_fills_the_same_gradients(rng):
    layer = random_linear(rng, 3, 2)
    x, dout = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer.forward(x)
    layer.backward(dout)
    expected = {k: v.copy() for k, v in layer.grads.items()}
    layer.zero_grad()
    assert layer.backward(dout, need_dx=False) is None
    for key, grad in layer.grads.items():
        np.testing.assert_array_equal(grad, expected[key], err_msg=key)


# -- forward -------------------------------------------------------------------------------


def test_weights_are_in_by_out_and_forward_is_x_at_w_plus_b(rng):
    layer = random_linear(rng, 4, 3)
    assert layer.W.shape == (4, 3) and layer.b.shape == (3,)
    assert layer.params["W"] is layer.W and layer.grads["W"] is layer.dW
    x = rng.standard_normal((5, 4))
    y = layer.forward(x)
    assert y.shape == (5, 3) and y.dtype == np.float64
    np.testing.assert_array_equal(y, x @ layer.W + layer.b)


def test_without_bias_there_is_no_b(rng):
    layer = sj.Linear(3, 2, bias=False, seed=0)
    assert set(layer.params) == {"W"} and layer.b is None and layer.db is None
    assert layer.num_parameters() == 6
    x = rng.standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(layer.forward(x), x @ layer.W)


def test_bias_starts_at_zero():
    np.testing.assert_array_equal(sj.Linear(3, 4, seed=0).b, np.zeros(4))


def test_default_dtype_is_float32_and_inputs_are_converted(rng):
    layer = sj.Linear(3, 2, seed=0)
    assert layer.W.dtype == np.float32 and layer.dtype == np.float32
    assert layer.forward(rng.standard_normal((4, 3))).dtype == np.float32
    y_int = layer.forward(np.array([[1, 0, 2]])).copy()
    np.testing.assert_array_equal(y_int, layer.forward(np.array([[1.0, 0.0, 2.0]])))


def test_num_parameters_and_config():
    layer = sj.Linear(5, 3, init="he", dtype="float64", seed=0)
    assert layer.num_parameters() == 5 * 3 + 3
    assert layer.get_config() == {
        "in_features": 5,
        "out_features": 3,
        "bias": True,
        "init": "he",
        "dtype": "float64",
    }
    assert repr(layer) == "Linear(5 -> 3)"
    assert repr(sj.Linear(2, 1, bias=False, seed=0)) == "Linear(2 -> 1, bias=False)"


def test_astype_converts_parameters_and_gradients(rng):
    layer = sj.Linear(3, 2, seed=0)
    w32 = layer.W.copy()
    assert layer.astype("float64") is layer
    assert layer.W.dtype == layer.b.dtype == layer.dW.dtype == layer.db.dtype == np.float64
    np.testing.assert_array_equal(layer.W, w32.astype(np.float64))
    assert layer.forward(rng.standard_normal((2, 3))).dtype == np.float64


# -- seeds and initial weights --------------------------------------------------------------


def test_same_seed_same_weights_and_different_seeds_differ():
    np.testing.assert_array_equal(sj.Linear(20, 10, seed=3).W, sj.Linear(20, 10, seed=3).W)
    assert not np.array_equal(sj.Linear(20, 10, seed=3).W, sj.Linear(20, 10, seed=4).W)


@pytest.mark.parametrize("init", ["normal", "xavier", "xavier_normal", "he", "he_uniform"])
def test_float32_and_float64_from_one_seed_agree_up_to_rounding(init):
    w64 = sj.Linear(30, 20, init=init, dtype="float64", seed=7).W
    w32 = sj.Linear(30, 20, init=init, dtype="float32", seed=7).W
    # The draws are made in float64 and then cast: the float32 weights are exactly the
    # float64 ones rounded.
    np.testing.assert_array_equal(w32, w64.astype(np.float32))
    assert not np.array_equal(w32.astype(np.float64), w64)  # really two precisions


def test_a_generator_is_accepted_and_advanced():
    gen = np.random.default_rng(5)
    first = sj.Linear(4, 3, seed=gen)
    second = sj.Linear(4, 3, seed=gen)
    np.testing.assert_array_equal(first.W, sj.Linear(4, 3, seed=5).W)
    assert not np.array_equal(first.W, second.W)


def test_reset_parameters_redraws_and_zeroes_the_bias():
    layer = sj.Linear(4, 3, dtype="float64", seed=1)
    layer.b[...] = 1.0
    layer.reset_parameters(seed=2)
    np.testing.assert_array_equal(layer.W, sj.Linear(4, 3, dtype="float64", seed=2).W)
    np.testing.assert_array_equal(layer.b, 0.0)


@pytest.mark.parametrize(
    ("init", "std"),
    [
        ("normal", lambda fan_in, fan_out: 1.0),
        ("xavier", lambda fan_in, fan_out: np.sqrt(6.0 / (fan_in + fan_out)) / np.sqrt(3.0)),
        ("xavier_normal", lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out))),
        ("he", lambda fan_in, fan_out: np.sqrt(2.0 / fan_in)),
        ("he_uniform", lambda fan_in, fan_out: np.sqrt(6.0 / fan_in) / np.sqrt(3.0)),
    ],
)
def test_initial_weight_statistics_on_a_large_layer(init, std):
    fan_in, fan_out = 600, 400
    w = sj.Linear(fan_in, fan_out, init=init, dtype="float64", seed=0).W
    expected = std(fan_in, fan_out)
    # 240,000 draws: the sample std has a relative standard error of at most
    # 1/sqrt(2n) = 0.14%, so 0.5% is 3.5 of them; the mean's standard error is
    # 0.2% of the std, so 1% is 5 of them.
    assert w.std() == pytest.approx(expected, rel=5e-3)
    assert abs(w.mean()) < 1e-2 * expected


@pytest.mark.parametrize(
    ("init", "bound"),
    [
        ("xavier", lambda fan_in, fan_out: np.sqrt(6.0 / (fan_in + fan_out))),
        ("he_uniform", lambda fan_in, fan_out: np.sqrt(6.0 / fan_in)),
    ],
)
def test_uniform_initialisers_fill_their_interval(init, bound):
    fan_in, fan_out = 600, 400
    w = sj.Linear(fan_in, fan_out, init=init, dtype="float64", seed=0).W
    a = bound(fan_in, fan_out)
    assert np.abs(w).max() <= a
    assert np.abs(w).max() > 0.999 * a


def test_default_initialiser_is_xavier():
    layer = sj.Linear(50, 30, dtype="float64", seed=11)
    np.testing.assert_array_equal(
        layer.W, sj.Linear(50, 30, init="xavier", dtype="float64", seed=11).W
    )


def test_a_callable_initialiser_is_used():
    layer = sj.Linear(2, 3, init=lambda rng, shape, fan_in, fan_out: np.full(shape, 0.5), seed=0)
    np.testing.assert_array_equal(layer.W, np.full((2, 3), 0.5, dtype=np.float32))
    assert "init" not in layer.get_config()


def test_no_layer_touches_the_global_rng():
    before = np.random.get_state()
    sj.Linear(10, 5)  # seed=None: fresh entropy, not the global RNG
    sj.Linear(10, 5, seed=1)
    sj.Linear(10, 5, seed=np.random.default_rng(2))
    sj.Maxout(10, 5, pieces=3)
    net = sj.Sequential(sj.Linear(3, 4, seed=0), sj.ReLU(), sj.Linear(4, 1, seed=1))
    net.reset_parameters()
    net.reset_parameters(seed=5)
    after = np.random.get_state()
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


def test_seed_none_gives_fresh_weights():
    assert not np.array_equal(sj.Linear(10, 10).W, sj.Linear(10, 10).W)


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"in_features": 0, "out_features": 3}, sj.ConfigError, "in_features"),
        ({"in_features": 2, "out_features": 0}, sj.ConfigError, "out_features"),
        ({"in_features": 2.0, "out_features": 3}, sj.ConfigError, "in_features"),
        ({"in_features": True, "out_features": 3}, sj.ConfigError, "in_features"),
        ({"in_features": 2, "out_features": 3, "dtype": "int32"}, sj.DTypeError, "dtype"),
        ({"in_features": 2, "out_features": 3, "dtype": "float16"}, sj.DTypeError, "dtype"),
        ({"in_features": 2, "out_features": 3, "dtype": "nonsense"}, sj.DTypeError, "dtype"),
        ({"in_features": 2, "out_features": 3, "bias": "yes"}, sj.ConfigError, "bias"),
        ({"in_features": 2, "out_features": 3, "init": "xavierr"}, sj.ConfigError, "'xavier'"),
        ({"in_features": 2, "out_features": 3, "seed": -1}, sj.ConfigError, "seed"),
        ({"in_features": 2, "out_features": 3, "seed": 1.5}, sj.ConfigError, "seed"),
    ],
)
def test_invalid_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        sj.Linear(**kwargs)


def test_one_dimensional_input_is_refused():
    with pytest.raises(sj.ShapeError, match=r"x must have shape \(N, 2\), got \(2,\)"):
        sj.Linear(2, 3, seed=0).forward(np.ones(2))


def test_wrong_input_width_is_refused():
    with pytest.raises(sj.ShapeError, match=r"Linear\(2 -> 3\): x must have shape \(N, 2\)"):
        sj.Linear(2, 3, seed=0).forward(np.ones((4, 3)))


def test_backward_before_forward():
    with pytest.raises(sj.StateError, match=r"Linear\.backward called before forward"):
        sj.Linear(2, 3, seed=0).backward(np.ones((4, 3)))


@pytest.mark.parametrize("shape", [(4, 2), (3, 3), (4,)])
def test_dout_of_the_wrong_shape(shape):
    layer = sj.Linear(2, 3, seed=0)
    layer.forward(np.ones((4, 2)))
    with pytest.raises(sj.ShapeError, match=r"dout must have shape \(4, 3\)"):
        layer.backward(np.ones(shape))

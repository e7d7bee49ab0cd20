"""sj.mlp: the one multi-layer perceptron builder."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj


def test_layers_and_shapes():
    net = sj.mlp(3, [8, 4], 2, activation="tanh", seed=0)
    assert repr(net) == "Sequential(Linear(3 -> 8), Tanh(), Linear(8 -> 4), Tanh(), Linear(4 -> 2))"
    assert net.predict(np.ones((5, 3))).shape == (5, 2)
    assert net.input_features == 3 and net.output_features(3) == 2


def test_an_int_is_one_hidden_layer_and_none_is_a_linear_model():
    assert repr(sj.mlp(2, 5, 1, seed=0)) == "Sequential(Linear(2 -> 5), ReLU(), Linear(5 -> 1))"
    assert repr(sj.mlp(2, (), 1, seed=0)) == "Sequential(Linear(2 -> 1))"


def test_options_reach_every_layer():
    net = sj.mlp(2, [3], 1, bias=False, dtype="float64", init="zeros", seed=0)
    linears = [layer for layer in net if isinstance(layer, sj.Linear)]
    assert len(linears) == 2
    for layer in linears:
        assert layer.params["W"].dtype == np.float64
        assert "b" not in layer.params
        assert not layer.params["W"].any()
    assert sj.mlp(2, [3], 1, seed=0)[0].params["W"].dtype == np.float32


def test_a_seed_fixes_every_weight():
    a, b = sj.mlp(4, [6, 5], 3, seed=7), sj.mlp(4, [6, 5], 3, seed=7)
    c = sj.mlp(4, [6, 5], 3, seed=8)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    assert not np.array_equal(a[0].params["W"], c[0].params["W"])


def test_layers_draw_from_one_generator_in_order():
    rng = np.random.default_rng(3)
    net = sj.mlp(4, [6], 2, dtype="float64", seed=rng)
    again = np.random.default_rng(3)
    first = sj.Linear(4, 6, dtype="float64", seed=again)
    second = sj.Linear(6, 2, dtype="float64", seed=again)
    np.testing.assert_array_equal(net[0].params["W"], first.params["W"])
    np.testing.assert_array_equal(net[2].params["W"], second.params["W"])
    assert rng.integers(1 << 30) == again.integers(1 << 30)  # the generator is advanced


def test_maxout():
    net = sj.mlp(2, [8, 4], 3, activation="maxout", pieces=3, seed=0)
    assert [type(layer).__name__ for layer in net] == ["Maxout", "Maxout", "Linear"]
    assert net[0].pieces == 3
    assert net.predict(np.ones((2, 2))).shape == (2, 3)
    assert type(sj.mlp(2, 4, 1, activation="MaxOut", seed=0)[0]).__name__ == "Maxout"


def test_activation_as_class_or_instance():
    assert isinstance(sj.mlp(2, [3, 3], 1, activation=sj.Sigmoid, seed=0)[1], sj.Sigmoid)
    leaky = sj.LeakyReLU(0.2)
    net = sj.mlp(2, [3, 3], 1, activation=leaky, seed=0)
    assert isinstance(net[1], sj.LeakyReLU) and isinstance(net[3], sj.LeakyReLU)
    assert net[1] is not net[3]  # every hidden layer has its own


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((0, [3], 1), {}, "in_features must be a positive integer"),
        ((2, [3], 0), {}, "out_features must be a positive integer"),
        ((2, [3, 0], 1), {}, r"hidden\[1\] must be a positive integer"),
        ((2, [True], 1), {}, r"hidden\[0\] must be a positive integer"),
        ((2, "64", 1), {}, "hidden must be a width or a sequence of widths"),
        ((2, None, 1), {}, "hidden must be a width or a sequence of widths"),
        ((2, [3], 1), {"activation": "swish"}, "Unknown activation 'swish'"),
        ((2, [3], 1), {"activation": "maxout", "pieces": 1}, "pieces must be"),
        ((2, [3], 1), {"init": "orthogonal"}, "orthogonal"),
        ((2, [3], 1), {"bias": 1}, "bias must be True or False"),
        ((2, [3], 1), {"seed": -1}, "seed must be None, a non-negative int"),
    ],
)
def test_bad_arguments(args, kwargs, match):
    with pytest.raises(sj.ConfigError, match=match):
        sj.mlp(*args, **kwargs)


def test_a_bad_dtype_is_a_dtype_error():
    with pytest.raises(sj.DTypeError, match="dtype must be 'float32' or 'float64'"):
        sj.mlp(2, [3], 1, dtype="int8")

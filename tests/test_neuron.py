"""Neuron: the notes' single neuron, its firing rate, its gradients and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shenjing as sj


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_the_notes_example_returns_the_firing_rate_as_a_float():
    inputs, weights, bias = np.array([1.0, 0.2]), np.array([0.5, -1.0]), 0.1
    neuron = sj.Neuron(weights, bias=bias)
    rate = neuron.forward(inputs)
    assert type(rate) is float
    expected = sigmoid(float(np.sum(inputs * weights)) + bias)
    assert rate == pytest.approx(expected, rel=1e-15, abs=0)
    assert round(rate, 4) == 0.5987


def test_a_batch_gives_one_rate_per_row(rng):
    weights = rng.standard_normal(4)
    neuron = sj.Neuron(weights, bias=-0.3)
    x = rng.standard_normal((5, 4))
    rates = neuron.forward(x)
    assert isinstance(rates, np.ndarray) and rates.shape == (5,) and rates.dtype == np.float64
    for row, rate in zip(x, rates, strict=True):
        assert rate == pytest.approx(sigmoid(float(row @ weights) - 0.3), rel=1e-15, abs=0)


def test_the_batch_result_is_a_fresh_array(rng):
    neuron = sj.Neuron(rng.standard_normal(3))
    first = neuron.forward(rng.standard_normal((4, 3)))
    kept = first.copy()
    neuron.forward(rng.standard_normal((4, 3)))
    np.testing.assert_array_equal(first, kept)


@pytest.mark.parametrize(
    ("activation", "reference"),
    [
        ("tanh", sj.Tanh),
        ("relu", sj.ReLU),
        ("identity", sj.Identity),
        (sj.Tanh, sj.Tanh),
        (sj.ELU(alpha=0.5), lambda: sj.ELU(alpha=0.5)),
    ],
    ids=["tanh", "relu", "identity", "class", "instance"],
)
def test_other_activations(activation, reference, rng):
    weights = rng.standard_normal(3)
    neuron = sj.Neuron(weights, bias=0.25, activation=activation)
    x = rng.standard_normal((6, 3))
    np.testing.assert_array_equal(neuron.forward(x), reference().forward(x @ weights + 0.25))


def test_weights_are_copied_and_properties():
    weights = [0.5, -1.0]
    array = np.array(weights)
    neuron = sj.Neuron(array, bias=2)
    array[0] = 100.0
    np.testing.assert_array_equal(neuron.weights, weights)
    assert type(neuron.bias) is float and neuron.bias == 2.0
    assert neuron.input_features == 2
    assert neuron.num_parameters() == 3
    assert repr(neuron) == "Neuron(2 inputs, activation=Sigmoid)"


# -- gradients --------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 3, 5])
def test_gradcheck_one_sample(d, rng):
    neuron = sj.Neuron(rng.standard_normal(d), bias=rng.standard_normal())
    result = sj.gradcheck(neuron, rng.standard_normal(d))
    assert set(result.errors) == {"x", "weights", "bias"}
    assert result.max_error < 1e-7, str(result)


@pytest.mark.parametrize("shape", [(1, 3), (4, 2), (6, 5)], ids=str)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus"])
def test_gradcheck_batch(shape, activation, rng):
    neuron = sj.Neuron(rng.standard_normal(shape[1]), bias=0.4, activation=activation)
    result = sj.gradcheck(neuron, rng.standard_normal(shape))
    assert set(result.errors) == {"x", "weights", "bias"}
    assert result.max_error < 1e-7, str(result)


def test_gradients_by_hand():
    neuron = sj.Neuron([0.5, -1.0], bias=0.1)
    x = np.array([1.0, 0.2])
    y = neuron.forward(x)
    dx = neuron.backward(2.0)
    dz = 2.0 * y * (1.0 - y)
    np.testing.assert_allclose(neuron.grads["weights"], dz * x, rtol=1e-15)
    assert float(neuron.grads["bias"]) == pytest.approx(dz, rel=1e-15)
    assert dx.shape == (2,)
    np.testing.assert_allclose(dx, dz * np.array([0.5, -1.0]), rtol=1e-15)


def test_backward_need_dx_false(rng):
    neuron = sj.Neuron(rng.standard_normal(3))
    neuron.forward(rng.standard_normal((4, 3)))
    assert neuron.backward(np.ones(4), need_dx=False) is None


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"weights": [[1.0, 2.0]]}, sj.ShapeError, "weights must be 1-D"),
        ({"weights": [1.0, np.nan]}, sj.DataError, r"weights contains 1 non-finite.*index 1"),
        ({"weights": []}, sj.DataError, "weights is empty"),
        ({"weights": ["a", "b"]}, sj.DTypeError, "weights"),
        ({"weights": [1.0], "bias": [1.0]}, sj.ShapeError, "bias"),
        ({"weights": [1.0], "activation": "relux"}, sj.ConfigError, "'relu'"),
    ],
)
def test_invalid_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        sj.Neuron(**kwargs)


@pytest.mark.parametrize(
    ("inputs", "error", "match"),
    [
        ([1.0, 2.0, 3.0], sj.ShapeError, r"inputs must have shape \(2,\) or \(N, 2\)"),
        (np.ones((3, 3)), sj.ShapeError, r"inputs must have shape \(2,\) or \(N, 2\)"),
        (np.ones((2, 2, 2)), sj.ShapeError, "inputs must be 1-D or 2-D"),
        (np.ones((0, 2)), sj.DataError, "inputs is empty"),
        (["a", "b"], sj.DTypeError, "inputs"),
        (np.array([1j, 1.0]), sj.DTypeError, "inputs"),
    ],
)
def test_invalid_inputs(inputs, error, match):
    with pytest.raises(error, match=match):
        sj.Neuron([1.0, 2.0]).forward(inputs)


@pytest.mark.parametrize("bias", [np.inf, np.nan])
def test_non_finite_bias_is_refused(bias):
    with pytest.raises(sj.DataError, match="bias"):
        sj.Neuron([1.0], bias=bias)


def test_backward_before_forward():
    with pytest.raises(sj.StateError, match=r"Neuron\.backward called before forward"):
        sj.Neuron([1.0, 2.0]).backward(1.0)


def test_dout_of_the_wrong_size():
    neuron = sj.Neuron([1.0, 2.0])
    neuron.forward(np.ones((3, 2)))
    with pytest.raises(sj.ShapeError, match=r"dout must hold 3 value\(s\), got 2"):
        neuron.backward(np.ones(2))

"""Maxout: the max over k affine pieces, its gradients, its tie rule and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj

# (N, D, M)
SHAPES = [(1, 1, 1), (3, 4, 2), (5, 3, 3)]


def random_maxout(rng, d, m, pieces):
    layer = sj.Maxout(d, m, pieces=pieces, dtype="float64", seed=rng)
    layer.b[...] = rng.standard_normal((m, pieces))
    return layer


def pieces_of(layer, x):
    """z[n, m, k], computed here without the layer."""
    z = np.einsum("nd,dmk->nmk", x, layer.W)
    return z if layer.b is None else z + layer.b


def separated_input(layer, n, rng):
    """An input whose pieces are all at least 1e-3 apart, so no nudge changes a winner."""
    for _ in range(1000):
        x = rng.standard_normal((n, layer.in_features))
        gaps = np.diff(np.sort(pieces_of(layer, x), axis=2), axis=2)
        if gaps.min() >= 1e-3:
            return x
    raise AssertionError("could not draw a separated input")


# -- gradients --------------------------------------------------------------------------


@pytest.mark.parametrize("pieces", [2, 3])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_gradcheck(shape, pieces, rng):
    n, d, m = shape
    layer = random_maxout(rng, d, m, pieces)
    x = separated_input(layer, n, rng)
    result = sj.gradcheck(layer, x)
    assert set(result.errors) == {"x", "W", "b"}
    assert result.max_error < 1e-7, str(result)


def test_gradcheck_without_bias(rng):
    layer = sj.Maxout(3, 2, pieces=3, bias=False, dtype="float64", seed=rng)
    x = separated_input(layer, 4, rng)
    result = sj.gradcheck(layer, x)
    assert set(result.errors) == {"x", "W"}
    assert result.max_error < 1e-7, str(result)


# -- forward --------------------------------------------------------------------------------


@pytest.mark.parametrize("pieces", [2, 3])
def test_forward_is_the_max_of_the_pieces(pieces, rng):
    layer = random_maxout(rng, 4, 3, pieces)
    x = rng.standard_normal((6, 4))
    y = layer.forward(x)
    assert y.shape == (6, 3)
    np.testing.assert_allclose(y, pieces_of(layer, x).max(axis=2), rtol=1e-14, atol=1e-15)
    assert layer.W.shape == (4, 3, pieces) and layer.b.shape == (3, pieces)
    assert layer.num_parameters() == 4 * 3 * pieces + 3 * pieces


def test_two_pieces_with_one_fixed_at_zero_is_relu(rng):
    # Small integers and dyadic weights: every sum is exact, so equality is exact.
    layer = sj.Maxout(3, 4, pieces=2, dtype="float64", seed=0)
    layer.W[:, :, 0] = rng.integers(-4, 5, (3, 4)) / 4
    layer.W[:, :, 1] = 0.0
    layer.b[:, 0] = rng.integers(-4, 5, 4) / 8
    layer.b[:, 1] = 0.0
    x = rng.integers(-3, 4, (10, 3)).astype(np.float64)
    expected = np.maximum(x @ layer.W[:, :, 0] + layer.b[:, 0], 0.0)
    np.testing.assert_array_equal(layer.forward(x), expected)


# -- ties: the first maximal piece takes the whole gradient ----------------------------------

X_EXACT = np.array([[1.0, 2.0], [-1.0, 3.0], [2.0, -2.0]])
DOUT_EXACT = np.array([[1.0], [2.0], [-1.0]])


def test_tie_between_two_equal_pieces_goes_to_the_first():
    layer = sj.Maxout(2, 1, pieces=2, dtype="float64", seed=0)
    layer.W[:, 0, 0] = layer.W[:, 0, 1] = [0.5, 0.25]
    layer.b[0] = [0.125, 0.125]
    y = layer.forward(X_EXACT)
    np.testing.assert_array_equal(y[:, 0], X_EXACT @ [0.5, 0.25] + 0.125)
    dx = layer.backward(DOUT_EXACT)
    np.testing.assert_array_equal(layer.dW[:, 0, 0], X_EXACT.T @ DOUT_EXACT[:, 0])
    np.testing.assert_array_equal(layer.dW[:, 0, 1], [0.0, 0.0])
    np.testing.assert_array_equal(layer.db[0], [DOUT_EXACT.sum(), 0.0])
    np.testing.assert_array_equal(dx, DOUT_EXACT @ [[0.5, 0.25]])


@pytest.mark.parametrize(
    ("tied", "loser"),
    [((1, 2), 0), ((0, 2), 1), ((0, 1), 2)],
)
def test_three_pieces_tie_goes_to_the_lower_index(tied, loser):
    layer = sj.Maxout(2, 1, pieces=3, dtype="float64", seed=0)
    for k in tied:
        layer.W[:, 0, k] = [0.5, -0.25]
    layer.W[:, 0, loser] = 0.0
    layer.b[0] = 0.0
    layer.b[0, loser] = -100.0  # far below the tied pair for every row
    layer.forward(X_EXACT)
    layer.backward(DOUT_EXACT)
    first, second = tied
    np.testing.assert_array_equal(layer.dW[:, 0, first], X_EXACT.T @ DOUT_EXACT[:, 0])
    np.testing.assert_array_equal(layer.dW[:, 0, second], [0.0, 0.0])
    np.testing.assert_array_equal(layer.dW[:, 0, loser], [0.0, 0.0])
    assert layer.db[0, first] == DOUT_EXACT.sum()
    assert layer.db[0, second] == 0.0 and layer.db[0, loser] == 0.0


def test_only_the_winner_of_each_row_gets_gradient():
    layer = sj.Maxout(1, 1, pieces=2, bias=False, dtype="float64", seed=0)
    layer.W[0, 0] = [1.0, -1.0]  # piece 0 wins for x > 0, piece 1 for x < 0
    x = np.array([[2.0], [-3.0], [0.5]])
    np.testing.assert_array_equal(layer.forward(x)[:, 0], [2.0, 3.0, 0.5])
    layer.backward(np.array([[1.0], [1.0], [1.0]]))
    np.testing.assert_array_equal(layer.dW[0, 0], [2.0 + 0.5, -3.0])


# -- buffers ----------------------------------------------------------------------------------


def test_a_smaller_batch_between_two_full_ones(rng):
    big, small = rng.standard_normal((6, 3)), rng.standard_normal((2, 3))
    dbig, dsmall = rng.standard_normal((6, 2)), rng.standard_normal((2, 2))

    def run(layer, x, dout):
        y = layer.forward(x).copy()
        dx = layer.backward(dout).copy()
        return y, dx, {k: v.copy() for k, v in layer.grads.items()}

    reused = sj.Maxout(3, 2, pieces=3, dtype="float64", seed=1)
    run(reused, big, dbig)
    got_small = run(reused, small, dsmall)
    got_big = run(reused, big, dbig)
    for got, x, dout in [(got_small, small, dsmall), (got_big, big, dbig)]:
        fresh = run(sj.Maxout(3, 2, pieces=3, dtype="float64", seed=1), x, dout)
        np.testing.assert_array_equal(got[0], fresh[0])
        np.testing.assert_array_equal(got[1], fresh[1])
        for key in fresh[2]:
            np.testing.assert_array_equal(got[2][key], fresh[2][key], err_msg=key)


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"pieces": 1}, sj.ConfigError, "pieces must be at least 2, got 1"),
        ({"pieces": 0}, sj.ConfigError, "pieces"),
        ({"pieces": 2.5}, sj.ConfigError, "pieces"),
        ({"in_features": 0}, sj.ConfigError, "in_features"),
        ({"out_features": 0}, sj.ConfigError, "out_features"),
        ({"dtype": "int32"}, sj.DTypeError, "dtype"),
        ({"init": "hee"}, sj.ConfigError, "'he'"),
        ({"bias": 1}, sj.ConfigError, "bias"),
    ],
)
def test_invalid_construction(kwargs, error, match):
    args = {"in_features": 3, "out_features": 2, **kwargs}
    with pytest.raises(error, match=match):
        sj.Maxout(**args)


def test_wrong_input_width_and_rank():
    layer = sj.Maxout(3, 2, seed=0)
    with pytest.raises(sj.ShapeError, match=r"x must have shape \(N, 3\), got \(4, 2\)"):
        layer.forward(np.ones((4, 2)))
    with pytest.raises(sj.ShapeError, match=r"x must have shape \(N, 3\), got \(3,\)"):
        layer.forward(np.ones(3))


def test_backward_before_forward():
    with pytest.raises(sj.StateError, match=r"Maxout\.backward called before forward"):
        sj.Maxout(3, 2, seed=0).backward(np.ones((4, 2)))


def test_dout_of_the_wrong_shape():
    layer = sj.Maxout(3, 2, seed=0)
    layer.forward(np.ones((4, 3)))
    with pytest.raises(sj.ShapeError, match=r"dout must have shape \(4, 2\), got \(4, 3\)"):
        layer.backward(np.ones((4, 3)))


def test_repr_and_config():
    layer = sj.Maxout(3, 2, pieces=3, seed=0)
    assert repr(layer) == "Maxout(3 -> 2, pieces=3)"
    assert layer.get_config()["pieces"] == 3
    assert layer.W.dtype == np.float32

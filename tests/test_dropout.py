"""Dropout: inverted scaling, modes, a seeded and replayable mask, gradients and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shenjing as sj


def test_training_mode_zeroes_about_p_and_scales_the_rest(rng):
    layer = sj.Dropout(0.3, seed=0)
    x = rng.uniform(1, 2, (400, 50))
    y = layer.forward(x)
    dropped = y == 0
    assert abs(dropped.mean() - 0.3) < 0.01  # 20,000 draws: the standard error is 0.003
    np.testing.assert_allclose(y[~dropped], x[~dropped] / 0.7, rtol=1e-15)
    np.testing.assert_array_equal(layer.mask, np.where(dropped, 0.0, 1 / 0.7))
    assert abs(y.mean() / x.mean() - 1) < 0.02  # E[y] = x: inverted dropout


def test_evaluation_mode_is_the_identity(rng):
    layer = sj.Dropout(0.5, seed=0).eval()
    x = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(layer.forward(x), x)
    dout = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(layer.backward(dout), dout)
    assert layer.mask is None


def test_p_zero_keeps_every_unit(rng):
    x = rng.standard_normal((5, 4))
    np.testing.assert_array_equal(sj.Dropout(0.0, seed=0).forward(x), x)


def test_backward_uses_the_mask_of_the_forward(rng):
    layer = sj.Dropout(0.5, seed=1)
    layer.forward(np.ones((6, 5)))
    mask = layer.mask.copy()
    dout = rng.standard_normal((6, 5))
    np.testing.assert_array_equal(layer.backward(dout), dout * mask)


def test_gradcheck_in_training_mode_with_a_fixed_mask_and_in_evaluation_mode(rng):
    x = rng.standard_normal((6, 5))
    layer = sj.Dropout(0.4, seed=2)
    state = layer.rng_state
    trained = sj.gradcheck(layer, x, training=True)
    assert trained.ok and trained.errors["x"] < 1e-7, str(trained)
    assert layer.rng_state == state  # gradcheck leaves the random state as it was
    evaluated = sj.gradcheck(layer, x)
    assert evaluated.ok and evaluated.errors["x"] < 1e-7, str(evaluated)
    assert layer.training  # the mode is restored too


def test_gradcheck_fails_a_dropout_whose_backward_ignores_the_mask(rng):
    class NoMaskBackward(sj.Dropout):
        def backward(self, dout, need_dx=True):
            return np.asarray(dout)

    result = sj.gradcheck(NoMaskBackward(0.5, seed=0), rng.standard_normal((6, 5)), training=True)
    assert not result.ok and result.errors["x"] > 1e-3


def test_a_seed_fixes_the_masks_and_rng_state_replays_them():
    a, b = sj.Dropout(0.5, seed=7), sj.Dropout(0.5, seed=7)
    x = np.ones((8, 8))
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    saved = json.loads(json.dumps(a.rng_state))  # what a checkpoint holds
    first = a.forward(x).copy()
    second = a.forward(x).copy()
    assert not np.array_equal(first, second)  # a new mask every pass
    a.rng_state = saved
    np.testing.assert_array_equal(a.forward(x), first)
    np.testing.assert_array_equal(a.forward(x), second)


def test_float32_and_float64_drop_the_same_units():
    x = np.ones((10, 10))
    y64 = sj.Dropout(0.5, seed=3).forward(x)
    y32 = sj.Dropout(0.5, seed=3).forward(x.astype(np.float32))
    assert y32.dtype == np.float32
    np.testing.assert_array_equal(y32 == 0, y64 == 0)


def test_extreme_inputs_stay_finite_without_warnings():
    for dtype, big in ((np.float64, 1e300), (np.float32, 1e30)):
        x = np.array([[big, -big, 0.0, np.finfo(dtype).tiny]] * 50, dtype=dtype)
        y = sj.Dropout(0.5, seed=0).forward(x)
        assert np.isfinite(y).all() and y.dtype == dtype


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5", None, float("nan")])
def test_bad_p_is_refused(p):
    with pytest.raises(sj.ConfigError, match="p"):
        sj.Dropout(p)


def test_bad_rng_state_and_shapes_are_refused():
    layer = sj.Dropout(0.5, seed=0)
    for bad in ({"bit_generator": "MT19937"}, "state", {"state": object()}):
        with pytest.raises(sj.ConfigError, match="rng_state"):
            layer.rng_state = bad
    with pytest.raises(sj.StateError, match="before forward"):
        layer.backward(np.ones((2, 2)))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(sj.ShapeError, match="dout"):
        layer.backward(np.ones((2, 4)))
    with pytest.raises(sj.DTypeError):
        layer.forward(np.array([["a"]]))


def test_layers_without_randomness_have_no_rng_state():
    assert sj.Linear(2, 2, seed=0).rng_state is None
    sj.ReLU().rng_state = None  # accepted: nothing to set
    with pytest.raises(sj.ConfigError, match="no random numbers"):
        sj.ReLU().rng_state = {"state": 1}


def test_save_and_load_keep_the_random_state(tmp_path):
    net = sj.Sequential(
        sj.Linear(3, 4, seed=0), sj.Dropout(0.5, seed=None), sj.Linear(4, 1, seed=1)
    )
    net[1].forward(np.ones((2, 4)))  # advance it past its seed
    sj.save(net, tmp_path / "d.shj")
    loaded = sj.load(tmp_path / "d.shj")
    assert loaded[1].rng_state == net[1].rng_state and loaded[1].p == 0.5
    x = np.ones((5, 4))
    np.testing.assert_array_equal(loaded[1].forward(x), net[1].forward(x))

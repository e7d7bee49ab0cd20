"""Initialisers and seeds: the distributions, the casting, and explicit randomness."""

from __future__ import annotations

import numpy as np
import pytest
from shenjing.initializers import as_generator, initialize

import shenjing as sj

NAMES = ["normal", "xavier", "xavier_normal", "he", "he_uniform", "zeros"]


def test_names():
    assert sj.initializers.INITIALIZERS.names() == sorted(NAMES)


@pytest.mark.parametrize(
    ("name", "draw"),
    [
        ("normal", lambda g, fi, fo, s: g.standard_normal(s)),
        (
            "xavier",
            lambda g, fi, fo, s: g.uniform(-np.sqrt(6 / (fi + fo)), np.sqrt(6 / (fi + fo)), s),
        ),
        ("xavier_normal", lambda g, fi, fo, s: g.standard_normal(s) * np.sqrt(2 / (fi + fo))),
        ("he", lambda g, fi, fo, s: g.standard_normal(s) * np.sqrt(2 / fi)),
        ("he_uniform", lambda g, fi, fo, s: g.uniform(-np.sqrt(6 / fi), np.sqrt(6 / fi), s)),
        ("zeros", lambda g, fi, fo, s: np.zeros(s)),
    ],
)
def test_each_initialiser_is_its_documented_distribution(name, draw):
    # Same generator state, same draws: the formula in the module table, exactly.
    shape, fan_in, fan_out = (7, 5), 7, 5
    got = initialize(name, np.random.default_rng(3), shape, fan_in, fan_out, np.dtype(np.float64))
    expected = draw(np.random.default_rng(3), fan_in, fan_out, shape)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float64 and got.flags.c_contiguous


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("randn", "normal"),
        ("glorot", "xavier"),
        ("Glorot-Uniform", "xavier"),
        ("kaiming", "he"),
        ("kaiming_uniform", "he_uniform"),
    ],
)
def test_aliases(alias, name):
    a = initialize(alias, np.random.default_rng(0), (4, 3), 4, 3, np.dtype(np.float64))
    b = initialize(name, np.random.default_rng(0), (4, 3), 4, 3, np.dtype(np.float64))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_float32_is_the_float64_draw_rounded(name):
    w64 = initialize(name, np.random.default_rng(1), (20, 10), 20, 10, np.dtype(np.float64))
    w32 = initialize(name, np.random.default_rng(1), (20, 10), 20, 10, np.dtype(np.float32))
    assert w32.dtype == np.float32
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


def test_maxout_uses_fan_in_and_fan_out_without_the_pieces():
    layer = sj.Maxout(200, 100, pieces=4, init="xavier_normal", dtype="float64", seed=0)
    # fan_in + fan_out = 300 (not 200 + 400): std √(2/300)
    assert layer.W.std() == pytest.approx(np.sqrt(2 / 300), rel=1e-2)
    expected = initialize(
        "xavier_normal", np.random.default_rng(0), (200, 100, 4), 200, 100, np.dtype(np.float64)
    )
    np.testing.assert_array_equal(layer.W, expected)


def test_a_callable_must_return_the_right_shape():
    def bad(rng, shape, fan_in, fan_out):
        return np.zeros((1, 1))

    with pytest.raises(sj.ConfigError, match=r"returned shape \(1, 1\), expected \(2, 3\)"):
        sj.Linear(2, 3, init=bad, seed=0)


def test_unknown_initialiser_lists_valid_names_and_suggests_the_closest():
    with pytest.raises(sj.ConfigError, match=r"Unknown initializer 'xavir'") as info:
        sj.Linear(2, 3, init="xavir")
    assert "Did you mean 'xavier'?" in str(info.value)
    for name in NAMES:
        assert name in str(info.value)


# -- seeds ------------------------------------------------------------------------------


def test_as_generator_with_an_int_is_reproducible():
    a, b = as_generator(42), as_generator(42)
    np.testing.assert_array_equal(a.standard_normal(5), b.standard_normal(5))
    np.testing.assert_array_equal(
        as_generator(np.int64(42)).standard_normal(5), np.random.default_rng(42).standard_normal(5)
    )


def test_as_generator_returns_a_generator_as_is():
    gen = np.random.default_rng(0)
    assert as_generator(gen) is gen


def test_as_generator_none_is_fresh_entropy_not_the_global_rng():
    before = np.random.get_state()
    a, b = as_generator(None), as_generator(None)
    assert isinstance(a, np.random.Generator)
    assert not np.array_equal(a.standard_normal(4), b.standard_normal(4))
    after = np.random.get_state()
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, np.random.RandomState(0)])
def test_as_generator_refuses_other_seeds(seed):
    with pytest.raises(sj.ConfigError, match=r"seed must be None, a non-negative int or a"):
        as_generator(seed)


def test_as_generator_names_the_argument():
    with pytest.raises(sj.ConfigError, match=r"^shuffle_seed must be"):
        as_generator(-3, name="shuffle_seed")

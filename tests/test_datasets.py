"""Built-in datasets: documented shapes and dtypes, reproducible from a seed, checked input."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing import datasets

# name, kwargs, x shape, y shape, y dtype kind
SHAPES = [
    ("spiral", {"points_per_class": 7, "classes": 4}, (28, 2), (28,), "i"),
    ("moons", {"n_samples": 11}, (11, 2), (11,), "i"),
    ("circles", {"n_samples": 9}, (9, 2), (9,), "i"),
    ("blobs", {"n_samples": 10, "centers": 3, "features": 5}, (10, 5), (10,), "i"),
    ("sine", {"n_samples": 13}, (13, 1), (13, 1), "f"),
    ("notes_regression", {"n": 6, "d_in": 4, "d_out": 3}, (6, 4), (6, 3), "f"),
]


@pytest.mark.parametrize(("name", "kwargs", "x_shape", "y_shape", "kind"), SHAPES)
def test_shapes_dtypes_and_seed(name, kwargs, x_shape, y_shape, kind):
    fn = getattr(datasets, name)
    x, y = fn(**kwargs, seed=3)
    assert x.shape == x_shape and x.dtype == np.float64
    assert y.shape == y_shape and y.dtype == (np.int64 if kind == "i" else np.float64)
    assert np.isfinite(x).all()
    # Same seed, same arrays; a Generator works too; another seed differs.
    x2, y2 = fn(**kwargs, seed=np.random.default_rng(3))
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    x3, y3 = fn(**kwargs, seed=4)
    assert not (np.array_equal(x, x3) and np.array_equal(y, y3))


def test_the_global_rng_is_left_alone():
    state = np.random.get_state()[1].copy()
    for name in ("spiral", "moons", "circles", "blobs", "sine"):
        datasets.load(name, seed=1)
    assert np.array_equal(np.random.get_state()[1], state)


def test_spiral_matches_cs231n_formula():
    """CS231n: r = linspace(0,1,N), t = linspace(4j, 4(j+1), N) + randn(N)*0.2."""
    N, K = 50, 3
    x, y = datasets.spiral(points_per_class=N, classes=K, seed=11)
    rng = np.random.default_rng(11)  # the published code's randn, from the same seed
    X = np.zeros((N * K, 2))
    Y = np.zeros(N * K, dtype="uint8")
    for j in range(K):
        ix = range(N * j, N * (j + 1))
        r = np.linspace(0.0, 1, N)
        t = np.linspace(j * 4, (j + 1) * 4, N) + rng.standard_normal(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(y, Y)
    # Radii grow from 0 to 1 along each arm, whatever the noise.
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius[:N], np.linspace(0, 1, N), atol=1e-15)


def test_moons_and_circles_geometry():
    x, y = datasets.moons(n_samples=100, noise=0.0)
    upper, lower = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()
    x, y = datasets.circles(n_samples=101, noise=0.0, factor=0.3)
    np.testing.assert_allclose(np.hypot(*x[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(*x[y == 1].T), 0.3)
    assert np.bincount(y).tolist() == [51, 50]


def test_blobs_cluster_around_their_centres():
    x, y = datasets.blobs(n_samples=3000, centers=4, std=0.5, seed=0)
    assert np.bincount(y).tolist() == [750] * 4
    spread = [x[y == k].std(axis=0) for k in range(4)]
    np.testing.assert_allclose(spread, 0.5, rtol=0.1)
    assert (np.abs(x) < 10 + 5 * 0.5).all()


def test_sine_follows_sin():
    x, y = datasets.sine(n_samples=50, noise=0.0)
    assert np.all(np.diff(x[:, 0]) > 0)
    np.testing.assert_allclose(x[[0, -1], 0], [-np.pi, np.pi])
    np.testing.assert_allclose(y, np.sin(x))
    _, noisy = datasets.sine(n_samples=2000, noise=0.1, seed=0)
    x, _ = datasets.sine(n_samples=2000)
    assert abs(np.std(noisy - np.sin(x)) - 0.1) < 0.01


def test_digits_from_scikit_learn():
    pytest.importorskip("sklearn")
    x, y = datasets.digits()
    assert x.shape == (1797, 64) and x.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0 and set(np.unique(y)) == set(range(10))
    raw, _ = datasets.digits(scale=False)
    assert raw.max() == 16.0


def test_digits_without_scikit_learn(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(sj.ConfigError, match=r"pip install 'shenjing\[sklearn\]'"):
        datasets.digits()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: datasets.moons(n_samples=1), "n_samples"),
        (lambda: datasets.moons(n_samples=0), "n_samples"),
        (lambda: datasets.moons(noise=-0.1), "noise"),
        (lambda: datasets.circles(factor=1.0), "factor"),
        (lambda: datasets.blobs(n_samples=2, centers=3), "centers"),
        (lambda: datasets.blobs(std=0), "std"),
        (lambda: datasets.blobs(features=0), "features"),
        (lambda: datasets.sine(low=1.0, high=1.0), "low"),
        (lambda: datasets.spiral(classes=0), "classes"),
        (lambda: datasets.moons(seed=-1), "seed"),
        (lambda: datasets.moons(seed="a"), "seed"),
        (lambda: datasets.load("mnist"), "valid names: xor, spiral"),
    ],
)
def test_bad_arguments_name_themselves(call, match):
    with pytest.raises(sj.ConfigError, match=match):
        call()


def test_load_by_name():
    for name in datasets.NAMES:
        if name == "digits":
            continue
        x, y = datasets.load(name, seed=2)
        assert len(x) == len(y) > 0
    x, _ = datasets.load("moons", seed=2, n_samples=10)
    assert np.array_equal(x, datasets.moons(n_samples=10, seed=2)[0])

"""The playground's datasets: points on the plane, their features, and the split.

Every dataset lies in the square [-6, 6]² (:data:`EXTENT`), as the page draws it, and
is generated from a seed; the same ``(name, noise, seed)`` gives the same arrays.

==========  ===============  ========================================================
name        task             the points
==========  ===============  ========================================================
circle      classification   a disc of radius 2 (label 1) inside a ring 3.5–5 (label 0)
xor         classification   uniform on the square; label 1 where x₁·x₂ > 0
gauss       classification   two Gaussian clouds around (2, 2) (1) and (-2, -2) (0)
spiral      classification   two interleaved arms, half a turn apart
plane       regression       uniform; target (x₁ + x₂) / 12, in [-1, 1]
bump        regression       uniform; target exp(-‖x‖² / 8), a Gaussian bump at 0
==========  ===============  ========================================================

``noise`` is a fraction in [0, 0.5]: classification points are moved by Gaussian jitter
of standard deviation ``noise · 3`` after being labelled (so noisy points cross the
boundary); regression targets get Gaussian noise of standard deviation ``noise``.
Labels are int64 of shape (N,), targets float64 of shape (N, 1).

Example:
    >>> x, y = dataset("spiral", noise=0.1, seed=0)
    >>> x.shape, y.shape, sorted(set(y.tolist()))
    ((500, 2), (500,), [0, 1])
    >>> features(x, ["x1", "x1x2", "sinx2"]).shape
    (500, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..base.checks import number
from ..base.errors import ConfigError
from ..nn.initializers import Seed, as_generator

#: Half the side of the square the points lie in: the plane is [-EXTENT, EXTENT]².
EXTENT = 6.0
#: Points in every generated dataset.
POINTS = 500
CLASSIFICATION = ("circle", "xor", "gauss", "spiral")
REGRESSION = ("plane", "bump")
NAMES = CLASSIFICATION + REGRESSION

#: The input features the page can switch on, by name: (label, function of x (N, 2)).
FEATURES: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "x1": ("x₁", lambda x: x[:, 0]),
    "x2": ("x₂", lambda x: x[:, 1]),
    "x1sq": ("x₁²", lambda x: x[:, 0] ** 2),
    "x2sq": ("x₂²", lambda x: x[:, 1] ** 2),
    "x1x2": ("x₁x₂", lambda x: x[:, 0] * x[:, 1]),
    "sinx1": ("sin x₁", lambda x: np.sin(x[:, 0])),
    "sinx2": ("sin x₂", lambda x: np.sin(x[:, 1])),
}


def dataset(
    name: str, *, noise: float = 0.0, seed: Seed = 0, points: int = POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """Points of the dataset ``name`` (see the module's table).

    Args:
        name: one of :data:`NAMES`.
        noise: in [0, 0.5] (the page's 0–50 %).
        seed: an int or a ``np.random.Generator``.
        points: N, the number of points (≥ 4).

    Returns:
        x: (N, 2) float64 in [-6, 6]² (jitter may push a few points just outside);
        y: (N,) int64 labels for classification, (N, 1) float64 targets for regression.
    """
    if name not in NAMES:
        raise ConfigError(f"dataset must be one of {', '.join(NAMES)}, got {name!r}")
    noise = number(noise, "noise", low=0.0, high=0.5)
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 4:
        raise ConfigError(f"points must be an integer of at least 4, got {points!r}")
    rng = as_generator(seed, "seed")
    if name in REGRESSION:
        x = rng.uniform(-EXTENT, EXTENT, (points, 2))
        if name == "plane":
            target = (x[:, 0] + x[:, 1]) / (2 * EXTENT)
        else:
            target = np.exp(-(x**2).sum(axis=1) / 8.0)
        target = target + noise * rng.standard_normal(points)
        return x, target.reshape(-1, 1)
    x, y = _CLASSIFIERS[name](rng, points)
    return x + noise * 3.0 * rng.standard_normal(x.shape), y


def _halves(points: int) -> tuple[int, int]:
    return points // 2, points - points // 2


def _circle(rng: np.random.Generator, points: int) -> tuple[np.ndarray, np.ndarray]:
    inner, outer = _halves(points)
    radius = np.concatenate([rng.uniform(0, 2, inner), rng.uniform(3.5, 5, outer)])
    angle = rng.uniform(0, 2 * np.pi, points)
    x = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    return x, np.r_[np.ones(inner, np.int64), np.zeros(outer, np.int64)]


def _xor(rng: np.random.Generator, points: int) -> tuple[np.ndarray, np.ndarray]:
    # Keep the points a little away from the axes, so that without noise the four
    # quadrants are cleanly separated.
    x = rng.uniform(0.3, 5.5, (points, 2)) * rng.choice([-1.0, 1.0], (points, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.int64)


def _gauss(rng: np.random.Generator, points: int) -> tuple[np.ndarray, np.ndarray]:
    first, second = _halves(points)
    x = np.r_[rng.normal(2, 1, (first, 2)), rng.normal(-2, 1, (second, 2))]
    return x, np.r_[np.ones(first, np.int64), np.zeros(second, np.int64)]


def _spiral(rng: np.random.Generator, points: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for label, (count, shift) in enumerate(zip(_halves(points), (0.0, np.pi), strict=True)):
        t = np.linspace(0, 1, count, endpoint=False)
        radius = 5 * t
        angle = 3.5 * np.pi * t + shift  # 1.75 turns per arm
        xs.append(np.c_[radius * np.sin(angle), radius * np.cos(angle)])
        ys.append(np.full(count, label, np.int64))
    order = rng.permutation(points)  # the same rows, in an order of the seed's
    return np.concatenate(xs)[order], np.concatenate(ys)[order]


_CLASSIFIERS = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral}


def split(
    x: np.ndarray, y: np.ndarray, train_percent: int, seed: Seed = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Shuffle the rows and keep ``train_percent`` % for training, the rest for testing.

    Args:
        x: (N, 2) points. y: (N,) or (N, 1), row by row with ``x``.
        train_percent: 10 to 90; at least one row lands on each side.
        seed: an int or a Generator for the shuffle.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.
    """
    percent = number(train_percent, "train_percent", low=10, high=90)
    n = len(x)
    if n < 2:
        raise ConfigError(f"split needs at least 2 rows, got {n}")
    order = as_generator(seed, "seed").permutation(n)
    cut = min(max(round(n * percent / 100), 1), n - 1)
    train, test = order[:cut], order[cut:]
    return (x[train], y[train]), (x[test], y[test])


def features(x: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The input features ``names`` (from :data:`FEATURES`) of the points ``x``.

    Shape: x: (N, 2) → (N, len(names)), float64.
    """
    if not names:
        raise ConfigError("features: switch on at least one input feature")
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ConfigError(f"unknown feature {unknown[0]!r}; the features are {', '.join(FEATURES)}")
    x = np.asarray(x, dtype=np.float64)
    return np.stack([FEATURES[name][1](x) for name in names], axis=1)


def grid(resolution: int) -> np.ndarray:
    """The centres of a ``resolution × resolution`` grid over the plane, row by row.

    Row 0 is the top of the picture (largest x₂), column 0 the left (smallest x₁).

    Shape: (resolution², 2).
    """
    step = 2 * EXTENT / resolution
    centres = -EXTENT + step * (np.arange(resolution) + 0.5)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.c_[x1.ravel(), x2.ravel()]

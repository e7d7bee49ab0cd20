"""Small datasets generated from a seed; nothing is downloaded.

Each function returns ``(x, y)`` with documented shapes and dtypes.
"""

from __future__ import annotations

import numpy as np

from ._checks import positive_int
from .initializers import Seed, as_generator


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The notes' XOR table.

    Returns:
        x: (4, 2) int64, the rows [0, 0], [0, 1], [1, 0], [1, 1].
        y: (4, 1) int64, their exclusive or.
    """
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    return x, y


def spiral(
    points_per_class: int = 100, classes: int = 3, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """CS231n's spiral: ``classes`` arms of ``points_per_class`` points, not linearly separable.

    For class j, point i of N: r = i / (N - 1) (``linspace(0, 1, N)``),
    t = linspace(4j, 4(j + 1), N) + 0.2 · noise, and the point is (r sin t, r cos t).

    Returns:
        x: (classes · points_per_class, 2) float64.
        y: (classes · points_per_class,) int64 labels, class by class.
    """
    n = positive_int(points_per_class, "points_per_class")
    k = positive_int(classes, "classes")
    rng = as_generator(seed)
    x = np.zeros((n * k, 2))
    y = np.zeros(n * k, dtype=np.int64)
    for j in range(k):
        rows = slice(n * j, n * (j + 1))
        r = np.linspace(0.0, 1, n)
        t = np.linspace(j * 4, (j + 1) * 4, n) + rng.standard_normal(n) * 0.2
        x[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[rows] = j
    return x, y


def notes_regression(
    n: int = 64, d_in: int = 1000, d_out: int = 10, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The notes' random regression: ``x, y = randn(N, D_in), randn(N, D_out)``.

    Returns:
        x: (n, d_in) float64 standard normal. y: (n, d_out) float64 standard normal.
    """
    rng = as_generator(seed)
    x = rng.standard_normal((positive_int(n, "n"), positive_int(d_in, "d_in")))
    y = rng.standard_normal((n, positive_int(d_out, "d_out")))
    return x, y

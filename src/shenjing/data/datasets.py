"""Small datasets generated from a seed; nothing is downloaded.

Each function returns ``(x, y)`` with documented shapes and dtypes: inputs are float64
(XOR's table is int64, as the notes write it), class labels int64 of shape (N,),
regression targets float64 of shape (N, M). ``seed`` is an int or a
``np.random.Generator`` (see :func:`shenjing.initializers.as_generator`); the same seed
gives the same arrays, and NumPy's global RNG is never touched.

======================  ============  ================  ============================
function                x             y                 task
======================  ============  ================  ============================
``xor()``               (4, 2) int64  (4, 1) int64      the notes' ReLU program
``spiral()``            (K·N, 2)      (K·N,) labels     K classes, CS231n
``moons()``             (N, 2)        (N,) labels 0/1   two interleaved half-circles
``circles()``           (N, 2)        (N,) labels 0/1   a ring around a disc
``blobs()``             (N, D)        (N,) labels       Gaussian clusters
``sine()``              (N, 1)        (N, 1) float64    fit sin(x), 1-D regression
``notes_regression()``  (64, 1000)    (64, 10) float64  the notes' sigmoid program
``digits()``            (1797, 64)    (1797,) labels    scikit-learn's 8×8 digits
======================  ============  ================  ============================

Example:
    >>> import shenjing as sj
    >>> x, y = sj.datasets.moons(n_samples=100, noise=0.1, seed=0)
    >>> x.shape, x.dtype, y.shape, y.dtype
    ((100, 2), dtype('float64'), (100,), dtype('int64'))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.checks import number, positive_int
from ..base.errors import ConfigError
from ..nn.initializers import Seed, as_generator

#: Names accepted by :func:`load`, in the order of the table above.
NAMES = ("xor", "spiral", "moons", "circles", "blobs", "sine", "notes_regression", "digits")


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


def _split_evenly(n: int, parts: int) -> list[int]:
    """``n`` items as ``parts`` counts differing by at most one (the first ones larger)."""
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def _noise(value: Any) -> float:
    return number(value, "noise", low=0.0)


def moons(
    n_samples: int = 200, noise: float = 0.1, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half-circles: a curved boundary a linear model cannot draw.

    Class 0: (cos θ, sin θ); class 1: (1 - cos θ, 0.5 - sin θ), θ evenly spaced in
    [0, π]; then Gaussian noise of standard deviation ``noise`` is added to every
    coordinate (scikit-learn's ``make_moons`` layout, unshuffled).

    Args:
        n_samples: N ≥ 2 points, split as evenly as possible (class 0 gets the odd one).
        noise: standard deviation of the added noise, ≥ 0.
        seed: int or Generator for the noise.

    Returns:
        x: (N, 2) float64. y: (N,) int64 labels 0 and 1, class by class.
    """
    n = positive_int(n_samples, "n_samples")
    if n < 2:
        raise ConfigError(f"n_samples must be at least 2 (one point a class), got {n_samples!r}")
    sd, rng = _noise(noise), as_generator(seed)
    n0, n1 = _split_evenly(n, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    x = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    x += sd * rng.standard_normal(x.shape)
    y = np.repeat(np.arange(2, dtype=np.int64), [n0, n1])
    return x, y


def circles(
    n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed: Seed = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 on the unit circle, class 1 inside at radius ``factor``.

    Angles are evenly spaced in [0, 2π) per circle; Gaussian noise of standard
    deviation ``noise`` is added to every coordinate.

    Args:
        n_samples: N ≥ 2 points, split as evenly as possible (the outer circle gets the
            odd one).
        noise: standard deviation of the added noise, ≥ 0.
        factor: radius of the inner circle, in (0, 1).
        seed: int or Generator for the noise.

    Returns:
        x: (N, 2) float64. y: (N,) int64: 0 for the outer circle, 1 for the inner.
    """
    n = positive_int(n_samples, "n_samples")
    if n < 2:
        raise ConfigError(f"n_samples must be at least 2 (one point a class), got {n_samples!r}")
    sd, rng = _noise(noise), as_generator(seed)
    r = number(factor, "factor", low=0.0, high=1.0, low_open=True, high_open=True)
    n0, n1 = _split_evenly(n, 2)
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    x = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], r * np.c_[np.cos(t1), np.sin(t1)]])
    x += sd * rng.standard_normal(x.shape)
    y = np.repeat(np.arange(2, dtype=np.int64), [n0, n1])
    return x, y


def blobs(
    n_samples: int = 300,
    centers: int = 3,
    features: int = 2,
    std: float = 1.0,
    box: float = 10.0,
    seed: Seed = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters: ``centers`` isotropic blobs with centres drawn in a box.

    Each centre is drawn uniformly from [-box, box]^D; a point of class j is its
    centre plus N(0, std²) noise in every coordinate.

    Args:
        n_samples: N points, split as evenly as possible over the classes (N ≥ centers).
        centers: K ≥ 1 classes. features: D ≥ 1 dimensions.
        std: standard deviation of each blob, > 0. box: half-width of the centres' box, > 0.
        seed: int or Generator for the centres and the points.

    Returns:
        x: (N, D) float64. y: (N,) int64 labels 0..K-1, class by class.
    """
    n = positive_int(n_samples, "n_samples")
    k = positive_int(centers, "centers")
    d = positive_int(features, "features")
    if n < k:
        raise ConfigError(f"n_samples must be at least centers ({k}), got {n_samples!r}")
    sd = number(std, "std", low=0.0, low_open=True)
    half = number(box, "box", low=0.0, low_open=True)
    rng = as_generator(seed)
    means = rng.uniform(-half, half, (k, d))
    counts = _split_evenly(n, k)
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    x = means[y] + sd * rng.standard_normal((n, d))
    return x, y


def sine(
    n_samples: int = 200,
    noise: float = 0.1,
    low: float = -np.pi,
    high: float = np.pi,
    seed: Seed = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D function to fit: y = sin(x) + noise, x evenly spaced in [low, high].

    Args:
        n_samples: N ≥ 2 points.
        noise: standard deviation of the Gaussian noise added to y, ≥ 0.
        low, high: the interval, low < high.
        seed: int or Generator for the noise.

    Returns:
        x: (N, 1) float64, sorted. y: (N, 1) float64.
    """
    n = positive_int(n_samples, "n_samples")
    if n < 2:
        raise ConfigError(f"n_samples must be at least 2, got {n_samples!r}")
    sd, rng = _noise(noise), as_generator(seed)
    lo, hi = number(low, "low"), number(high, "high")
    if not lo < hi:
        raise ConfigError(f"low must be below high, got low={lo!r}, high={hi!r}")
    x = np.linspace(lo, hi, n)[:, None]
    y = np.sin(x) + sd * rng.standard_normal((n, 1))
    return x, y


def digits(scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 handwritten digits (1797 images; no download).

    Needs scikit-learn (``pip install 'shenjing[sklearn]'``).

    Args:
        scale: divide the pixel values (0..16) by 16, so inputs lie in [0, 1].

    Returns:
        x: (1797, 64) float64, one flattened image a row. y: (1797,) int64 labels 0..9.

    Raises:
        ConfigError: scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ConfigError(
            "digits() needs scikit-learn, which is not installed: pip install 'shenjing[sklearn]'"
        ) from None
    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float64)
    if scale:
        x /= 16.0
    return x, np.asarray(bunch.target, dtype=np.int64)


def load(name: str, seed: Seed = 0, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """A built-in dataset by name (one of :data:`NAMES`), with its keyword arguments.

    ``seed`` is passed to the datasets that draw random numbers and ignored by ``xor``
    and ``digits``, which are fixed.

    Raises:
        ConfigError: unknown name (the message lists the valid ones).
    """
    if name not in NAMES:
        raise ConfigError(f"Unknown dataset {name!r}; valid names: {', '.join(NAMES)}")
    if name == "xor":
        return xor(**kwargs)
    if name == "digits":
        return digits(**kwargs)
    return globals()[name](seed=seed, **kwargs)

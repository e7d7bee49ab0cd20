"""Weight initialisers and the one way shenjing turns a seed into random numbers.

Every initialiser draws in float64 from a ``np.random.Generator`` and is then cast, so a
float32 and a float64 layer built from the same seed hold the same weights up to
rounding. NumPy's global RNG is never touched.

=========================  =======================================  =======================
name                       distribution                             suits
=========================  =======================================  =======================
``"normal"``               N(0, 1), the notes' ``randn``            reproducing the notes
``"xavier"``/``"glorot"``  U(-a, a), a = √(6 / (fan_in + fan_out))  sigmoid, tanh (default)
``"xavier_normal"``        N(0, 2 / (fan_in + fan_out))             sigmoid, tanh
``"he"``/``"kaiming"``     N(0, 2 / fan_in)                         ReLU family
``"he_uniform"``           U(-a, a), a = √(6 / fan_in)              ReLU family
``"zeros"``                0                                        biases, tests
=========================  =======================================  =======================
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..base.errors import ConfigError
from ..base.registry import Registry

Seed = int | np.random.Generator | None
Initializer = Callable[[np.random.Generator, tuple[int, ...], int, int], np.ndarray]

INITIALIZERS: Registry[Initializer] = Registry("initializer")
DEFAULT_INIT = "xavier"


def as_generator(seed: Any, name: str = "seed") -> np.random.Generator:
    """``None`` (fresh entropy), a non-negative int, or a Generator (used as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(
            f"{name} must be None, a non-negative int or a np.random.Generator, got {seed!r}"
        )
    return np.random.default_rng(int(seed))


@INITIALIZERS.register("normal", "randn")
def normal(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int
) -> np.ndarray:
    return rng.standard_normal(shape)


@INITIALIZERS.register("xavier", "glorot", "xavier_uniform", "glorot_uniform")
def xavier(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int
) -> np.ndarray:
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, shape)


@INITIALIZERS.register("xavier_normal", "glorot_normal")
def xavier_normal(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int
) -> np.ndarray:
    values: np.ndarray = rng.standard_normal(shape) * np.sqrt(2.0 / (fan_in + fan_out))
    return values


@INITIALIZERS.register("he", "kaiming", "he_normal", "kaiming_normal")
def he(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    values: np.ndarray = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    return values


@INITIALIZERS.register("he_uniform", "kaiming_uniform")
def he_uniform(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int
) -> np.ndarray:
    a = np.sqrt(6.0 / fan_in)
    return rng.uniform(-a, a, shape)


@INITIALIZERS.register("zeros")
def zeros(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int
) -> np.ndarray:
    return np.zeros(shape)


def initialize(
    init: str | Initializer,
    rng: np.random.Generator,
    shape: tuple[int, ...],
    fan_in: int,
    fan_out: int,
    dtype: np.dtype,
) -> np.ndarray:
    """Draw an array of ``shape`` with the initialiser named ``init`` (or a callable).

    Inside :func:`skipping_initial_draws` nothing is drawn: the result is a read-only
    view of one zero, so that assigning it allocates nothing.
    """
    if _SKIP_DRAWS.get():
        return np.broadcast_to(np.zeros((), dtype), shape)
    fn = init if callable(init) else INITIALIZERS.get(init)
    values = np.asarray(fn(rng, shape, fan_in, fan_out))
    if values.shape != shape:
        raise ConfigError(f"initializer {init!r} returned shape {values.shape}, expected {shape}")
    return np.asarray(values, dtype=dtype, order="C")


_SKIP_DRAWS = contextvars.ContextVar("shenjing_skip_initial_draws", default=False)


@contextlib.contextmanager
def skipping_initial_draws() -> Iterator[None]:
    """Build layers whose weights are about to be overwritten without drawing any.

    Loading a model file builds each layer from its config and then copies the stored
    arrays in: drawing initial weights first would cost the time of the random draw and
    a float64 temporary as large as the layer (64 MiB for a 4096 x 2048 layer). Inside
    this context :func:`initialize` returns zeros without allocating.
    """
    token = _SKIP_DRAWS.set(True)
    try:
        yield
    finally:
        _SKIP_DRAWS.reset(token)

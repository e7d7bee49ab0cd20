"""Dropout (Srivastava et al. 2014), in its inverted form."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..base.checks import number
from ..base.errors import ConfigError, DTypeError, ShapeError
from .initializers import Seed, as_generator
from .layer import Layer
from .registry import register_layer


@register_layer
class Dropout(Layer):
    """Zero each input with probability ``p`` while training; scale the rest by 1/(1-p).

    Training mode::

        Forward:  m[n, j] = 1 with probability 1 - p, else 0   (drawn anew every pass)
                  y = x · m / (1 - p)
        Backward: dx = dout · m / (1 - p)

    Evaluation mode::

        Forward:  y = x                   Backward: dx = dout

    Scaling the kept units while training ("inverted" dropout) keeps E[y] = x, so
    evaluation needs no rescaling and the exported graph is the identity. In evaluation
    mode (and with ``p = 0``) ``forward`` returns ``x`` itself and ``backward`` ``dout``
    itself, without a copy.

    The mask comes from the layer's own generator (``seed``), uniform numbers drawn in
    float64 whatever the dtype, so float32 and float64 networks with one seed drop the
    same units. ``rng_state`` is the generator's state as JSON: saving it and setting
    it back replays the same masks, bit for bit.

    Args:
        p: the probability of dropping a unit, in [0, 1). ``0`` keeps every unit.
        seed: ``None`` (fresh entropy), a non-negative int, or a ``np.random.Generator``
            (used as is, so it advances).

    Shape:
        x: any shape, usually (N, D). y, dout, dx: the shape of x.

    Example:
        >>> layer = Dropout(0.5, seed=0)
        >>> y = layer.forward(np.ones((2, 4)))   # training mode: zeros and 2s
        >>> sorted(set(y.ravel().tolist())) == [0.0, 2.0]
        True
        >>> layer.eval().forward(np.ones((2, 4))).tolist()[0]
        [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, seed: Seed = None) -> None:
        super().__init__()
        self.p = number(p, "p", low=0.0, high=1.0, high_open=True)
        self._rng = as_generator(seed)
        # Only an int seed is a constructor argument a file can hold; the state itself
        # travels as rng_state.
        self.seed = int(seed) if isinstance(seed, (int, np.integer)) else None
        self._mask: np.ndarray | None = None  # m / (1 - p) of the last training pass
        self._dropped: bool | None = None  # whether the last forward applied a mask

    # -- the protocol -------------------------------------------------------------
    def forward(self, x: Any) -> np.ndarray:
        arr: np.ndarray = self.xp.asarray(x)
        if arr.dtype.kind != "f":
            if arr.dtype.kind not in "biu":
                raise DTypeError(f"Dropout: x must hold real numbers, got {arr.dtype.name!r}")
            arr = arr.astype(np.float64)
        return self.forward_unchecked(arr)

    def forward_unchecked(self, x: np.ndarray) -> np.ndarray:
        self._dropped = self.training and self.p > 0
        if not self._dropped:
            self._mask = None
            return x  # the identity: the next layer reads x and never writes it
        keep = self._buffer("uniform", x.shape, np.dtype(np.float64))
        self._rng.random(out=keep)
        mask = self._buffer("mask", x.shape, x.dtype)
        # m / (1 - p): 1/(1-p) where the uniform number is at least p, else 0.
        np.multiply(keep >= self.p, 1 / (1 - self.p), out=mask, casting="unsafe")
        self._mask = mask
        y = self._buffer("y", x.shape, x.dtype)
        np.multiply(x, mask, out=y)  # y = x · m / (1 - p)
        return y

    def backward(self, dout: Any, need_dx: bool = True) -> np.ndarray | None:
        self._require_forward(self._dropped)
        arr: np.ndarray = self.xp.asarray(dout)
        if self._mask is not None and arr.shape != self._mask.shape:
            raise ShapeError(
                f"Dropout.backward: dout must have the output's shape {self._mask.shape}, "
                f"got {arr.shape}"
            )
        return self.backward_unchecked(arr, need_dx)

    def backward_unchecked(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if not need_dx:
            return None
        if self._mask is None:
            return dout  # dx = dout
        dx = self._buffer("dx", dout.shape, self._mask.dtype)
        np.multiply(dout, self._mask, out=dx)  # dx = dout · m / (1 - p)
        return dx

    # -- state --------------------------------------------------------------------
    @property
    def mask(self) -> np.ndarray | None:
        """m / (1 - p) of the last training-mode forward pass; ``None`` after an identity pass."""
        return self._mask

    @property
    def rng_state(self) -> dict[str, Any]:
        """The generator's ``bit_generator.state``: a dict of strings and ints (JSON)."""
        return dict(self._rng.bit_generator.state)

    @rng_state.setter
    def rng_state(self, state: Any) -> None:
        bit_generator = self._rng.bit_generator
        try:
            json.dumps(state)  # the JSON a checkpoint holds, nothing else
            bit_generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            name = type(bit_generator).__name__
            raise ConfigError(
                f"Dropout.rng_state must be a {name} state, as rng_state gives it: {exc}"
            ) from exc

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p, "seed": self.seed}

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g})"

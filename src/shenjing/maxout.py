"""Maxout (Goodfellow et al. 2013), the unit the notes left "to be added later"."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_dtype, positive_int
from .errors import ConfigError, ShapeError
from .initializers import DEFAULT_INIT, INITIALIZERS, Seed, as_generator, initialize
from .layer import Layer


class Maxout(Layer):
    """Maxout: each unit is the largest of ``pieces`` affine functions of the input.

    Forward:  z[n, m, k] = x[n] @ W[:, m, k] + b[m, k]
              y[n, m]    = max_k z[n, m, k]
    Backward: dz[n, m, k] = dout[n, m] if k is the winning piece of (n, m) else 0
              dW = x.T @ dz,   db = Σ_n dz[n],   dx = dz @ W.T        (over m, k)

    With two pieces it can represent ReLU (one piece fixed at 0) and leaky ReLU, so it
    never has a dead unit, at ``pieces`` times the parameters. Ties go to the first
    maximal piece, which alone receives the gradient (``np.argmax``'s rule).

    Args:
        in_features: D. out_features: M units. pieces: k ≥ 2 affine pieces per unit.
        bias, init, dtype, seed: as for :class:`shenjing.Linear` (fan-in is D, fan-out M).

    Shape:
        x: (N, D) → y: (N, M). W: (D, M, k), b: (M, k).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        pieces: int = 2,
        bias: bool = True,
        init: str = DEFAULT_INIT,
        dtype: Any = "float32",
        seed: Seed = None,
    ) -> None:
        super().__init__()
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self.pieces = positive_int(pieces, "pieces")
        if self.pieces < 2:
            raise ConfigError(f"pieces must be at least 2, got {pieces!r}")
        if not isinstance(bias, bool):
            raise ConfigError(f"bias must be True or False, got {bias!r}")
        self.bias = bias
        if not callable(init):
            INITIALIZERS.get(init)
        self.init = init
        dtype = as_dtype(dtype)
        shape = (self.in_features, self.out_features, self.pieces)
        self.params["W"] = np.empty(shape, dtype)
        if bias:
            self.params["b"] = np.zeros((self.out_features, self.pieces), dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._x: np.ndarray | None = None
        self._winner: np.ndarray | None = None
        self.reset_parameters(seed)

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @property
    def b(self) -> np.ndarray | None:
        return self.params.get("b")

    @property
    def input_features(self) -> int:
        return self.in_features

    def output_features(self, in_features: int | None) -> int:
        return self.out_features

    def reset_parameters(self, seed: Seed = None) -> None:
        rng = as_generator(seed)
        W = self.params["W"]
        W[...] = initialize(self.init, rng, W.shape, self.in_features, self.out_features, W.dtype)
        if self.bias:
            self.params["b"].fill(0)

    def forward(self, x: np.ndarray) -> np.ndarray:
        W = self.params["W"]
        x = np.asarray(x, dtype=W.dtype)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ShapeError(f"{self!r}: x must have shape (N, {self.in_features}), got {x.shape}")
        n, m, k = x.shape[0], self.out_features, self.pieces
        z = self._buffer("z", (n, m * k), W.dtype)
        np.matmul(x, W.reshape(self.in_features, m * k), out=z)
        if self.bias:
            z += self.params["b"].reshape(m * k)
        z3 = z.reshape(n, m, k)
        winner = self._buffer("winner", (n, m), np.dtype(np.intp))
        np.argmax(z3, axis=2, out=winner)
        y = self._buffer("y", (n, m), W.dtype)
        np.max(z3, axis=2, out=y)
        self._x, self._winner = x, winner
        return y

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        self._require_forward(self._x)
        x, W, winner = self._x, self.params["W"], self._winner
        n, m, k = x.shape[0], self.out_features, self.pieces
        dout = np.asarray(dout, dtype=W.dtype)
        if dout.shape != (n, m):
            raise ShapeError(f"{self!r}.backward: dout must have shape {(n, m)}, got {dout.shape}")
        dz = self._buffer("dz", (n, m, k), W.dtype)
        dz.fill(0)
        np.put_along_axis(dz, winner[..., None], dout[..., None], axis=2)
        dz2 = dz.reshape(n, m * k)
        np.matmul(x.T, dz2, out=self.grads["W"].reshape(self.in_features, m * k))
        if self.bias:
            np.sum(dz2, axis=0, out=self.grads["b"].reshape(m * k))
        if not need_dx:
            return None
        dx = self._buffer("dx", x.shape, W.dtype)
        np.matmul(dz2, W.reshape(self.in_features, m * k).T, out=dx)
        return dx

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "pieces": self.pieces,
            "bias": self.bias,
        }
        if isinstance(self.init, str):
            config["init"] = self.init
        config["dtype"] = self.params["W"].dtype.name
        return config

    def __repr__(self) -> str:
        extra = "" if self.bias else ", bias=False"
        return f"Maxout({self.in_features} -> {self.out_features}, pieces={self.pieces}{extra})"

"""Maxout (Goodfellow et al. 2013), the unit the notes left "to be added later"."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..base.checks import positive_int
from ..base.errors import ConfigError
from .initializers import DEFAULT_INIT, Seed
from .linear import Affine
from .registry import register_layer


@register_layer(kind="maxout")
class Maxout(Affine):
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
        self.pieces = positive_int(pieces, "pieces")
        if self.pieces < 2:
            raise ConfigError(f"pieces must be at least 2, got {pieces!r}")
        out_features = positive_int(out_features, "out_features")
        super().__init__(
            in_features,
            out_features,
            (in_features, out_features, self.pieces),
            (out_features, self.pieces),
            bias,
            init,
            dtype,
            seed,
        )
        self._winner: np.ndarray | None = None

    @property
    def winner(self) -> np.ndarray | None:
        """(N, M) index of each unit's winning piece in the last forward (``None`` before)."""
        return self._winner

    def forward_unchecked(self, x: np.ndarray) -> np.ndarray:
        xp, W = self.xp, self.params["W"]
        n, m, k = x.shape[0], self.out_features, self.pieces
        z = self._buffer("z", (n, m * k), W.dtype)
        xp.matmul(x, W.reshape(self.in_features, m * k), out=z)  # z = x @ W + b
        if self.bias:
            z += self.params["b"].reshape(m * k)
        z3 = z.reshape(n, m, k)
        winner = self._buffer("winner", (n, m), np.dtype(np.intp))
        xp.argmax(z3, axis=2, out=winner)
        y = self._buffer("y", (n, m), W.dtype)
        xp.max(z3, axis=2, out=y)  # y = max_k z
        self._x, self._winner = x, winner
        return y

    def backward_unchecked(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        # Unchecked: the caller ran forward first, so the cached input and winners are set.
        xp, W = self.xp, self.params["W"]
        x, winner = cast(np.ndarray, self._x), cast(np.ndarray, self._winner)
        n, m, k = x.shape[0], self.out_features, self.pieces
        dz = self._buffer("dz", (n, m, k), W.dtype)  # dout routed to each winning piece
        dz.fill(0)
        xp.put_along_axis(dz, winner[..., None], dout[..., None], axis=2)
        dz2 = dz.reshape(n, m * k)
        xp.matmul(x.T, dz2, out=self.grads["W"].reshape(self.in_features, m * k))
        if self.bias:
            xp.sum(dz2, axis=0, out=self.grads["b"].reshape(m * k))
        if not need_dx:
            return None
        dx = self._buffer("dx", x.shape, W.dtype)
        xp.matmul(dz2, W.reshape(self.in_features, m * k).T, out=dx)
        return dx

    def _extra_config(self) -> dict[str, Any]:
        return {"pieces": self.pieces}

    def __repr__(self) -> str:
        extra = "" if self.bias else ", bias=False"
        return f"Maxout({self.in_features} -> {self.out_features}, pieces={self.pieces}{extra})"

"""Softmax as a layer: each row of scores becomes a probability distribution."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..base import stable as _stable
from ..base.errors import DTypeError, ShapeError
from .layer import Layer
from .registry import register_layer


@register_layer
class Softmax(Layer):
    """Row-wise softmax over the D features.

    Forward:  y[n, j] = e^(x[n, j] - max_k x[n, k]) / Σ_i e^(x[n, i] - max_k x[n, k])
    Backward: dx[n, j] = y[n, j] · (dout[n, j] - Σ_i dout[n, i] · y[n, i])

    Subtracting the row's maximum makes the largest exponent e^0 = 1, so no finite
    input overflows (:func:`shenjing.base.stable.log_softmax_parts`); backward needs
    only the cached output. A classifier trained with ``"softmax_cross_entropy"`` must
    *not* end with this layer (that loss applies softmax itself); it is for a loss that
    takes probabilities, a hidden attention-like layer, or an exported model that should
    output probabilities.

    Shape:
        x: (N, D) → y: (N, D); every row of y is positive and sums to 1.

    Example:
        >>> Softmax().forward(np.array([[0.0, np.log(3.0)]])).round(3).tolist()
        [[0.25, 0.75]]
    """

    def __init__(self) -> None:
        super().__init__()
        self._y: np.ndarray | None = None

    def forward(self, x: Any) -> np.ndarray:
        arr: np.ndarray = self.xp.asarray(x)
        if arr.dtype.kind != "f":
            if arr.dtype.kind not in "biu":
                raise DTypeError(f"Softmax: x must hold real numbers, got {arr.dtype.name!r}")
            arr = arr.astype(np.float64)
        if arr.ndim != 2:
            raise ShapeError(f"Softmax: x must have shape (N, D), got {arr.shape}")
        return self.forward_unchecked(arr)

    def forward_unchecked(self, x: np.ndarray) -> np.ndarray:
        y = self._buffer("y", x.shape, x.dtype)
        log_sum = _stable.log_softmax_parts(x, y)  # y = x - max, log Σ e^y
        y -= log_sum
        np.exp(y, out=y)  # y = e^(x - max) / Σ e^(x - max)
        self._y = y
        return y

    def backward(self, dout: Any, need_dx: bool = True) -> np.ndarray | None:
        y = self._require_forward(self._y)
        arr: np.ndarray = self.xp.asarray(dout, dtype=y.dtype)
        if arr.shape != y.shape:
            raise ShapeError(
                f"Softmax.backward: dout must have the output's shape {y.shape}, got {arr.shape}"
            )
        return self.backward_unchecked(arr, need_dx)

    def backward_unchecked(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        if not need_dx:
            return None
        y = cast(np.ndarray, self._y)
        dx = self._buffer("dx", dout.shape, dout.dtype)
        np.multiply(dout, y, out=dx)
        s = dx.sum(axis=1, keepdims=True)  # Σ_i dout[n, i] · y[n, i]
        np.subtract(dout, s, out=dx)
        dx *= y  # dx = y · (dout - Σ dout · y)
        return dx

"""What :class:`~shenjing.BatchNorm` and :class:`~shenjing.LayerNorm` share.

Both standardise x to x̂ and then scale and shift it, y = γ · x̂ + β, learning γ and β
when ``affine``; they differ only in the axis of their statistics (and BatchNorm's
running ones), which each shows in its own ``forward_unchecked``/``backward_unchecked``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.checks import as_dtype, number, positive_int
from ..base.errors import ConfigError, ShapeError
from .layer import Layer


class AffineNormalization(Layer):
    """The part of a normalisation layer after x̂: y = γ · x̂ + β, and its gradients.

    Args:
        features: D, the width of each input row.
        eps: added to the variance, > 0.
        affine: learn γ (initially 1) and β (initially 0); without, y = x̂.
        dtype: ``"float32"`` (default) or ``"float64"``.

    Shape:
        x: (N, D) → y: (N, D). gamma, beta: (D,).
    """

    def __init__(self, features: int, eps: float, affine: bool, dtype: Any) -> None:
        super().__init__()
        self.features = positive_int(features, "features")
        self.eps = number(eps, "eps", low=0.0, low_open=True)
        if not isinstance(affine, bool):
            raise ConfigError(f"affine must be True or False, got {affine!r}")
        self.affine = affine
        self._dtype = as_dtype(dtype)
        if affine:
            self.params["gamma"] = np.ones(features, self._dtype)
            self.params["beta"] = np.zeros(features, self._dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._xhat: np.ndarray | None = None
        self._inv_std: np.ndarray | None = None  # 1 / √(σ² + eps), as the subclass keeps it

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def input_features(self) -> int:
        return self.features

    def forward(self, x: Any) -> np.ndarray:
        """Checked forward pass: ``x`` must be (N, features)."""
        arr: np.ndarray = self.xp.asarray(x, dtype=self.dtype)
        if arr.ndim != 2 or arr.shape[1] != self.features:
            raise ShapeError(f"{self!r}: x must have shape (N, {self.features}), got {arr.shape}")
        return self.forward_unchecked(arr)

    def backward(self, dout: Any, need_dx: bool = True) -> np.ndarray | None:
        """Checked backward pass: ``dout`` must be (N, features) of the last forward."""
        xhat = self._require_forward(self._xhat)
        arr: np.ndarray = self.xp.asarray(dout, dtype=self.dtype)
        if arr.shape != xhat.shape:
            raise ShapeError(
                f"{self!r}.backward: dout must have shape {xhat.shape}, got {arr.shape}"
            )
        return self.backward_unchecked(arr, need_dx)

    def _scale_shift(self, xhat: np.ndarray) -> np.ndarray:
        """y = γ · x̂ + β (x̂ itself without ``affine``), into a reused buffer."""
        if not self.affine:
            return xhat
        y = self._buffer("y", xhat.shape, xhat.dtype)
        np.multiply(xhat, self.params["gamma"], out=y)
        y += self.params["beta"]
        return y

    def _scale_shift_backward(self, dout: np.ndarray, xhat: np.ndarray) -> np.ndarray:
        """dγ = Σ_n dout · x̂ and dβ = Σ_n dout into the gradients; returns dx̂ = dout · γ."""
        if not self.affine:
            return dout
        np.sum(dout * xhat, axis=0, out=self.grads["gamma"])
        np.sum(dout, axis=0, out=self.grads["beta"])
        dxhat: np.ndarray = dout * self.params["gamma"]
        return dxhat

    def astype(self, dtype: Any) -> AffineNormalization:
        super().astype(dtype)
        self._dtype = as_dtype(dtype)
        return self

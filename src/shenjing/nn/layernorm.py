"""Layer normalisation (Ba, Kiros and Hinton 2016) of each row over its features."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..base.checks import as_dtype, number, positive_int
from ..base.errors import ConfigError, ShapeError
from .layer import Layer
from .normalize import standardize, standardize_backward
from .registry import register_layer


@register_layer
class LayerNorm(Layer):
    """Normalise every row to zero mean and unit variance over its D features, then scale and shift.

    Forward:  μ[n] = mean_j x[n, j],   σ²[n] = mean_j (x[n, j] - μ[n])²
              x̂ = (x - μ) / √(σ² + eps),   y = γ · x̂ + β
    Backward: dγ = Σ_n dout · x̂,   dβ = Σ_n dout,   dx̂ = dout · γ
              dx = (dx̂ - mean_j dx̂ - x̂ · mean_j(dx̂ · x̂)) / √(σ² + eps)

    Each row is normalised on its own, so the layer computes the same function in
    training and evaluation mode and keeps no running statistics. The conventions are
    ``torch.nn.LayerNorm(D)``'s (biased variance, eps inside the root), pinned against it
    by the tests; the statistics are computed without overflow for any finite input
    (:mod:`shenjing.nn.normalize`).

    Args:
        features: D, the width of each input row.
        eps: added to the variance, > 0.
        affine: learn γ (initially 1) and β (initially 0); without, y = x̂.
        dtype: ``"float32"`` (default) or ``"float64"``.

    Shape:
        x: (N, D) → y: (N, D). gamma, beta: (D,).

    Example:
        >>> ln = LayerNorm(3, dtype="float64")
        >>> np.round(ln.forward(np.array([[1.0, 2.0, 3.0]])), 3).tolist()
        [[-1.225, 0.0, 1.225]]
    """

    def __init__(
        self, features: int, eps: float = 1e-5, affine: bool = True, dtype: Any = "float32"
    ) -> None:
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
        self._inv_std: np.ndarray | None = None  # (N, 1)

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

    def forward_unchecked(self, x: np.ndarray) -> np.ndarray:
        xhat = self._buffer("xhat", x.shape, x.dtype)
        self._inv_std = standardize(x, 1, self.eps, out=xhat).inv_std  # x̂ = (x - μ) / √(σ² + eps)
        self._xhat = xhat
        if not self.affine:
            return xhat
        y = self._buffer("y", x.shape, x.dtype)
        np.multiply(xhat, self.params["gamma"], out=y)
        y += self.params["beta"]  # y = γ · x̂ + β
        return y

    def backward(self, dout: Any, need_dx: bool = True) -> np.ndarray | None:
        """Checked backward pass: ``dout`` must be (N, features) of the last forward."""
        xhat = self._require_forward(self._xhat)
        arr: np.ndarray = self.xp.asarray(dout, dtype=self.dtype)
        if arr.shape != xhat.shape:
            raise ShapeError(
                f"{self!r}.backward: dout must have shape {xhat.shape}, got {arr.shape}"
            )
        return self.backward_unchecked(arr, need_dx)

    def backward_unchecked(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        # Unchecked: the caller ran forward first, so x̂ and 1/√(σ² + eps) are cached.
        xhat, inv_std = cast(np.ndarray, self._xhat), cast(np.ndarray, self._inv_std)
        if self.affine:
            np.sum(dout * xhat, axis=0, out=self.grads["gamma"])  # dγ = Σ_n dout · x̂
            np.sum(dout, axis=0, out=self.grads["beta"])  # dβ = Σ_n dout
        if not need_dx:
            return None
        dxhat = dout * self.params["gamma"] if self.affine else dout  # dx̂ = dout · γ
        dx = self._buffer("dx", dout.shape, dout.dtype)
        return standardize_backward(dxhat, xhat, inv_std, 1, out=dx)

    def astype(self, dtype: Any) -> LayerNorm:
        super().astype(dtype)
        self._dtype = as_dtype(dtype)
        return self

    def get_config(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "eps": self.eps,
            "affine": self.affine,
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        extra = "" if self.affine else ", affine=False"
        return f"LayerNorm({self.features}, eps={self.eps:g}{extra})"

"""Layer normalisation (Ba, Kiros and Hinton 2016) of each row over its features."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from .affine_norm import AffineNormalization
from .normalize import standardize, standardize_backward
from .registry import register_layer


@register_layer
class LayerNorm(AffineNormalization):
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
        super().__init__(features, eps, affine, dtype)

    def forward_unchecked(self, x: np.ndarray) -> np.ndarray:
        xhat = self._buffer("xhat", x.shape, x.dtype)
        self._inv_std = standardize(x, 1, self.eps, out=xhat).inv_std  # x̂ = (x - μ) / √(σ² + eps)
        self._xhat = xhat
        return self._scale_shift(xhat)  # y = γ · x̂ + β

    def backward_unchecked(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        # Unchecked: the caller ran forward first, so x̂ and 1/√(σ² + eps) are cached.
        xhat, inv_std = cast(np.ndarray, self._xhat), cast(np.ndarray, self._inv_std)
        dxhat = self._scale_shift_backward(dout, xhat)  # dγ, dβ; dx̂ = dout · γ
        if not need_dx:
            return None
        dx = self._buffer("dx", dout.shape, dout.dtype)
        return standardize_backward(dxhat, xhat, inv_std, 1, out=dx)

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

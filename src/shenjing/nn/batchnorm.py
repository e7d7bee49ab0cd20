"""Batch normalisation (Ioffe and Szegedy 2015) of each feature over the batch."""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..base.checks import as_dtype, number
from ..base.errors import ConfigError, ShapeError
from .affine_norm import AffineNormalization
from .normalize import standardize, standardize_backward, variance
from .registry import register_layer


@register_layer
class BatchNorm(AffineNormalization):
    """Normalise every feature to zero mean and unit variance, then scale and shift.

    Training mode (statistics of the batch, over its N rows)::

        Forward:  μ[j] = mean_n x[n, j],   σ²[j] = mean_n (x[n, j] - μ[j])²
                  x̂ = (x - μ) / √(σ² + eps),   y = γ · x̂ + β
        Backward: dγ = Σ_n dout · x̂,   dβ = Σ_n dout,   dx̂ = dout · γ
                  dx = (dx̂ - mean_n dx̂ - x̂ · mean_n(dx̂ · x̂)) / √(σ² + eps)
        and after the forward pass, with m = ``momentum``:
                  running_mean ← (1 - m) · running_mean + m · μ
                  running_var  ← (1 - m) · running_var  + m · σ² · N / (N - 1)

    Evaluation mode (the running statistics, a fixed affine map)::

        Forward:  x̂ = (x - running_mean) / √(running_var + eps),   y = γ · x̂ + β
        Backward: dγ = Σ_n dout · x̂,   dβ = Σ_n dout,   dx = dout · γ / √(running_var + eps)

    The conventions are ``torch.nn.BatchNorm1d``'s, and pinned against it by the tests:
    ``momentum`` is the weight of the *new* batch (0.1: a running statistic forgets
    about 10 % per step; Keras' ``momentum=0.99`` is the weight of the old value, i.e.
    this 0.01), the running variance takes the unbiased batch variance while the
    batch is normalised with the biased one, and they start at 0 and 1. A batch of one
    row normalises to 0 (its own mean) and enters its variance 0 as is. The statistics
    are computed without overflow for any finite input (:mod:`shenjing.nn.normalize`).

    Args:
        features: D, the width of each input row.
        momentum: the weight of each batch in the running statistics, in [0, 1].
        eps: added to the variance, > 0.
        affine: learn γ (initially 1) and β (initially 0); without, y = x̂.
        dtype: ``"float32"`` (default) or ``"float64"``, of γ, β and the running statistics.

    Shape:
        x: (N, D) → y: (N, D). gamma, beta, running_mean, running_var: (D,).

    Example:
        >>> bn = BatchNorm(2, dtype="float64")
        >>> y = bn.forward(np.array([[1.0, 10.0], [3.0, 30.0]]))
        >>> np.round(y, 3).tolist(), bn.running_mean.tolist()
        ([[-1.0, -1.0], [1.0, 1.0]], [0.2, 2.0])
    """

    def __init__(
        self,
        features: int,
        momentum: float = 0.1,
        eps: float = 1e-5,
        affine: bool = True,
        dtype: Any = "float32",
    ) -> None:
        super().__init__(features, eps, affine, dtype)
        self.momentum = number(momentum, "momentum", low=0.0, high=1.0)
        dtype = self.dtype
        self.running_mean = np.zeros(features, dtype)
        self.running_var = np.ones(features, dtype)
        # _inv_std: (1, D), of the last forward's mode.
        self._batch_stats = False  # whether the last forward normalised by its batch

    # -- the protocol -------------------------------------------------------------
    def forward_unchecked(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        xhat = self._buffer("xhat", x.shape, x.dtype)
        if self.training:
            moments = standardize(x, 0, self.eps, out=xhat)  # x̂ = (x - μ) / √(σ² + eps)
            m = self.momentum
            self.running_mean *= 1 - m
            self.running_mean += m * moments.mean[0]
            self.running_var *= 1 - m
            self.running_var += m * variance(moments.std[0], n / (n - 1) if n > 1 else 1.0)
            self._inv_std = moments.inv_std
        else:
            inv_std = (1 / np.sqrt(self.running_var + self.eps))[None, :]
            np.subtract(x, self.running_mean, out=xhat)
            xhat *= inv_std  # x̂ = (x - running_mean) / √(running_var + eps)
            self._inv_std = inv_std
        self._batch_stats = self.training
        self._xhat = xhat
        return self._scale_shift(xhat)  # y = γ · x̂ + β

    def backward_unchecked(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        # Unchecked: the caller ran forward first, so x̂ and 1/√(σ² + eps) are cached.
        xhat, inv_std = cast(np.ndarray, self._xhat), cast(np.ndarray, self._inv_std)
        dxhat = self._scale_shift_backward(dout, xhat)  # dγ, dβ; dx̂ = dout · γ
        if not need_dx:
            return None
        dx = self._buffer("dx", dout.shape, dout.dtype)
        if self._batch_stats:  # through μ and σ² of the batch too
            return standardize_backward(dxhat, xhat, inv_std, 0, out=dx)
        np.multiply(dxhat, inv_std, out=dx)  # dx = dout · γ / √(running_var + eps)
        return dx

    # -- state --------------------------------------------------------------------
    def persistent_state(self) -> dict[str, np.ndarray]:
        """Copies of ``running_mean`` and ``running_var``, (D,) each."""
        return {"running_mean": self.running_mean.copy(), "running_var": self.running_var.copy()}

    def load_persistent_state(self, state: dict[str, np.ndarray]) -> None:
        """Set the running statistics from ``state`` (the keys and shapes above)."""
        if not isinstance(state, dict) or set(state) != {"running_mean", "running_var"}:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ConfigError(
                f"{self!r}: persistent state needs exactly running_mean and running_var, got {got}"
            )
        arrays = {k: np.asarray(v) for k, v in state.items()}
        for key, value in arrays.items():
            if value.shape != (self.features,) or value.dtype.kind != "f":
                raise ShapeError(
                    f"{self!r}: {key} must be a float array of shape ({self.features},), "
                    f"got {value.dtype.name} {value.shape}"
                )
        self.running_mean[...] = arrays["running_mean"]
        self.running_var[...] = arrays["running_var"]

    def astype(self, dtype: Any) -> BatchNorm:
        super().astype(dtype)
        self.running_mean = self.running_mean.astype(as_dtype(dtype))
        self.running_var = self.running_var.astype(as_dtype(dtype))
        return self

    def get_config(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "momentum": self.momentum,
            "eps": self.eps,
            "affine": self.affine,
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        extra = "" if self.affine else ", affine=False"
        return f"BatchNorm({self.features}, momentum={self.momentum:g}, eps={self.eps:g}{extra})"

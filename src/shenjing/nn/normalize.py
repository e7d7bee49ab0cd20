"""Standardisation along one axis, shared by BatchNorm (over rows) and LayerNorm (over features)::

    Forward:  μ = mean(x),  σ² = mean((x - μ)²)            (the biased variance)
              x̂ = (x - μ) / √(σ² + eps)
    Backward: dx = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) / √(σ² + eps)

(means along the axis; the backward is the derivative of x̂ through μ and σ² both.)

Written as printed, (x - μ)² overflows for ``|x|`` above √(largest float) (1.3e154 in
float64, 1.8e19 in float32) and the sum behind μ for values near the largest float.
:func:`standardize` therefore divides each slice by its largest magnitude s first: with
u = x / s every value lies in [-1, 1], μ = s·mean(u), σ = s·√mean((u - mean u)²), and
√(σ² + eps) = hypot(σ, √eps) is never below √eps, so a constant slice gives x̂ = 0
rather than 0/0, and no finite input raises a floating-point warning or gives NaN.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


class Moments(NamedTuple):
    """Statistics of one standardisation, each of the reduced shape (keepdims).

    Attributes:
        mean: μ.
        std: σ, the biased standard deviation.
        inv_std: 1 / √(σ² + eps), what backward needs.
    """

    mean: np.ndarray
    std: np.ndarray
    inv_std: np.ndarray


def standardize(x: np.ndarray, axis: int, eps: float, out: np.ndarray) -> Moments:
    """Write x̂ = (x - μ) / √(σ² + eps) along ``axis`` into ``out``; return the moments.

    Shape: x, out: (N, D); the moments (1, D) for ``axis=0``, (N, 1) for ``axis=1``.
    """
    scale = np.max(np.abs(x), axis=axis, keepdims=True)
    scale[scale == 0] = 1  # an all-zero slice: any scale gives x̂ = 0
    np.divide(x, scale, out=out)  # u = x / s, in [-1, 1]
    mean_u = out.mean(axis=axis, keepdims=True)
    out -= mean_u  # u - mean(u), in [-2, 2]
    std = np.sqrt(np.mean(out * out, axis=axis, keepdims=True)) * scale  # σ ≤ s
    denom = np.hypot(std, math.sqrt(eps))  # √(σ² + eps) without squaring σ
    inv_std = 1 / denom
    # x̂ = (u - mean u) · s / √(σ² + eps). s / √(σ² + eps) can exceed the largest float
    # only for a slice near the largest float whose spread rounds to 0; its u - mean u
    # is then 0 (or nearly), so the capped factor gives x̂ = 0, not 0 · inf = NaN.
    with np.errstate(over="ignore"):
        factor = scale / denom
    np.minimum(factor, np.finfo(x.dtype).max, out=factor)
    out *= factor
    return Moments(mean_u * scale, std, inv_std)


def standardize_backward(
    dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, axis: int, out: np.ndarray
) -> np.ndarray:
    """dx = (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂)) · inv_std along ``axis``, into ``out``."""
    proj = np.mean(dxhat * xhat, axis=axis, keepdims=True)
    np.multiply(xhat, proj, out=out)
    np.subtract(dxhat, out, out=out)
    out -= dxhat.mean(axis=axis, keepdims=True)
    out *= inv_std
    return out


def variance(std: np.ndarray, correction: float = 1.0) -> np.ndarray:
    """σ² · ``correction`` (n / (n - 1) for the unbiased variance), capped so it stays finite.

    A spread above √(largest float / 4) has a variance the dtype cannot hold; it is stored
    as that cap, so a running variance that averages it stays finite too.
    """
    cap = np.sqrt(np.finfo(std.dtype).max / 4)
    root = np.minimum(std, cap) * math.sqrt(correction)
    result: np.ndarray = np.square(np.minimum(root, cap))
    return result

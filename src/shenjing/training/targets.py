"""Checking and converting what a loss is given: predictions, targets, class weights.

Each runs once per public call (``fit`` converts the whole target array before its first
step), so it favours clear messages naming the loss over speed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.checks import FLOAT_DTYPES, check_finite
from ..base.errors import DataError, DTypeError, ShapeError


def as_prediction(pred: Any) -> np.ndarray:
    """``pred`` as a non-empty (N, D) float array (integers become float64)."""
    p = np.asarray(pred)
    if p.dtype not in FLOAT_DTYPES.values():
        if p.dtype.kind not in "biuf":
            raise DTypeError(f"pred must hold real numbers, got dtype {p.dtype.name!r}")
        p = p.astype(np.float64)
    if p.ndim != 2:
        raise ShapeError(f"pred must be 2-D (N, D), got shape {p.shape}")
    if p.size == 0:
        raise DataError(f"pred is empty (shape {p.shape})")
    return p


def regression_target(
    target: Any, pred_shape: tuple[int, ...], dtype: np.dtype, who: str
) -> np.ndarray:
    """Finite real targets of the predictions' shape ((N,) allowed for one output)."""
    t = np.asarray(target)
    if t.dtype.kind not in "biuf":
        raise DTypeError(f"{who}: target must hold real numbers, got dtype {t.dtype.name!r}")
    if t.ndim == 1 and len(pred_shape) == 2 and pred_shape[1] == 1:
        t = t.reshape(-1, 1)
    if t.shape != tuple(pred_shape):
        raise ShapeError(
            f"{who}: target must have the predictions' shape {tuple(pred_shape)}"
            f"{' (or (N,) for one output)' if pred_shape[1] == 1 else ''}, got {t.shape}"
        )
    t = np.asarray(t, dtype=dtype, order="C")
    check_finite(t, "target")
    return t


def class_weights(class_weight: Any) -> np.ndarray:
    """One finite, non-negative float64 weight per class."""
    w = np.asarray(class_weight)
    if w.dtype.kind not in "biuf" or w.ndim != 1 or w.size == 0:
        raise DTypeError(
            f"class_weight must be a 1-D array of real numbers (one per class), got {w!r:.60}"
        )
    w = w.astype(np.float64)
    check_finite(w, "class_weight")
    if w.min() < 0:
        raise DataError(f"class_weight must be non-negative, got {w.min()}")
    return w


def class_target(target: Any, pred_shape: tuple[int, ...], dtype: np.dtype, who: str) -> np.ndarray:
    """(N,) class indices in [0, K), or (N, K) one-hot/probability rows of ``dtype``."""
    n, k = pred_shape
    t = np.asarray(target)
    if t.dtype.kind not in "biuf":
        raise DTypeError(f"{who}: target must hold numbers, got dtype {t.dtype.name!r}")
    if t.ndim == 2 and t.shape[1] == 1 and k > 1:
        t = t[:, 0]
    if t.ndim == 1:
        if t.shape[0] != n:
            raise ShapeError(f"{who}: target must hold {n} labels, one per row, got {t.shape[0]}")
        if t.dtype.kind == "f":
            check_finite(t, "target")
            if not np.array_equal(t, np.round(t)):
                raise DTypeError(
                    f"{who}: labels must be whole numbers (class indices), got e.g. "
                    f"{t[t != np.round(t)][0]}"
                )
        if t.min() < 0 or t.max() >= k:
            raise DataError(
                f"{who}: labels must lie in [0, {k}) for {k} outputs, got values in "
                f"[{t.min()}, {t.max()}]"
            )
        return t.astype(np.intp)
    if t.shape != (n, k):
        raise ShapeError(
            f"{who}: target must be labels of shape ({n},) or one-hot rows of shape "
            f"({n}, {k}), got {t.shape}"
        )
    t = np.asarray(t, dtype=dtype, order="C")
    check_finite(t, "target")
    if t.min() < 0 or not np.allclose(t.sum(axis=1), 1, rtol=0, atol=1e-6):
        raise DataError(f"{who}: each target row must be non-negative and sum to 1")
    return t

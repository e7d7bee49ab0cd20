"""Rows in, rows out: scipy sparse inputs a chunk at a time, scikit-learn's loss scales,
and predictions in chunks.

A sparse X (CSR, or CSC turned into CSR once) is never densified whole: training and
prediction take ``CHUNK_ROWS`` rows (or a mini-batch) at a time and densify only those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..training.losses import Loss

#: Rows densified at once from a sparse matrix when the step does not fix the number.
CHUNK_ROWS = 1024


def is_sparse(X: Any) -> bool:
    return bool(sp.issparse(X))


def as_rows(X: Any) -> Any:
    """X as something whose row subsets are cheap: CSR for sparse, the array otherwise."""
    return X.tocsr() if is_sparse(X) and X.format != "csr" else X


def dense(X: Any, rows: Any = None) -> np.ndarray:
    """The rows ``rows`` (a slice or indices; all when None) of X, as a dense array."""
    part = X if rows is None else X[rows]
    return np.asarray(part.toarray()) if is_sparse(part) else np.asarray(part)


def chunks(n: int, size: int = CHUNK_ROWS) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def map_rows(X: Any, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``fn`` of X's rows, concatenated: X whole when dense, a chunk at a time when sparse."""
    if not is_sparse(X):
        return fn(X)
    X = as_rows(X)
    return np.concatenate([fn(dense(X, rows)) for rows in chunks(X.shape[0])])


class ScaledLoss(Loss):
    """``factor ·`` a shenjing loss: scikit-learn's scale of the same loss.

    scikit-learn's squared error is half the mean squared error, and its multi-label log
    loss and Poisson loss sum over the outputs where shenjing's mean over them; with
    the same scale, an SGD step and ``tol`` mean what they mean there.

    Forward:  L = factor · inner(z, y)
    Backward: dL/dz = factor · dinner/dz
    """

    def __init__(self, inner: Loss, factor: float) -> None:
        super().__init__()
        self.inner, self.factor = inner, float(factor)
        self.reduction = inner.reduction

    def prepare_target(
        self, target: Any, pred_shape: tuple[int, ...], dtype: np.dtype
    ) -> np.ndarray:
        return self.inner.prepare_target(target, pred_shape, dtype)

    def _forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        self._pred = pred
        return self.factor * self.inner.forward_unchecked(pred, target)

    def _backward(self, grad: np.ndarray) -> None:
        np.multiply(self.inner.backward(), self.factor, out=grad)

    def row_losses(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.inner.row_losses(pred, target) * self.factor
        return out

    def get_config(self) -> dict[str, Any]:
        return {"inner": repr(self.inner), "factor": self.factor}


def scaled(loss: Loss, factor: float) -> Loss:
    """``loss`` at scikit-learn's scale (itself when the factor is 1)."""
    return loss if factor == 1 else ScaledLoss(loss, factor)

"""The rows a ``fit`` trains and validates on: mini-batches of an epoch, the validation split."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..base.checks import number
from ..base.errors import ShapeError
from .rows import RowSubset, gather


class Batches:
    """The mini-batches of an epoch, in order or in a fresh seeded shuffle.

    In order, a batch of an array is a view of it (no copy). Shuffled, or from data read
    by rows (:class:`~.rows.RowSource`, :class:`~.rows.RowSubset`: a memmap of another
    dtype, Zarr, HDF5, the training rows of a validation split), its rows are gathered
    into two buffers allocated once per ``fit``, so a step allocates nothing and memory
    stays bounded by the batch; the short last batch uses their leading rows. Each batch
    is ``(x, t, w)``: ``w`` the rows' sample weights (``W``, gathered the same way), or
    None for an unweighted fit.
    """

    def __init__(
        self,
        X: Any,
        T: Any,
        batch: int,
        shuffle: bool,
        rng: np.random.Generator,
        W: np.ndarray | None = None,
    ) -> None:
        self.X, self.T, self.W, self.batch, self.rng = X, T, W, batch, rng
        # A full batch is the same whatever the order: nothing to shuffle.
        self.shuffle = shuffle and batch < len(X)
        self.viewable = isinstance(X, np.ndarray) and isinstance(T, np.ndarray)
        if self.shuffle or not self.viewable:
            self.x_buf = np.empty((batch, *X.shape[1:]), X.dtype)
            self.t_buf = np.empty((batch, *T.shape[1:]), T.dtype)
            self.w_buf = None if W is None else np.empty(batch, W.dtype)

    def __len__(self) -> int:
        return math.ceil(len(self.X) / self.batch)

    def order(self) -> np.ndarray | None:
        """A new epoch's order of the rows (``None``: in order). Drawn from ``rng``."""
        return self.rng.permutation(len(self.X)) if self.shuffle else None

    def epoch(
        self, order: np.ndarray | None = None, first: int = 0
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        """The batches of one epoch in ``order``, from batch ``first`` on (a resumed epoch)."""
        n, batch, W = len(self.X), self.batch, self.W
        for start in range(first * batch, n, batch):
            stop = min(start + batch, n)
            if order is None and self.viewable:
                yield self.X[start:stop], self.T[start:stop], None if W is None else W[start:stop]
            else:
                rows = np.arange(start, stop) if order is None else order[start:stop]
                wb = None if W is None else gather(W, rows, self.w_buf)
                yield gather(self.X, rows, self.x_buf), gather(self.T, rows, self.t_buf), wb

    def weight_seen(self, order: np.ndarray | None, seen: int) -> float:
        """Σ of the sample weights of an epoch's first ``seen`` rows in ``order``."""
        assert self.W is not None
        rows = slice(0, seen) if order is None else order[:seen]
        return float(self.W[rows].sum())


def split_validation(
    X: Any, T: np.ndarray, fraction: float, rng: np.random.Generator, W: np.ndarray | None = None
) -> tuple[RowSubset, np.ndarray, tuple[np.ndarray, np.ndarray], np.ndarray | None]:
    """The training rows (not copied: a :class:`~.rows.RowSubset` of ``X``), their
    targets, the validation pair (copied: ``round(N · fraction)`` rows), and the
    training rows' sample weights ``W`` if any (validation is unweighted).

    The rows are a seeded permutation's, each side in increasing order.
    """
    fraction = number(
        fraction, "validation_split", low=0.0, high=1.0, low_open=True, high_open=True
    )
    n = X.shape[0]
    n_val = round(n * fraction)
    if n_val < 1 or n_val >= n:
        raise ShapeError(
            f"validation_split={fraction} of {n} rows leaves {n - n_val} for training and "
            f"{n_val} for validation; both need at least one"
        )
    order = rng.permutation(n)
    val_rows, train_rows = np.sort(order[:n_val]), np.sort(order[n_val:])
    W_train = None if W is None else W[train_rows]
    return RowSubset(X, train_rows), T[train_rows], (gather(X, val_rows), T[val_rows]), W_train

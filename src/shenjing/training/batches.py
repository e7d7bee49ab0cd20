"""The rows a ``fit`` trains and validates on: mini-batches of an epoch, the validation split."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ..base.checks import number
from ..base.errors import ShapeError


class Batches:
    """The mini-batches of an epoch, in order or in a fresh seeded shuffle.

    In order, a batch is a view of the data (no copy). Shuffled, its rows are gathered
    into two buffers allocated once per ``fit``, so a step allocates nothing; the short
    last batch uses their leading rows. Each batch is ``(x, t, w)``: ``w`` the rows'
    sample weights, gathered the same way, or None for an unweighted fit.
    """

    def __init__(
        self,
        X: np.ndarray,
        T: np.ndarray,
        batch: int,
        shuffle: bool,
        rng: np.random.Generator,
        W: np.ndarray | None = None,
    ) -> None:
        self.X, self.T, self.W, self.batch, self.rng = X, T, W, batch, rng
        # A full batch is the same whatever the order: nothing to shuffle.
        self.shuffle = shuffle and batch < len(X)
        if self.shuffle:
            self.x_buf = np.empty((batch, *X.shape[1:]), X.dtype)
            self.t_buf = np.empty((batch, *T.shape[1:]), T.dtype)
            if W is not None:
                self.w_buf = np.empty(batch, W.dtype)

    def __len__(self) -> int:
        return math.ceil(len(self.X) / self.batch)

    def epoch(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        n, batch, W = len(self.X), self.batch, self.W
        order = self.rng.permutation(n) if self.shuffle else None
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            if order is None:
                yield self.X[start:stop], self.T[start:stop], None if W is None else W[start:stop]
            else:
                rows, m = order[start:stop], stop - start
                # mode="clip" lets take write straight into out (rows are valid anyway).
                xb = np.take(self.X, rows, axis=0, out=self.x_buf[:m], mode="clip")
                tb = np.take(self.T, rows, axis=0, out=self.t_buf[:m], mode="clip")
                wb = None if W is None else np.take(W, rows, out=self.w_buf[:m], mode="clip")
                yield xb, tb, wb


def split_validation(
    X: np.ndarray,
    T: np.ndarray,
    fraction: float,
    rng: np.random.Generator,
    W: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray], np.ndarray | None]:
    """Hold out ``fraction`` of the rows at random: (X, T, (X_val, T_val), W) of training.

    ``W``, the sample weights if any, is cut to the training rows (validation is
    unweighted).
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
    return X[train_rows], T[train_rows], (X[val_rows], T[val_rows]), W_train

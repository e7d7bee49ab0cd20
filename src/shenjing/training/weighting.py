"""Per-sample weights in ``fit``: checking ``sample_weight`` and ``class_weight``, and
the weighted loss of a mini-batch.

With weights w_n ≥ 0 on the B rows of a batch and ℓ_n each row's loss
(:meth:`Loss.row_losses <shenjing.losses.Loss.row_losses>`), a step minimises

* ``reduction="mean"`` losses (all but ``"sse"``): the weighted mean
  L = Σ_n w_n ℓ_n / Σ_n w_n, so equal weights give the unweighted loss and an integer
  weight counts a row that many times (scikit-learn's MLPs weight their loss so);
* ``reduction="sum"`` losses (``"sse"``): the weighted sum L = Σ_n w_n ℓ_n.

Each row of the gradient is the unweighted loss's row scaled: for a mean loss the
unweighted gradient of row n is (1/B) ∂ℓ_n/∂z_n, so the weighted one is that times
B w_n / Σ w (times w_n for a sum). A batch whose weights are all 0 has a loss of 0 and
a zero gradient. The unweighted path does not pass through here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.checks import check_finite
from ..base.errors import ConfigError, DataError, DTypeError, ShapeError
from .losses import BinaryCrossEntropy, Loss, SoftmaxCrossEntropy


class WeightedLoss:
    """A loss weighted per row: ``forward(pred, target, weights)``, then ``backward()``.

    ``target`` is what ``loss.prepare_target`` returned and ``weights`` a (B,) array of
    non-negative weights; ``backward`` returns dL/dpred, (B, K), an array owned by this
    object and overwritten by the next call.
    """

    def __init__(self, loss: Loss) -> None:
        self.loss = loss
        self._scale: np.ndarray | None = None
        self._grad: np.ndarray | None = None

    def forward(self, pred: np.ndarray, target: np.ndarray, weights: np.ndarray) -> float:
        loss = self.loss
        loss.forward_unchecked(pred, target)  # keeps what loss.backward needs
        rows = loss.row_losses(pred, target)
        total = float(weights.sum())
        if loss.reduction == "sum":
            self._scale = weights.astype(pred.dtype)
            return float(weights @ rows)
        if total == 0:
            self._scale = np.zeros(len(weights), pred.dtype)
            return 0.0
        # row scale B w_n / Σ w turns the unweighted mean's gradient into the weighted one
        self._scale = (weights * (len(weights) / total)).astype(pred.dtype)
        return float(weights @ rows) / total

    def backward(self) -> np.ndarray:
        if self._scale is None:
            raise ConfigError("WeightedLoss.backward called before forward")
        grad = self.loss.backward()
        if self._grad is None or self._grad.shape != grad.shape or self._grad.dtype != grad.dtype:
            self._grad = np.empty_like(grad)
        np.multiply(grad, self._scale[:, None], out=self._grad)
        return self._grad

    def __repr__(self) -> str:
        return f"WeightedLoss({self.loss!r})"


def check_sample_weight(sample_weight: Any, n: int) -> np.ndarray:
    """``sample_weight`` as a float64 (n,) array of finite weights ≥ 0, not all zero."""
    w = np.asarray(sample_weight)
    if w.ndim == 0:  # one number: the same weight on every row
        w = np.full(n, w)
    if w.dtype.kind not in "biuf":
        raise DTypeError(f"sample_weight must hold real numbers, got dtype {w.dtype.name!r}")
    if w.shape != (n,):
        raise ShapeError(f"sample_weight must have shape ({n},), one weight per row, got {w.shape}")
    w = w.astype(np.float64)
    check_finite(w, "sample_weight")
    if w.min() < 0:
        raise DataError(f"sample_weight must be non-negative, got a minimum of {w.min()}")
    if not w.any():
        raise DataError("sample_weight is zero for every row: there is nothing to train on")
    return w


def row_classes(loss: Loss, target: np.ndarray, width: int) -> tuple[np.ndarray, int]:
    """Each row's class as (N, K) membership (one-hot or probabilities), and K.

    For the class losses only: softmax cross-entropy (labels or rows) and binary
    cross-entropy with one output (target 1 is class 1, 0 class 0).
    """
    if isinstance(loss, SoftmaxCrossEntropy):
        if target.ndim == 1:
            return np.eye(width)[target], width
        return np.asarray(target, np.float64), width
    if isinstance(loss, BinaryCrossEntropy) and target.shape[1] == 1:
        t = np.asarray(target[:, 0], np.float64)
        return np.stack([1 - t, t], axis=1), 2
    raise ConfigError(
        f"class_weight needs a classification loss (softmax cross-entropy, or binary "
        f"cross-entropy with one output), not {loss!r}"
    )


def class_weight_per_row(
    class_weight: Any, loss: Loss, target: np.ndarray, width: int
) -> np.ndarray:
    """Each row's class weight, (N,): Σ_k w_k t[n, k] (w_{y_n} for labels).

    ``class_weight``: ``"balanced"`` (w_k = N / (K · N_k), N_k the rows of class k), a
    sequence of K weights, or a dict {class index: weight} (classes left out weigh 1).
    """
    member, k = row_classes(loss, target, width)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ConfigError(
                f"class_weight must be 'balanced', a sequence or a dict, got {class_weight!r}"
            )
        counts = member.sum(axis=0)
        w = np.divide(len(member), k * counts, out=np.zeros(k), where=counts > 0)
    elif isinstance(class_weight, dict):
        w = np.ones(k)
        for key, value in class_weight.items():
            if not isinstance(key, (int, np.integer)) or not 0 <= key < k:
                raise ConfigError(
                    f"class_weight keys must be class indices in [0, {k}), got {key!r}"
                )
            w[key] = value
    else:
        w = np.asarray(class_weight)
        if w.dtype.kind not in "biuf" or w.ndim != 1:
            raise DTypeError(
                f"class_weight must be a 1-D sequence of numbers, got {class_weight!r:.60}"
            )
        if len(w) != k:
            raise ShapeError(f"class_weight has {len(w)} weights, but the network has {k} classes")
    w = np.asarray(w, np.float64)
    check_finite(w, "class_weight")
    if w.min() < 0:
        raise DataError(f"class_weight must be non-negative, got {w.min()}")
    out: np.ndarray = member @ w
    return out


def fit_weights(
    sample_weight: Any, class_weight: Any, loss: Loss, target: np.ndarray, width: int
) -> np.ndarray | None:
    """The (N,) weights a ``fit`` trains with: sample_weight × class weight, or None."""
    if sample_weight is None and class_weight is None:
        return None
    n = len(target)
    w = np.ones(n) if sample_weight is None else check_sample_weight(sample_weight, n)
    if class_weight is not None:
        w = w * class_weight_per_row(class_weight, loss, target, width)
        if not w.any():
            raise DataError("sample_weight × class_weight is zero for every row")
    return w

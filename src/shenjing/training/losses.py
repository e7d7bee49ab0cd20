"""Loss functions: a scalar from predictions and targets, and its gradient.

Usage, the way the notes write a training step::

    loss = loss_fn(pred, y)          # a Python float
    dpred = loss_fn.backward()       # dL/dpred, same shape as pred

Each loss states its reduction: ``"sum"`` over every element (the notes' sum of
squares) or ``"mean"``. All take *raw network outputs*; the classification losses
apply softmax or sigmoid themselves, in a numerically stable way.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..base import stable as _stable
from ..base.backend import UsesNamespace, namespace, reusable_buffer
from ..base.checks import number
from ..base.errors import DataError, ShapeError, StateError
from ..base.registry import Registry
from .targets import as_prediction, class_target, class_weights, regression_target

LOSSES: Registry[type[Loss]] = Registry("loss")


class Loss(UsesNamespace):
    """Base class. Subclasses implement ``prepare_target``, ``_forward`` and ``_backward``.

    ``forward(pred, target)`` checks its arguments and returns the loss as a float;
    ``forward_unchecked(pred, target)`` is the same without the checks, for a target
    that :meth:`prepare_target` already converted (``fit`` converts it once);
    ``backward()`` returns dL/dpred for the last forward (an array owned by the loss,
    overwritten by the next call).
    """

    #: "sum" over every element, or "mean"; evaluate combines batches accordingly.
    reduction = "mean"

    def __init__(self) -> None:
        #: The array module this loss computes with (see :mod:`shenjing.base.backend`).
        self.xp = namespace()
        self._buffers: dict[str, np.ndarray] = {}
        self._pred: np.ndarray | None = None
        self._target: np.ndarray | None = None

    def __call__(self, pred: Any, target: Any) -> float:
        return self.forward(pred, target)

    def forward(self, pred: Any, target: Any) -> float:
        pred = as_prediction(pred)
        target = self.prepare_target(target, pred.shape, pred.dtype)
        return self._forward(pred, target)

    def forward_unchecked(self, pred: np.ndarray, target: np.ndarray) -> float:
        """The loss of ``pred`` against a target already returned by :meth:`prepare_target`."""
        return self._forward(pred, target)

    def backward(self) -> np.ndarray:
        if self._pred is None:
            raise StateError(f"{type(self).__name__}.backward called before forward")
        grad = self._buffer("grad", self._pred.shape, self._pred.dtype)
        self._backward(grad)
        return grad

    def prepare_target(
        self, target: Any, pred_shape: tuple[int, ...], dtype: np.dtype
    ) -> np.ndarray:
        """Check ``target`` against predictions of ``pred_shape`` and convert it once.

        ``fit`` calls this on the whole target array before training, so the per-step
        path does no validation. The default accepts real targets of the predictions'
        shape, or (N,) when the predictions are (N, 1).
        """
        return regression_target(target, pred_shape, dtype, type(self).__name__)

    def _forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def _backward(self, grad: np.ndarray) -> None:
        raise NotImplementedError

    def row_losses(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Each row's loss, (N,), for a target from :meth:`prepare_target`: the loss is
        their mean (``reduction="mean"``) or sum (``"sum"``), which sample weights weight
        (``fit(sample_weight=...)``); a loss without them cannot be weighted."""
        raise NotImplementedError(f"{type(self).__name__} does not give per-row losses")

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        buf = self._buffers.get(name)
        if buf is not None and buf.shape == shape and buf.dtype == dtype:
            return buf  # the steady state, without reusable_buffer's call
        return reusable_buffer(self._buffers, name, shape, dtype, self.xp)

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@LOSSES.register("sse", "sum_squared_error")
class SumSquaredError(Loss):
    """Sum of squared errors, the notes' loss (a sum, not a mean).

    Forward:  L = Σ (pred - y)²                  over every element
    Backward: dL/dpred = 2 (pred - y)

    Because it is a sum, its gradient grows with the batch size; the notes pair it with
    small learning rates (1e-4, 0.002). Shape: pred (N, D), y (N, D) or (N,) if D = 1.
    """

    reduction = "sum"

    def _forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        diff = self._buffer("diff", pred.shape, pred.dtype)
        np.subtract(pred, target, out=diff)
        sq = self._buffer("sq", pred.shape, pred.dtype)
        np.square(diff, out=sq)
        self._pred, self._diff = pred, diff
        total = float(sq.sum())
        return total if self.reduction == "sum" else total / pred.size

    def _backward(self, grad: np.ndarray) -> None:
        # 2.0 * (pred - y), the notes' expression, scaled by 1/(N·D) for the mean.
        scale = 2.0 if self.reduction == "sum" else 2.0 / grad.size
        np.multiply(self._diff, scale, out=grad)

    def row_losses(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        # Σ_d (pred - y)² per row, or its mean over the D outputs for the mean reduction.
        sq: np.ndarray = np.square(pred - target).sum(axis=1)
        return sq if self.reduction == "sum" else sq / pred.shape[1]


@LOSSES.register("mse", "mean_squared_error")
class MeanSquaredError(SumSquaredError):
    """Mean squared error over every element (N·D of them).

    Forward:  L = (1 / (N·D)) Σ (pred - y)²
    Backward: dL/dpred = 2 (pred - y) / (N·D)
    """

    reduction = "mean"


@LOSSES.register("huber", "smooth_l1")
class Huber(Loss):
    """Huber loss: squared for small errors, linear for large ones (robust to outliers).

    Forward:  ``r = pred - y;  L = mean( ½ r² if |r| ≤ δ else δ (|r| - ½ δ) )``
    Backward: dL/dpred = clip(r, -δ, δ) / (N·D)

    Args:
        delta: δ > 0, where the loss turns from quadratic to linear. Default 1.0.
    """

    def __init__(self, delta: float = 1.0) -> None:
        super().__init__()
        self.delta = number(delta, "delta", low=0.0, low_open=True)

    def _forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        d = self.delta
        r = self._buffer("diff", pred.shape, pred.dtype)
        np.subtract(pred, target, out=r)
        a = np.abs(r)
        quadratic = 0.5 * np.square(np.minimum(a, d))  # ½ min(|r|, δ)²
        linear = d * np.maximum(a - d, 0)  # δ (|r| - δ) beyond δ
        self._pred, self._diff = pred, r
        return float((quadratic + linear).sum()) / pred.size

    def _backward(self, grad: np.ndarray) -> None:
        np.clip(self._diff, -self.delta, self.delta, out=grad)
        grad /= grad.size

    def row_losses(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        a = np.abs(pred - target)
        d = self.delta
        elementwise = 0.5 * np.square(np.minimum(a, d)) + d * np.maximum(a - d, 0)
        out: np.ndarray = elementwise.mean(axis=1)
        return out

    def get_config(self) -> dict[str, Any]:
        return {"delta": self.delta}


@LOSSES.register("softmax_cross_entropy", "cross_entropy", "ce", "softmax")
class SoftmaxCrossEntropy(Loss):
    """Softmax followed by cross-entropy, averaged over the batch, from raw scores.

    Forward:  p = softmax(z) row-wise;  L = -(1/N) Σ_n log p[n, y_n]
              computed as log-sum-exp of (z - max z), so no exponent can overflow

    Backward: dL/dz = (p - onehot(y)) / N

    Targets are integer class labels of shape (N,) in [0, K), or a (N, K) array of
    one-hot rows or class probabilities (each row non-negative, summing to 1).

    Args:
        class_weight: optional (K,) non-negative weights w, one per class, for
            imbalanced data. Each sample's term is scaled by its class's weight and the
            sum is still divided by N (not by Σ w):
            L = -(1/N) Σ_n Σ_k w_k t[n, k] log p[n, k],
            dL/dz = (p Σ_k w_k t[n, k] - w ⊙ t[n]) / N, i.e. w_{y_n} (p - onehot(y)) / N
            for labels. "Balanced" weights w_k = N / (K N_k) make Σ_n w_{y_n} = N.
    """

    def __init__(self, class_weight: Any = None) -> None:
        super().__init__()
        self.class_weight = None if class_weight is None else class_weights(class_weight)

    def prepare_target(
        self, target: Any, pred_shape: tuple[int, ...], dtype: np.dtype
    ) -> np.ndarray:
        if self.class_weight is not None and len(self.class_weight) != pred_shape[1]:
            raise ShapeError(
                f"SoftmaxCrossEntropy: class_weight has {len(self.class_weight)} weights "
                f"but the predictions have {pred_shape[1]} classes"
            )
        return class_target(target, pred_shape, dtype, type(self).__name__)

    def _forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        if self.class_weight is not None:
            return self._weighted_forward(pred, target)
        n = pred.shape[0]
        shifted = self._buffer("p", pred.shape, pred.dtype)
        log_sum = _stable.log_softmax_parts(pred, shifted)
        # -log p[n, y] = log Σ exp(shifted[n]) - shifted[n, y]
        if target.ndim == 1:
            picked = shifted[np.arange(n), target]
            loss: float = float(log_sum.sum() - picked.sum()) / n
        else:
            # -Σ_k t[n, k] log p[n, k], with Σ_k t[n, k] = 1 up to rounding. The first
            # sum as Σ_k (log_sumᵀ t)_k: a row sum of t (N, K) costs ~40 ns a row.
            loss = float((log_sum[:, 0] @ target).sum() - np.vdot(target, shifted)) / n
        # Keep the probabilities for backward: p = exp(shifted - log_sum).
        shifted -= log_sum
        np.exp(shifted, out=shifted)
        self._pred, self._target, self._probs = pred, target, shifted
        return loss

    def _backward(self, grad: np.ndarray) -> None:
        if self.class_weight is not None:
            return self._weighted_backward(grad)
        n = grad.shape[0]
        target = cast(np.ndarray, self._target)  # set by _forward, which backward follows
        if target.ndim == 1:
            np.copyto(grad, self._probs)
            grad[np.arange(n), target] -= 1
        else:
            np.subtract(self._probs, target, out=grad)  # the copy and -= in one pass
        grad /= n

    # The weighted path is kept apart so that the unweighted one stays exactly as above.
    def _weighted_forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        n = pred.shape[0]
        w = cast(np.ndarray, self.class_weight).astype(pred.dtype)  # this path needs them
        shifted = self._buffer("p", pred.shape, pred.dtype)
        log_sum = _stable.log_softmax_parts(pred, shifted)[:, 0]
        if target.ndim == 1:
            row_weight = w[target]  # w_{y_n}
            loss: float = float(row_weight @ (log_sum - shifted[np.arange(n), target])) / n
            weighted_target = None
        else:
            weighted_target = target * w  # w_k t[n, k]
            row_weight = weighted_target.sum(axis=1)
            loss = float(log_sum @ row_weight - np.vdot(weighted_target, shifted)) / n
        shifted -= log_sum[:, None]
        np.exp(shifted, out=shifted)
        self._pred, self._target, self._probs = pred, target, shifted
        self._row_weight, self._weighted_target = row_weight, weighted_target
        return loss

    def _weighted_backward(self, grad: np.ndarray) -> None:
        n = grad.shape[0]
        target = cast(np.ndarray, self._target)  # set by _forward, which backward follows
        np.multiply(self._probs, self._row_weight[:, None], out=grad)
        if target.ndim == 1:
            grad[np.arange(n), target] -= self._row_weight
        else:
            grad -= self._weighted_target
        grad /= n

    def row_losses(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        # -Σ_k w_k t[n, k] log p[n, k] (w = 1 without class weights), log p as in _forward.
        shifted = np.empty_like(pred)
        log_p = shifted - _stable.log_softmax_parts(pred, shifted)
        t = np.eye(pred.shape[1], dtype=pred.dtype)[target] if target.ndim == 1 else target
        if self.class_weight is not None:
            t = t * self.class_weight.astype(pred.dtype)
        out: np.ndarray = -np.einsum("nk,nk->n", t, log_p)
        return out

    def get_config(self) -> dict[str, Any]:
        if self.class_weight is None:
            return {}
        return {"class_weight": [float(v) for v in self.class_weight]}


@LOSSES.register("binary_cross_entropy", "bce", "sigmoid_cross_entropy")
class BinaryCrossEntropy(Loss):
    """Sigmoid followed by binary cross-entropy, from raw scores (logits), mean over elements.

    Forward:  L = mean( softplus(z) - y z )
              = mean( -y log σ(z) - (1 - y) log(1 - σ(z)) ), overflow-free

    Backward: dL/dz = (σ(z) - y) / (N·D)

    Targets are in [0, 1]: shape (N, D), or (N,) when D = 1. D > 1 means D independent
    yes/no labels per sample (multi-label).
    """

    def prepare_target(
        self, target: Any, pred_shape: tuple[int, ...], dtype: np.dtype
    ) -> np.ndarray:
        t = regression_target(target, pred_shape, dtype, type(self).__name__)
        if t.min() < 0 or t.max() > 1:
            raise DataError(
                f"BinaryCrossEntropy: target must lie in [0, 1], got values in "
                f"[{t.min()}, {t.max()}]"
            )
        return t

    def _forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        # Element by element, as max(z, 0) - y z + log1p(e^-|z|): the first two terms
        # cancel exactly for a confident right answer, where summing softplus(z) and
        # y z separately would subtract two large sums (and overflow for huge z).
        loss = self._buffer("elementwise", pred.shape, pred.dtype)
        np.multiply(target, pred, out=loss)
        np.subtract(np.maximum(pred, 0), loss, out=loss)
        loss += np.log1p(np.exp(-np.abs(pred)))
        self._pred, self._target = pred, target
        return float(loss.sum()) / pred.size

    def _backward(self, grad: np.ndarray) -> None:
        # Both set by _forward, which backward follows.
        _stable.sigmoid(cast(np.ndarray, self._pred), out=grad)
        grad -= self._target
        grad /= grad.size

    def row_losses(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        # The mean over the D labels of max(z, 0) - y z + log1p(e^-|z|), as in _forward.
        elementwise = np.maximum(pred, 0) - target * pred + np.log1p(np.exp(-np.abs(pred)))
        out: np.ndarray = elementwise.mean(axis=1)
        return out


@LOSSES.register("poisson", "poisson_deviance")
class PoissonLoss(Loss):
    """Half the Poisson deviance, with a log link, from raw outputs z: μ = e^z.

    Forward:  L = mean( e^z - y z + y log y - y )      over every element (0 log 0 = 0)
    Backward: dL/dz = (e^z - y) / (N·D)

    For counts and other non-negative targets whose mean is e^z (predict e^z, not z).
    Each term is ≥ 0 and is 0 exactly when e^z = y, as the deviance is; y log y - y does
    not depend on z, so it changes the value, not the gradient. Written in z rather
    than μ, nothing is divided and no log of a prediction is taken, so it is finite for
    every finite z up to the exponent's range; past it (z > 709 in float64) e^z is inf,
    the loss is inf and ``fit`` raises ``DivergenceError``. Targets: (N, D) or (N,) for
    D = 1, every value ≥ 0.
    """

    def prepare_target(
        self, target: Any, pred_shape: tuple[int, ...], dtype: np.dtype
    ) -> np.ndarray:
        t = regression_target(target, pred_shape, dtype, type(self).__name__)
        if t.min() < 0:
            raise DataError(f"PoissonLoss: targets must be >= 0 (counts), got a minimum {t.min()}")
        return t

    def row_losses(self, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # e^z past the float range is inf: the loss is
            mu = np.exp(pred)
        y_log_y = np.zeros_like(target)
        np.multiply(target, np.log(target, out=y_log_y, where=target > 0), out=y_log_y)
        elementwise = mu - target * pred + y_log_y - target
        out: np.ndarray = elementwise.mean(axis=1)
        return out

    def _forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        self._pred, self._target = pred, target
        return float(self.row_losses(pred, target).mean())

    def _backward(self, grad: np.ndarray) -> None:
        with np.errstate(over="ignore"):
            np.exp(cast(np.ndarray, self._pred), out=grad)
        grad -= self._target
        grad /= grad.size


def get(loss: str | Loss | type[Loss]) -> Loss:
    """Resolve a loss given by name (``"sse"``, ``"mse"``…), class or instance."""
    return LOSSES.create(loss, Loss)


def names() -> list[str]:
    """Names accepted by :func:`get`."""
    return LOSSES.names()

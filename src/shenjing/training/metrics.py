"""Metrics: numbers a person reads to judge a model, accumulated batch by batch.

The one place shenjing computes them: :func:`macro_f1`, :func:`rmse` and :func:`r2`
give the same numbers in one pass over whole arrays of labels or values.

Each metric is a small accumulator, so ``evaluate`` can stream a dataset in batches
and still give the exact whole-dataset value::

    m = metrics.get("accuracy")
    for pred, target in batches:
        m.update(pred, target)
    m.result()

``pred`` is the raw network output (N, K); ``target`` is as the loss prepared it:
labels (N,) or rows (N, K).
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np

from ..base.checks import as_float_array
from ..base.errors import ShapeError
from ..base.registry import Registry

METRICS: Registry[type[Metric]] = Registry("metric")


class Metric:
    """Base class: ``reset()``, ``update(pred, target)``, ``result() -> float``."""

    name = ""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, pred: np.ndarray, target: np.ndarray) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def predicted_classes(pred: np.ndarray) -> np.ndarray:
    """Class of each row of raw outputs: argmax, or ``score > 0`` for a single output."""
    if pred.shape[1] == 1:
        return (pred[:, 0] > 0).astype(np.intp)
    return cast(np.ndarray, pred.argmax(axis=1))


@METRICS.register("accuracy", "acc")
class Accuracy(Metric):
    """Fraction of samples whose predicted class is the target class.

    Raw scores are read as a classifier's: argmax over K > 1 outputs, ``score > 0``
    (probability > 0.5) for one output. With ``multilabel=True`` every output is its
    own yes/no label and the fraction is over all N·K of them.
    """

    name = "accuracy"

    def __init__(self, multilabel: bool = False) -> None:
        self.multilabel = multilabel
        super().__init__()

    def reset(self) -> None:
        self.correct = 0
        self.count = 0

    def update(self, pred: np.ndarray, target: np.ndarray) -> None:
        if self.multilabel:
            self.correct += int(np.count_nonzero((pred > 0) == (target > 0.5)))
            self.count += pred.size
            return
        if target.ndim == 2:
            target = target[:, 0] > 0.5 if target.shape[1] == 1 else target.argmax(axis=1)
        self.correct += int(np.count_nonzero(predicted_classes(pred) == target))
        self.count += pred.shape[0]

    def result(self) -> float:
        return self.correct / self.count if self.count else math.nan


class _Residuals(Metric):
    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def _add(self, values: np.ndarray) -> None:
        self.total += float(values.sum())
        self.count += values.size


@METRICS.register("rmse")
class RootMeanSquaredError(_Residuals):
    """√(mean of (pred - y)²) over every element; in the target's units."""

    name = "rmse"

    def update(self, pred: np.ndarray, target: np.ndarray) -> None:
        self._add(np.square(pred - target.reshape(pred.shape)))

    def result(self) -> float:
        return math.sqrt(self.total / self.count) if self.count else math.nan


@METRICS.register("mae")
class MeanAbsoluteError(_Residuals):
    """Mean of ``|pred - y|`` over every element; in the target's units."""

    name = "mae"

    def update(self, pred: np.ndarray, target: np.ndarray) -> None:
        self._add(np.abs(pred - target.reshape(pred.shape)))

    def result(self) -> float:
        return self.total / self.count if self.count else math.nan


@METRICS.register("r2", "r_squared")
class R2Score(Metric):
    """Coefficient of determination, 1 - SS_res / SS_tot, averaged over outputs.

    1 is a perfect fit, 0 is as good as predicting the mean, negative is worse (as
    scikit-learn's ``r2_score`` with ``multioutput="uniform_average"``). The target's
    variance is accumulated with Chan et al.'s pairwise update, so streaming in batches
    gives the same value as one pass.
    """

    name = "r2"

    def reset(self) -> None:
        self.count = 0
        self.mean: np.ndarray | float = 0.0
        self.m2: np.ndarray | float = 0.0  # Σ (y - mean)²
        self.ss_res: np.ndarray | float = 0.0

    def update(self, pred: np.ndarray, target: np.ndarray) -> None:
        # numpy's stubs read a shape of unknown length as () here; the result has pred's.
        y: np.ndarray = target.reshape(pred.shape).astype(np.float64)
        n_b = y.shape[0]
        mean_b = y.mean(axis=0)
        m2_b = np.square(y - mean_b).sum(axis=0)
        delta = mean_b - self.mean
        total = self.count + n_b
        self.mean = self.mean + delta * (n_b / total)
        self.m2 = self.m2 + m2_b + np.square(delta) * (self.count * n_b / total)
        self.ss_res = self.ss_res + np.square(pred - y).sum(axis=0)
        self.count = total

    def result(self) -> float:
        if self.count < 2:
            return math.nan
        m2 = np.asarray(self.m2, dtype=np.float64)
        ss_res = np.asarray(self.ss_res, dtype=np.float64)
        # A constant target: 1 if predicted exactly, else 0 (scikit-learn's convention).
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.where(m2 > 0, 1 - ss_res / np.where(m2 > 0, m2, 1), 0.0)
        scores = np.where((m2 == 0) & (ss_res == 0), 1.0, scores)
        return float(scores.mean())


@METRICS.register("macro_f1", "f1_macro")
class MacroF1(Metric):
    """The mean over classes of F1 = 2 TP / (2 TP + FP + FN).

    The mean is over the classes present in the targets or the predictions, as
    scikit-learn's ``f1_score(average="macro")``. Raw scores are read as for
    :class:`Accuracy` (argmax, or ``score > 0`` for one output); targets are labels
    (N,) or one-hot rows (N, K). The counts are kept per class, so streaming in batches
    gives the one-pass value.
    """

    name = "macro_f1"

    def reset(self) -> None:
        self.counts: dict[int, np.ndarray] = {}  # class → [TP, FP, FN]

    def update(self, pred: np.ndarray, target: np.ndarray) -> None:
        if target.ndim == 2:
            target = target[:, 0] > 0.5 if target.shape[1] == 1 else target.argmax(axis=1)
        self.update_labels(np.asarray(target).astype(np.intp), predicted_classes(pred))

    def update_labels(self, y: np.ndarray, pred: np.ndarray) -> None:
        """Count class labels ``y`` (N,) against predicted labels ``pred`` (N,)."""
        for k in np.union1d(y, pred).tolist():
            counts = self.counts.setdefault(k, np.zeros(3, dtype=np.int64))
            counts[0] += np.sum((pred == k) & (y == k))
            counts[1] += np.sum((pred == k) & (y != k))
            counts[2] += np.sum((pred != k) & (y == k))

    def result(self) -> float:
        if not self.counts:
            return math.nan
        scores = [2 * tp / (2 * tp + fp + fn) for tp, fp, fn in self.counts.values()]
        return float(np.mean(scores))


# -- in one pass, on labels or values --------------------------------------------------


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    """Macro-F1 of class labels ``pred`` against ``y`` (both (N,)); see :class:`MacroF1`.

    Example:
        >>> macro_f1(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
        0.7333333333333334
    """
    _checked_pair(y, pred)
    metric = MacroF1()
    metric.update_labels(np.asarray(y), np.asarray(pred))
    return metric.result()


def rmse(y: np.ndarray, pred: np.ndarray) -> float:
    """√(mean of (pred - y)²) of values (N,); in the target's units.

    Example:
        >>> rmse(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
        1.4142135623730951
    """
    y, pred = _checked_pair(y, pred)
    residual = float(np.sum((y - pred) ** 2))
    return math.sqrt(residual / len(y))


def r2(y: np.ndarray, pred: np.ndarray) -> float | None:
    """1 - SS_res / SS_tot of values (N,), or ``None`` when ``y`` is constant.

    Unlike :class:`R2Score` (scikit-learn's convention of 1 or 0 for a constant target),
    an undefined R² is ``None``, for a report to say so.

    Example:
        >>> r2(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
        0.5
        >>> r2(np.array([2.0, 2.0]), np.array([2.0, 2.0])) is None
        True
    """
    y, pred = _checked_pair(y, pred)
    residual = float(np.sum((y - pred) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    return 1 - residual / total if total > 0 else None


def _checked_pair(y: Any, pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """``y`` and ``pred`` as float64 arrays of one shape, finite, not empty."""
    y = as_float_array(y, "y", np.dtype(np.float64), ndim=(1, 2), finite=True)
    pred = as_float_array(pred, "pred", np.dtype(np.float64), ndim=(1, 2), finite=True)
    if y.shape != pred.shape:
        raise ShapeError(f"y and pred must have one shape, got {y.shape} and {pred.shape}")
    return y, pred


def get(metric: str | Metric, **kwargs: Any) -> Metric:
    """A fresh metric from a name (``"accuracy"``, ``"rmse"``, ``"mae"``, ``"r2"``,
    ``"macro_f1"``)."""
    return METRICS.create(metric, Metric, **kwargs)


def names() -> list[str]:
    return METRICS.names()

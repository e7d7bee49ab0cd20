"""``MLPClassifier``: softmax outputs for K > 2 classes, one logistic output for two, one
logistic output per label for a multi-label indicator matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ..base import stable
from ..base.errors import ConfigError, DataError
from ..training.losses import BinaryCrossEntropy, Loss, SoftmaxCrossEntropy
from . import _data
from ._base import BaseMLP


def _stochastic(est: Any) -> bool:
    if est.solver == "lbfgs":
        raise AttributeError(
            "partial_fit needs a mini-batch solver ('sgd', 'adam'…), not solver='lbfgs'"
        )
    return True


def _labels(values: Any) -> list[Any]:
    """Labels as plain Python values, for messages (strings stay strings)."""
    return np.asarray(values).tolist()


class MLPClassifier(ClassifierMixin, BaseMLP):
    """A multi-layer perceptron classifier, scikit-learn's ``MLPClassifier`` on shenjing.

    Hidden layers are ``Linear`` + ``activation`` (or ``Maxout`` layers for
    ``activation="maxout"``); the output layer gives K scores for K > 2 classes (softmax
    cross-entropy), one for two classes, or one per label for a multi-label indicator
    ``y`` (binary cross-entropy per label, summed over the labels as scikit-learn does).

    Every parameter of scikit-learn's (same names, order, defaults and meaning; see
    :mod:`shenjing.sklearn`), plus:

    Args:
        activation: also any shenjing activation (``"leaky_relu"``, ``"gelu"``, ``"elu"``…,
            :func:`shenjing.activations.names`) or ``"maxout"``.
        solver: ``"adam"``, ``"sgd"``, ``"lbfgs"``, or another shenjing optimizer name
            (``"rmsprop"``, ``"adagrad"``, with its own defaults and ``learning_rate_init``).
        maxout_pieces: affine pieces per unit for ``activation="maxout"`` (≥ 2).
        dtype: None (the input's float dtype: float32 stays float32), ``"float32"`` or
            ``"float64"``.

    Fitted attributes: ``classes_`` (the labels as given, sorted), ``n_features_in_``,
    ``feature_names_in_``, ``n_outputs_``, ``n_layers_``, ``out_activation_``
    (``"softmax"`` or ``"logistic"``), ``coefs_`` and ``intercepts_`` (views of the
    network's weights), ``n_iter_``, ``t_``, ``loss_``, and for mini-batch solvers
    ``loss_curve_``, ``best_loss_``, ``validation_scores_``, ``best_validation_score_``;
    ``net_``, the trained :class:`shenjing.Sequential`.
    """

    loss = "log_loss"  # scikit-learn's name for what is minimised (not a parameter)

    @available_if(_stochastic)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> MLPClassifier:
        """One epoch on ``(X, y)``; the first call needs every label in ``classes``."""
        if not hasattr(self, "net_") and classes is None:
            if not type_of_target(y).startswith("multilabel"):
                raise ConfigError("the first call to partial_fit needs classes=[every label]")
        self._fit(X, y, sample_weight, incremental=True, classes=classes)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The predicted class of each row, (N,) of ``classes_`` ((N, L) of 0/1 for
        multi-label)."""
        z = self._outputs(self._input(X))
        if self._multilabel:
            return (z > 0).astype(int)
        return self._to_labels(z)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities, (N, K) in ``classes_`` order ((N, L) per label for multi-label)."""
        z = self._outputs(self._input(X))
        if self._multilabel:
            return stable.sigmoid(z, out=np.empty_like(z))
        if z.shape[1] == 1:
            p = stable.sigmoid(z, out=np.empty_like(z))
            return np.hstack([1 - p, p])
        return stable.softmax(z)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log of :meth:`predict_proba` (-inf where a probability rounds to 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    # -- BaseMLP --------------------------------------------------------------------------
    def _to_labels(self, z: np.ndarray) -> np.ndarray:
        if z.shape[1] == 1:
            return self.classes_[(z[:, 0] > 0).astype(np.intp)]
        return self.classes_[z.argmax(axis=1)]

    def _targets(self, y: np.ndarray, first: bool, classes: Any, dtype: np.dtype) -> np.ndarray:
        multilabel = type_of_target(y).startswith("multilabel")
        if not multilabel:
            check_classification_targets(y)
        if first:
            self._multilabel = multilabel
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
            else:
                labels = np.unique(y if classes is None else np.asarray(classes))
                if len(labels) < 2:
                    raise DataError(
                        f"y has only one class ({_labels(labels)[0]!r}); a classifier "
                        "needs at least two"
                    )
                self.classes_ = labels
            k = len(self.classes_)
            self.n_outputs_ = k if multilabel or k > 2 else 1
            self.out_activation_ = (
                "softmax" if self.n_outputs_ > 1 and not multilabel else "logistic"
            )
        elif multilabel != self._multilabel or (multilabel and y.shape[1] != self.n_outputs_):
            raise DataError(
                f"y is {'an indicator matrix' if multilabel else 'labels'} of "
                f"{y.shape[1] if multilabel else 1} column(s), but this classifier was fit "
                f"on {'an indicator matrix' if self._multilabel else 'labels'} "
                f"({self.n_outputs_} output(s))"
            )
        if multilabel:
            return np.asarray(y, dtype)
        self._check_labels(y, classes, first)
        index = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:  # one logit, binary cross-entropy, as scikit-learn
            return index.astype(dtype).reshape(-1, 1)
        return index

    def _check_labels(self, y: np.ndarray, classes: Any, first: bool) -> None:
        if not first and classes is not None:
            if not np.array_equal(np.unique(classes), self.classes_):
                raise DataError(
                    f"classes={_labels(np.unique(classes))} differs from the classes of the "
                    f"first partial_fit call, {_labels(self.classes_)}"
                )
        if not first and self.warm_start and classes is None:
            if not np.array_equal(np.unique(y), self.classes_):
                raise DataError(
                    f"warm_start needs y to hold the classes of the previous fit, "
                    f"{_labels(self.classes_)}; y has {_labels(np.unique(y))}"
                )
        unseen = np.setdiff1d(y, self.classes_)
        if len(unseen):
            raise DataError(
                f"y holds labels not in classes_ {_labels(self.classes_)}: {_labels(unseen)}"
            )

    def _loss(self) -> Loss:
        if self._multilabel:  # scikit-learn sums the L labels' log losses
            return _data.scaled(BinaryCrossEntropy(), self.n_outputs_)
        return BinaryCrossEntropy() if self.n_outputs_ == 1 else SoftmaxCrossEntropy()

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        return None if self._multilabel else y

    def _val_score(self, X: Any, y: np.ndarray, sw: np.ndarray | None) -> float:
        z = self._outputs(X)
        if not np.isfinite(z).all():
            return float("nan")
        pred = (z > 0).astype(int) if self._multilabel else self._to_labels(z)
        return float(accuracy_score(y, pred, sample_weight=sw))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

"""scikit-learn estimators built on shenjing: ``MLPClassifier`` and ``MLPRegressor``.

The names match scikit-learn's own multi-layer perceptrons on purpose, and so do the
parameters whose meaning matches (``hidden_layer_sizes``, ``alpha``, ``batch_size``,
``learning_rate_init``, ``max_iter``, ``tol``, ``early_stopping``…), so that
``from shenjing.sklearn import MLPClassifier`` drops into existing code. What they add:
every shenjing activation (leaky ReLU, ELU, softplus, GELU…) and ``"maxout"``, and every
shenjing optimizer as ``solver``. Underneath is a plain :class:`shenjing.Sequential`,
kept as ``net_``, trained by :func:`shenjing.fit`; ``sj.save(est.net_, path)`` and
``sj.export_onnx(est.net_, path)`` work on it.

This module is the only one that imports scikit-learn (``pip install 'shenjing[sklearn]'``).

Training, as in scikit-learn (stochastic solvers):

* an epoch is one pass over the (shuffled) rows in mini-batches of ``batch_size``
  (``"auto"``: min(200, N));
* ``alpha`` is an L2 penalty on the weight matrices (not the biases):
  ``alpha/(2·B)·Σ‖W‖²`` per batch of B rows, i.e. ``alpha/B · W`` added to each weight
  gradient;
* training stops when the epoch's loss (or, with ``early_stopping``, the validation
  score) has not improved by at least ``tol`` for more than ``n_iter_no_change``
  epochs in a row; reaching ``max_iter`` first raises a ``ConvergenceWarning``;
* ``partial_fit`` runs exactly one epoch and never stops early.

Example:
    >>> from shenjing.sklearn import MLPClassifier
    >>> X, y = sj.datasets.spiral(points_per_class=50, classes=3, seed=0)
    >>> clf = MLPClassifier((32,), activation="leaky_relu", learning_rate_init=0.02,
    ...                     tol=1e-3, max_iter=1000, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .base.checks import as_dtype, number, positive_int
from .base.errors import ConfigError, DataError
from .network.builder import mlp
from .network.sequential import Sequential
from .nn import activations as activations_mod
from .nn.initializers import as_generator
from .training import optim as optim_mod
from .training.optim import Optimizer

#: Rows per mini-batch for ``batch_size="auto"`` (scikit-learn's rule: min(200, N)).
AUTO_BATCH = 200


class _WeightPenalty(Optimizer):
    """Adds ``coef · W`` to every weight gradient (biases excluded), then steps ``inner``.

    The optimizers' own ``weight_decay`` would decay the biases too; scikit-learn's
    ``alpha`` penalises weights only, and this keeps that meaning.
    """

    def __init__(self, inner: Optimizer, coef: float) -> None:
        # The base __init__ would validate an lr of its own: this wraps one instead.
        self.inner, self.coef = inner, coef
        self.lr, self.weight_decay, self.state = inner.lr, 0.0, inner.state
        self._scratch: dict[str, np.ndarray] = {}

    def prepare(self, params: list[Any]) -> list[Any]:
        return self.inner.prepare(params)

    def apply(self, prepared: list[Any]) -> None:
        if self.coef:
            for p, _ in prepared:
                if p.name.endswith(".W"):
                    buf = self._scratch.get(p.name)
                    if buf is None or buf.shape != p.value.shape or buf.dtype != p.value.dtype:
                        buf = self._scratch[p.name] = np.empty_like(p.value)
                    np.multiply(p.value, self.coef, out=buf)
                    # In place: the layer recomputes its gradient every step anyway.
                    np.add(p.grad, buf, out=p.grad)
        self.inner.apply(prepared)

    def penalty(self, model: Any) -> float:
        """The penalty's value, coef/2 · Σ‖W‖², for the loss curve."""
        total = sum(
            float(np.vdot(p.value, p.value)) for p in model.parameters() if p.name.endswith(".W")
        )
        return 0.5 * self.coef * total

    def __repr__(self) -> str:
        return f"_WeightPenalty({self.inner!r}, coef={self.coef!r})"


class _Monitor:
    """The fit callback: records each epoch and applies scikit-learn's stopping rule."""

    def __init__(self, est: _BaseMLP, val: tuple[np.ndarray, np.ndarray] | None, stop: bool):
        self.est, self.val, self.stop = est, val, stop

    def on_epoch_end(self, state: Any) -> None:
        est = self.est
        loss = state.logs["loss"] + est._optimizer.penalty(state.net)
        est.n_iter_ += 1
        est.loss_curve_.append(loss)
        est.loss_ = loss
        if self.val is not None:
            score = est._net_score(*self.val)
            # With a validation split, fit starts both: a list and a float.
            cast("list[float]", est.validation_scores_).append(score)
            best = cast(float, est.best_validation_score_)
            improved = score >= best + est.tol
            if score > best:
                est.best_validation_score_ = score
                est._best_params = [p.value.copy() for p in state.net.parameters()]
        else:
            best_loss = cast(float, est.best_loss_)  # None only after a validated fit
            improved = loss <= best_loss - est.tol
            est.best_loss_ = min(best_loss, loss)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        if self.stop and est._no_improvement_count > est.n_iter_no_change:
            est._converged = True
            state.stop = True


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, network, training."""

    # What a fit records (reset by _start_run); validation_* only with early stopping,
    # best_loss_ None after a fit that kept its best validation epoch.
    loss_curve_: list[float]
    best_loss_: float | None
    validation_scores_: list[float] | None
    best_validation_score_: float | None
    _best_params: list[np.ndarray] | None

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        maxout_pieces: int = 2,
        dtype: str = "float64",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.maxout_pieces = maxout_pieces
        self.dtype = dtype

    # -- scikit-learn protocol ----------------------------------------------------------
    def fit(self, X: Any, y: Any) -> _BaseMLP:
        """Train a new network on ``X`` (N, D) and ``y``; returns ``self``."""
        return self._fit(X, y, incremental=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    # -- subclasses ---------------------------------------------------------------------
    _loss_name = ""

    def _targets(self, y: np.ndarray, first: bool, classes: Any) -> tuple[np.ndarray, int]:
        """The training targets for shenjing's loss, and the number of outputs."""
        raise NotImplementedError

    def _net_score(self, X: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def _split(self, X: np.ndarray, t: np.ndarray, rng: np.random.Generator):
        return train_test_split(
            X, t, test_size=self.validation_fraction, random_state=_seed_of(rng)
        )

    # -- training -----------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, incremental: bool, classes: Any = None) -> _BaseMLP:
        if incremental and self.early_stopping:
            # One epoch per call leaves nothing to stop early; scikit-learn refuses too.
            raise ConfigError(
                "partial_fit does not support early_stopping=True; set early_stopping=False"
            )
        first = not incremental or not hasattr(self, "net_")
        dtype = as_dtype(self.dtype, "dtype")
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            dtype=dtype,
            multi_output=isinstance(self, RegressorMixin),
            y_numeric=isinstance(self, RegressorMixin),
        )
        hidden, batch_size = self._check_params()
        target, n_out = self._targets(y, first, classes)
        if first:
            self._rng = _generator(self.random_state)
            self.net_ = self._build(X.shape[1], hidden, n_out, dtype, self._rng)
            self._start_run()
        batch = min(X.shape[0], AUTO_BATCH if batch_size == "auto" else batch_size)
        self._optimizer.coef = self.alpha / batch

        val = None
        if self.early_stopping and not incremental:
            X, X_val, target, t_val = self._split(X, target, self._rng)
            val = (X_val, t_val)
            self.validation_scores_, self.best_validation_score_ = [], -math.inf
            self._best_params = None
        self._converged = False
        self.net_.fit(
            X,
            target,
            loss=self._loss_name,
            optimizer=self._optimizer,
            epochs=1 if incremental else self.max_iter,
            batch_size=batch,
            shuffle=self.shuffle,
            seed=self._rng,
            callbacks=[_Monitor(self, val, stop=not incremental)],
        )
        if val is not None:  # keep the best epoch's weights; the loss is not the criterion
            self.best_loss_ = None
            if self._best_params is not None:
                for p, best in zip(self.net_.parameters(), self._best_params, strict=True):
                    p.value[...] = best
        if not incremental and not self._converged:
            warnings.warn(
                f"{type(self).__name__}: max_iter={self.max_iter} epochs reached and the "
                "optimization hasn't converged yet (the loss still improves by more than "
                f"tol={self.tol}); raise max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _start_run(self) -> None:
        """Reset what one fit records (a fresh optimizer: its state belongs to a run)."""
        inner = optim_mod.get(self.solver, lr=self.learning_rate_init)
        self._optimizer = _WeightPenalty(inner, 0.0)
        self.n_iter_ = 0
        self.loss_curve_ = []
        self.best_loss_ = math.inf
        self._no_improvement_count = 0
        self.validation_scores_ = None
        self.best_validation_score_ = None

    def _check_params(self) -> tuple[list[int], int | str]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
            sizes = [sizes]
        if not isinstance(sizes, (list, tuple, np.ndarray)):
            raise ConfigError(
                f"hidden_layer_sizes must be an int or a sequence of ints, got {sizes!r}"
            )
        hidden = [positive_int(s, f"hidden_layer_sizes[{i}]") for i, s in enumerate(sizes)]
        name = self.activation
        if not (isinstance(name, str) and name.lower() == "maxout") and (
            name not in activations_mod.ACTIVATIONS
        ):
            valid = ", ".join([*activations_mod.names(), "maxout"])
            raise ConfigError(f"Unknown activation {name!r}; valid names: {valid}")
        optim_mod.get(self.solver, lr=self.learning_rate_init)  # names the valid solvers
        number(self.alpha, "alpha", low=0.0)
        if self.batch_size != "auto":
            positive_int(self.batch_size, "batch_size ('auto' or)")
        positive_int(self.max_iter, "max_iter")
        positive_int(self.n_iter_no_change, "n_iter_no_change")
        number(self.tol, "tol", low=0.0)
        number(
            self.validation_fraction,
            "validation_fraction",
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
        )
        for flag in ("shuffle", "early_stopping"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise ConfigError(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        if positive_int(self.maxout_pieces, "maxout_pieces") < 2:
            raise ConfigError(f"maxout_pieces must be at least 2, got {self.maxout_pieces!r}")
        return hidden, self.batch_size

    def _build(
        self, d: int, hidden: list[int], n_out: int, dtype: np.dtype, rng: np.random.Generator
    ) -> Sequential:
        """D → hidden… → outputs (:func:`shenjing.mlp`); maxout layers replace Linear +
        activation pairs."""
        return mlp(
            d,
            hidden,
            n_out,
            activation=self.activation,
            dtype=dtype,
            seed=rng,
            pieces=self.maxout_pieces,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        # Unpickled from a read-only memory map (as joblib does), the arrays cannot be
        # written: give the network and the optimizer writable copies, and let the
        # layers allocate fresh work buffers.
        if hasattr(self, "net_"):
            for layer in self.net_.layers:
                layer.clear_buffers()
                for table in (layer.params, layer.grads):
                    for key, value in table.items():
                        if not value.flags.writeable:
                            table[key] = np.array(value)
            for slot in self._optimizer.state.values():
                for key, value in slot.items():
                    if isinstance(value, np.ndarray) and not value.flags.writeable:
                        slot[key] = np.array(value)
            if isinstance(self._optimizer, _WeightPenalty):
                self._optimizer._scratch.clear()  # work buffers, reallocated on use

    def _input(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=self.net_.compute_dtype)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier: softmax (or, for two classes, logistic) outputs.

    Hidden layers are ``Linear`` + ``activation`` (or ``Maxout`` layers for
    ``activation="maxout"``), the output a ``Linear`` layer of K scores (one for two
    classes), trained with softmax (binary) cross-entropy.

    Args:
        hidden_layer_sizes: units of each hidden layer, e.g. ``(100,)`` or ``(64, 64)``.
        activation: any name of :func:`shenjing.activations.names` (``"relu"``,
            ``"leaky_relu"``, ``"tanh"``, ``"logistic"``, ``"gelu"``…) or ``"maxout"``.
        solver: a shenjing optimizer name: ``"adam"``, ``"sgd"``, ``"rmsprop"``,
            ``"adagrad"``. (scikit-learn's ``"lbfgs"`` is not offered.)
        alpha: L2 penalty on the weights (not the biases), as in scikit-learn.
        batch_size: rows per mini-batch, or ``"auto"`` = min(200, N).
        learning_rate_init: the optimizer's ``lr``.
        max_iter: most epochs for ``fit``.
        shuffle: reshuffle the rows every epoch.
        random_state: None, an int, a ``np.random.RandomState`` or ``Generator``: the
            weights, the shuffles and the early-stopping split.
        tol, n_iter_no_change: stop when the loss (or validation score) has not improved
            by ``tol`` for more than ``n_iter_no_change`` consecutive epochs.
        early_stopping: hold out ``validation_fraction`` of the rows (stratified), stop
            on their accuracy and keep the best epoch's weights.
        validation_fraction: in (0, 1).
        maxout_pieces: affine pieces per unit for ``activation="maxout"`` (≥ 2).
        dtype: ``"float64"`` (default) or ``"float32"``, the network's dtype.

    Attributes:
        ``classes_``, ``n_features_in_``, ``feature_names_in_`` (for DataFrames),
        ``n_outputs_``, ``net_`` (the trained :class:`shenjing.Sequential`), ``n_iter_``
        (epochs run), ``loss_curve_`` (training loss + penalty per epoch), ``loss_``,
        ``best_loss_``, ``validation_scores_`` and ``best_validation_score_`` (with
        ``early_stopping``, else None).
    """

    _loss_name = "softmax_cross_entropy"

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch on ``(X, y)``; the first call needs every label in ``classes``."""
        if not hasattr(self, "net_") and classes is None:
            raise ConfigError("the first call to partial_fit needs classes=[every label]")
        return self._fit(X, y, incremental=True, classes=classes)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row. Shape: (N, D) → (N,) of ``classes_``."""
        X = self._input(X)
        return self.classes_[self.net_.predict_classes(X)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities. Shape: (N, D) → (N, K), columns in ``classes_`` order."""
        X = self._input(X)
        return self.net_.predict_proba(X)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _targets(self, y, first, classes):
        check_classification_targets(y)
        if first:
            labels = np.unique(y if classes is None else np.asarray(classes))
            if len(labels) < 2:
                raise DataError(
                    f"y has only one class ({labels[0]!r}); a classifier needs at least two"
                )
            self.classes_ = labels
            self._loss_name = (
                "binary_cross_entropy" if len(labels) == 2 else "softmax_cross_entropy"
            )
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise DataError(
                f"classes={np.unique(classes).tolist()} differs from the classes of the "
                f"first partial_fit call, {self.classes_.tolist()}"
            )
        if not np.isin(y, self.classes_).all():
            unseen = np.setdiff1d(y, self.classes_)
            raise DataError(
                f"y holds labels not in classes_ {self.classes_.tolist()}: {unseen.tolist()}"
            )
        index = np.searchsorted(self.classes_, y)
        k = len(self.classes_)
        self.n_outputs_ = 1 if k == 2 else k
        if k == 2:  # one logit, binary cross-entropy, as scikit-learn does
            return index.astype(as_dtype(self.dtype)), 1
        return index, k

    def _split(self, X, t, rng):
        return train_test_split(
            X, t, test_size=self.validation_fraction, random_state=_seed_of(rng), stratify=t
        )

    def _net_score(self, X, t):
        pred = self.net_.predict_classes(X)
        return float(np.mean(pred == t.astype(np.intp)))


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor: linear outputs, mean squared error.

    Takes the same arguments as :class:`MLPClassifier`; ``early_stopping`` scores the
    held-out rows with R² (not stratified). ``y`` may be (N,) or (N, M): ``predict``
    returns (N,) for a single target, (N, M) otherwise.

    Attributes:
        ``n_features_in_``, ``feature_names_in_`` (for DataFrames), ``n_outputs_``,
        ``net_``, ``n_iter_``, ``loss_curve_``, ``loss_``, ``best_loss_``,
        ``validation_scores_``, ``best_validation_score_``.
    """

    _loss_name = "mse"

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch on ``(X, y)``, continuing from the current weights."""
        return self._fit(X, y, incremental=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets. Shape: (N, D) → (N,) for one target, else (N, M)."""
        X = self._input(X)
        pred = self.net_.predict(X)
        return pred.ravel() if pred.shape[1] == 1 else pred

    def _targets(self, y, first, classes):
        y = np.asarray(y, dtype=as_dtype(self.dtype))
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        if first:
            self.n_outputs_ = y.shape[1]
        elif y.shape[1] != self.n_outputs_:
            raise DataError(
                f"y has {y.shape[1]} target column(s), but this regressor was fit on "
                f"{self.n_outputs_}"
            )
        return y, y.shape[1]

    def _net_score(self, X, t):
        return float(r2_score(t, self.net_.predict(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _generator(random_state: Any) -> np.random.Generator:
    """scikit-learn's ``random_state`` as the Generator shenjing takes.

    None draws fresh entropy (NumPy's global RNG is never touched); a RandomState
    instance gives a seed drawn from it, as scikit-learn's own estimators consume one.
    """
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    try:
        return as_generator(random_state, "random_state")
    except ConfigError:
        raise ConfigError(
            "random_state must be None, a non-negative int, a np.random.RandomState or a "
            f"np.random.Generator, got {random_state!r}"
        ) from None


def _seed_of(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


__all__ = ["MLPClassifier", "MLPRegressor"]

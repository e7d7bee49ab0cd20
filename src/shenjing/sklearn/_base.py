"""What the classifier and the regressor share: parameters, inputs, the network, fitting."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..base.errors import ConfigError, DataError, DivergenceError
from ..network.builder import mlp
from ..network.sequential import Sequential
from ..nn.linear import Linear
from ..training.losses import Loss
from ..training.weighting import check_sample_weight
from . import _data
from ._lbfgs import run_lbfgs
from ._params import AUTO_BATCH, Settings, check_params, generator, make_optimizer, seed_of
from ._stochastic import Trainer

#: Sparse formats taken as they are (CSC becomes CSR, once, for row access).
SPARSE = ["csr", "csc"]


class BaseMLP(BaseEstimator):
    """Parameters, ``fit``, the fitted attributes and the network behind both estimators.

    Subclasses give ``_targets`` (y → the loss's targets, setting ``n_outputs_`` and
    ``out_activation_``), ``_loss`` (the shenjing loss at scikit-learn's scale),
    ``_val_score`` and the ``_stratify`` rule of the early-stopping split.
    """

    _is_regressor = False

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        maxout_pieces: int = 2,
        dtype: Any = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.maxout_pieces = maxout_pieces
        self.dtype = dtype

    # -- scikit-learn protocol -----------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Train on ``X`` (N, D) and ``y``; ``sample_weight`` (N,) weighs each row's loss.

        A new network unless ``warm_start`` (then training goes on from ``net_``).
        Returns ``self``.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        return tags

    # -- the fitted network's parameters, as scikit-learn names them ---------------------
    def _dense_layers(self) -> list[Any]:
        check_is_fitted(self)
        return [layer for layer in self.net_.layers if "W" in layer.params]

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Each layer's weight matrix, (in, out): views of ``net_``'s, so always in sync."""
        return [layer.params["W"] for layer in self._dense_layers()]

    @coefs_.setter
    def coefs_(self, values: list[np.ndarray]) -> None:
        for layer, value in zip(self._dense_layers(), values, strict=True):
            layer.params["W"][...] = value

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Each layer's bias vector, (out,): views of ``net_``'s."""
        return [layer.params["b"] for layer in self._dense_layers()]

    @intercepts_.setter
    def intercepts_(self, values: list[np.ndarray]) -> None:
        for layer, value in zip(self._dense_layers(), values, strict=True):
            layer.params["b"][...] = value

    # -- subclasses ---------------------------------------------------------------------
    def _targets(self, y: np.ndarray, first: bool, classes: Any, dtype: np.dtype) -> np.ndarray:
        raise NotImplementedError

    def _loss(self) -> Loss:
        raise NotImplementedError

    def _val_score(self, X: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> float:
        raise NotImplementedError

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        return None

    # -- inputs -------------------------------------------------------------------------
    def _validate(self, X: Any, y: Any, reset: bool, settings: Settings) -> tuple[Any, Any]:
        dtype: Any = (np.float64, np.float32)
        if not reset:
            dtype = self.net_.compute_dtype
        elif settings.dtype is not None:
            dtype = settings.dtype
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=SPARSE,
            dtype=dtype,
            multi_output=True,
            y_numeric=self._is_regressor,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # a DataConversionWarning, as scikit-learn
        return _data.as_rows(X), y

    def _input(self, X: Any) -> Any:
        check_is_fitted(self)
        return validate_data(
            self, X, reset=False, accept_sparse=SPARSE, dtype=self.net_.compute_dtype
        )

    def _outputs(self, X: Any) -> np.ndarray:
        """The network's raw outputs for validated rows, (N, n_outputs_)."""
        return _data.map_rows(X, self.net_.predict)

    # -- training -----------------------------------------------------------------------
    def _fit(
        self, X: Any, y: Any, sample_weight: Any, incremental: bool, classes: Any = None
    ) -> Any:
        settings = check_params(self)
        if incremental and self.early_stopping:
            raise ConfigError(
                "partial_fit does not support early_stopping=True; set early_stopping=False"
            )
        first = not hasattr(self, "net_") or (not self.warm_start and not incremental)
        X, y = self._validate(X, y, first, settings)
        n = X.shape[0]
        sw = None if sample_weight is None else check_sample_weight(sample_weight, n)
        T = self._targets(y, first, classes, X.dtype)
        rng = generator(self.random_state)
        if first:
            self.net_ = self._build(X.shape[1], settings, X.dtype, rng)
            self.n_layers_ = len(settings.hidden) + 2
            self.n_iter_ = self.t_ = 0
            if self.solver != "lbfgs":
                self._start_records()
        if self.solver == "lbfgs":
            run_lbfgs(self, self._loss(), X, T, sw)
        else:
            self._fit_stochastic(X, y, T, sw, settings, incremental, first, rng)
        if not all(np.isfinite(p.value).all() for p in self.net_.parameters()):
            raise DivergenceError(
                f"{type(self).__name__}: training left inf or NaN in the network's weights; "
                "scale the inputs (e.g. StandardScaler) or lower learning_rate_init"
            )
        return self

    def _start_records(self) -> None:
        """What a stochastic run records, fresh (validation_* only with early stopping)."""
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _fit_stochastic(
        self,
        X: Any,
        y: np.ndarray,
        T: np.ndarray,
        sw: np.ndarray | None,
        settings: Settings,
        incremental: bool,
        first: bool,
        rng: np.random.Generator,
    ) -> None:
        if first or not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = make_optimizer(self)  # a fit starts a new optimizer state
        if not first and not hasattr(self, "loss_curve_"):
            self._start_records()  # warm start after an lbfgs fit
        if self.early_stopping and not self.validation_fraction:
            raise ConfigError("early_stopping=True needs validation_fraction > 0")
        score = None
        if self.early_stopping:
            self.validation_scores_ = self.validation_scores_ or []
            parts = train_test_split(
                X,
                T,
                y,
                *([] if sw is None else [sw]),
                test_size=self.validation_fraction,
                random_state=seed_of(rng),
                stratify=self._stratify(y),
            )
            X, X_val, T, _, _, y_val = parts[:6]
            sw, sw_val = (None, None) if sw is None else (parts[6], parts[7])
            if X_val.shape[0] < 2:
                raise DataError(
                    f"early_stopping: validation_fraction={self.validation_fraction} of "
                    f"{X.shape[0] + X_val.shape[0]} rows leaves {X_val.shape[0]} row(s) to "
                    "validate on; it needs at least 2: raise validation_fraction or give "
                    "more rows"
                )

            def score() -> float:
                return self._val_score(X_val, y_val, sw_val)

        n = X.shape[0]
        if settings.batch_size is None:
            batch = min(AUTO_BATCH, n)
        else:
            if settings.batch_size > n:
                warnings.warn(
                    f"batch_size={settings.batch_size} is larger than the {n} training "
                    f"rows; each step takes all {n}",
                    UserWarning,
                    stacklevel=4,
                )
            batch = min(settings.batch_size, n)
        trainer = Trainer(
            self,
            self._loss(),
            self._optimizer,
            batch,
            settings.n_iter_no_change,
            incremental,
            score,
        )
        self.n_iter_ = 0
        trainer.run(X, T, sw, rng)

    def _build(
        self, d: int, settings: Settings, dtype: np.dtype, rng: np.random.Generator
    ) -> Sequential:
        """D → hidden… → outputs (:func:`shenjing.mlp`); maxout layers replace Linear +
        activation pairs.

        Initialised as scikit-learn initialises its MLPs: every weight and bias of a
        layer from U(-a, a), a = √(f / (fan_in + fan_out)), f = 2 for ``"logistic"``
        hidden units and 6 otherwise (Glorot's uniform, which shenjing's ``"xavier"``
        is for f = 6; shenjing's own default starts the biases at 0).
        """
        factor = 2.0 if self.activation == "logistic" else 6.0
        net = mlp(
            d,
            settings.hidden,
            self.n_outputs_,
            activation=self.activation,
            dtype=dtype,
            seed=rng,
            pieces=self.maxout_pieces,
        )
        for layer in net.layers:
            # Drawn again here rather than through init=, so that the layers keep a
            # named initialiser (what sj.save stores); maxout layers keep their own.
            if isinstance(layer, Linear):
                W, b = layer.params["W"], layer.params["b"]
                bound = np.sqrt(factor / (W.shape[0] + W.shape[1]))
                W[...] = rng.uniform(-bound, bound, W.shape)
                b[...] = rng.uniform(-bound, bound, b.shape)
        return net

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
        if hasattr(self, "_optimizer"):
            for slot in self._optimizer.state.values():
                for key, value in slot.items():
                    if isinstance(value, np.ndarray) and not value.flags.writeable:
                        slot[key] = np.array(value)

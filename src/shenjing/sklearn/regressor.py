"""``MLPRegressor``: linear outputs with half the squared error, or a log link with half
the Poisson deviance (``loss="poisson"``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from ..base.errors import ConfigError, DataError
from ..training.losses import Loss, MeanSquaredError, PoissonLoss
from . import _data
from ._base import BaseMLP

LOSSES = ("squared_error", "poisson")


class MLPRegressor(RegressorMixin, BaseMLP):
    """A multi-layer perceptron regressor, scikit-learn's ``MLPRegressor`` on shenjing.

    ``loss="squared_error"``: linear outputs, half the mean squared error (scikit-learn's
    scale). ``loss="poisson"``: the network's output z is log μ, predictions are e^z, and
    the loss is half the Poisson deviance (:class:`shenjing.PoissonLoss`, summed over the
    outputs), for non-negative targets such as counts. ``y`` may be (N,) or (N, M);
    ``predict`` returns (N,) for one target, (N, M) otherwise.

    Takes every parameter of :class:`MLPClassifier` after ``loss``, in scikit-learn's
    order. ``early_stopping`` scores the held-out rows with R² (not stratified).

    Fitted attributes: as :class:`MLPClassifier`'s, without ``classes_``;
    ``out_activation_`` is ``"identity"`` or ``"exp"``.
    """

    _is_regressor = True

    def __init__(
        self,
        loss: str = "squared_error",
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
        self.loss = loss
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            maxout_pieces=maxout_pieces,
            dtype=dtype,
        )

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch on ``(X, y)``, continuing from the current weights (with
        ``solver="lbfgs"``, as scikit-learn: a whole lbfgs run from them)."""
        self._fit(X, y, sample_weight, incremental=True)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets. Shape: (N, D) → (N,) for one target, else (N, M)."""
        pred = self._predict_validated(self._input(X))
        return pred.ravel() if pred.shape[1] == 1 else pred

    # -- BaseMLP --------------------------------------------------------------------------
    def _predict_validated(self, X: Any) -> np.ndarray:
        z = self._outputs(X)
        if self.out_activation_ == "exp":
            with np.errstate(over="ignore"):  # past the float range e^z is inf, honestly
                np.exp(z, out=z)
        return z

    def _targets(self, y: np.ndarray, first: bool, classes: Any, dtype: np.dtype) -> np.ndarray:
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        y = np.asarray(y, dtype=dtype)
        y = y.reshape(-1, 1) if y.ndim == 1 else y
        if first:
            self.n_outputs_ = y.shape[1]
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif y.shape[1] != self.n_outputs_:
            raise DataError(
                f"y has {y.shape[1]} target column(s), but this regressor was fit on "
                f"{self.n_outputs_}"
            )
        return y

    def _loss(self) -> Loss:
        if self.out_activation_ == "exp":  # scikit-learn sums the outputs' deviances
            return _data.scaled(PoissonLoss(), self.n_outputs_)
        return _data.ScaledLoss(MeanSquaredError(), 0.5)  # scikit-learn's half squares

    def _val_score(self, X: Any, y: np.ndarray, sw: np.ndarray | None) -> float:
        pred = self._predict_validated(X)
        if not np.isfinite(pred).all():
            return float("nan")
        return float(r2_score(y, pred, sample_weight=sw))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

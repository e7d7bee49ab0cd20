"""The mini-batch solvers (``"sgd"``, ``"adam"``, shenjing's others) as scikit-learn runs
them, on :func:`shenjing.fit`.

Per mini-batch of B rows with weights w (1 without ``sample_weight``), as scikit-learn:

* the data loss is the weighted mean Σ w_n ℓ_n / Σ w_n (``fit(sample_weight=...)``);
* ``alpha`` adds alpha / (2 Σ w) · Σ‖W‖² over the weight matrices (not the biases), so
  ``alpha / Σ w · W`` joins each weight gradient before the update;
* the epoch's loss, ``loss_``, is Σ_batches (batch loss + penalty) · B / N.

After each epoch (:meth:`Trainer.end_epoch`): ``t_ += N``; ``"invscaling"`` sets the rate
to ``learning_rate_init / (t_ + 1) ** power_t``; when the loss (or, with ``early_stopping``,
the validation score) has not improved by ``tol`` for more than ``n_iter_no_change``
epochs, ``"adaptive"`` divides the rate by 5 (stopping once it is ≤ 1e-6) and the other
schedules stop, converged.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..base.errors import DivergenceError
from ..training.losses import Loss
from ..training.optim import Optimizer
from . import _data

#: ``"adaptive"`` stops once the rate is at or below this, as scikit-learn does.
MIN_ADAPTIVE_RATE = 1e-6


class Trainer:
    """One ``fit``/``partial_fit`` call of a stochastic solver on an estimator."""

    def __init__(
        self,
        est: Any,
        loss: Loss,
        optimizer: Optimizer,
        batch: int,
        patience: float,
        incremental: bool,
        score: Callable[[], float] | None,
    ) -> None:
        self.est, self.loss, self.opt, self.batch = est, loss, optimizer, batch
        self.patience, self.incremental, self.score = patience, incremental, score
        self.weights = [p for p in est.net_.parameters() if p.name.endswith(".W")]
        self.scratch = [np.empty_like(p.value) for p in self.weights]
        self.alpha = float(est.alpha)
        self.total = 0.0  # Σ (batch loss + penalty) · B over the epoch so far
        self.converged = False
        self.best: list[np.ndarray] | None = None  # the best validation epoch's weights
        self.n_rows = 0

    # -- the loop's hooks ------------------------------------------------------------------
    def on_backward_end(self, state: Any) -> None:
        """The penalty of this batch: alpha / Σ w · W on each weight gradient, and its value."""
        rows = len(state.inputs)
        weight = rows if state.weights is None else float(state.weights.sum())
        penalty = 0.0
        if self.alpha and weight:
            coef = self.alpha / weight
            for p, buf in zip(self.weights, self.scratch, strict=True):
                penalty += float(np.vdot(p.value, p.value))
                # p.grad += coef · W, in place: the layer overwrites it next step anyway.
                np.multiply(p.value, coef, out=buf)
                np.add(p.grad, buf, out=p.grad)
            penalty *= 0.5 * coef
        self.total += (state.step_loss + penalty) * rows

    def on_epoch_end(self, state: Any) -> None:
        if self.end_epoch(state.net):
            state.stop = True

    # -- one epoch's bookkeeping -----------------------------------------------------------
    def end_epoch(self, net: Any) -> bool:
        """Record the epoch, apply the schedule; True when training should stop."""
        est = self.est
        n = self.n_rows
        est.n_iter_ += 1
        est.loss_ = self.total / n
        self.total = 0.0
        est.t_ += n
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        improved = self._improved(net)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        if est.solver == "sgd" and est.learning_rate == "invscaling":
            self.opt.lr = est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if est._no_improvement_count > self.patience:
            what = "Validation score" if self.score is not None else "Training loss"
            msg = f"{what} did not improve by tol={est.tol} for {self.patience} epochs."
            if est.solver == "sgd" and est.learning_rate == "adaptive":
                if self.opt.lr > MIN_ADAPTIVE_RATE:
                    self.opt.lr /= 5.0
                    est._no_improvement_count = 0
                    if est.verbose:
                        print(f"{msg} Learning rate now {self.opt.lr:g}.")
                    return self.incremental
                if est.verbose:
                    print(f"{msg} Learning rate too small; stopping.")
            elif est.verbose:
                print(f"{msg} Stopping.")
            self.converged = True
            return True
        return self.incremental

    def _improved(self, net: Any) -> bool:
        est = self.est
        if self.score is None:
            loss = est.loss_curve_[-1]
            improved: bool = loss <= est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, loss)
            return improved
        score = self.score()
        if not np.isfinite(score):
            raise DivergenceError(
                f"{type(est).__name__}: the validation score became {score} at epoch "
                f"{est.n_iter_}: the network's outputs overflowed. Try a smaller "
                f"learning_rate_init (now {est.learning_rate_init}), or scale the data."
            )
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:.6f}")
        improved = score >= est.best_validation_score_ + est.tol
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            self.best = [p.value.copy() for p in net.parameters()]
        return improved

    # -- running ---------------------------------------------------------------------------
    def run(self, X: Any, T: np.ndarray, sw: np.ndarray | None, rng: np.random.Generator) -> None:
        """Train on (X, T): the epochs of one ``fit`` (one epoch for ``partial_fit``)."""
        est, net = self.est, self.est.net_
        self.n_rows = n = X.shape[0]
        self.best = None
        epochs = 1 if self.incremental else est.max_iter
        # divergence=None: as scikit-learn, only an inf or NaN loss stops a run (a loss
        # that jumps, as sgd's may early on, is left to come back down).
        common = dict(loss=self.loss, optimizer=self.opt, batch_size=self.batch, divergence=None)
        if not _data.is_sparse(X):
            net.fit(
                X,
                T,
                epochs=epochs,
                shuffle=est.shuffle,
                seed=rng,
                sample_weight=sw,
                callbacks=[self],
                **common,
            )
        else:
            # A sparse X: one shuffled order per epoch, then consecutive runs of whole
            # mini-batches densified and trained in that order, as a dense fit would.
            X = _data.as_rows(X)
            span = self.batch * max(1, _data.CHUNK_ROWS // self.batch)
            steps = _StepsOnly(self)
            for _ in range(epochs):
                order = rng.permutation(n) if est.shuffle else np.arange(n)
                for part in _data.chunks(n, span):
                    rows = order[part]
                    net.fit(
                        _data.dense(X, rows),
                        T[rows],
                        epochs=1,
                        shuffle=False,
                        sample_weight=None if sw is None else sw[rows],
                        callbacks=[steps],
                        **common,
                    )
                if self.end_epoch(net):
                    break
        if self.score is not None and self.best is not None:
            # Keep the best validation epoch's weights, in place (coefs_ are views).
            for p, best in zip(net.parameters(), self.best, strict=True):
                p.value[...] = best
        if not self.incremental and not self.converged and est.n_iter_ == est.max_iter:
            warnings.warn(
                f"{type(est).__name__}: max_iter={est.max_iter} epochs reached and the "
                "optimization hasn't converged yet (the loss still improves by more than "
                f"tol={est.tol}); raise max_iter or tol.",
                ConvergenceWarning,
                stacklevel=4,
            )


class _StepsOnly:
    """The trainer's per-step hook alone, for the chunks of a sparse epoch."""

    def __init__(self, trainer: Trainer) -> None:
        self.on_backward_end = trainer.on_backward_end

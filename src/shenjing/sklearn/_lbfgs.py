"""``solver="lbfgs"``: the full-batch objective, minimised by ``scipy.optimize.minimize``
(method L-BFGS-B) as scikit-learn does.

The objective of the flat parameter vector θ (every parameter of ``net_``, in
``net_.parameters()`` order), with weights w (1 without ``sample_weight``):

    f(θ) = Σ_n w_n ℓ_n / Σ_n w_n  +  alpha / (2 Σ_n w_n) · Σ‖W‖²
    ∇f   = the network's gradients of the first term  +  alpha / Σ_n w_n · W

The network runs on all the rows at once (a dense X) or a chunk at a time (a sparse X,
densified a chunk at a time, the gradients summed with each chunk's share of Σ w).
SciPy works in float64; a float32 network gets θ rounded to float32.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import ThreadpoolController

from ..base.errors import DivergenceError
from ..training.losses import Loss
from ..training.weighting import WeightedLoss
from . import _data


class Objective:
    """f(θ) and ∇f(θ) for scipy, on a network, its data and its loss."""

    def __init__(
        self, net: Any, loss: Loss, X: Any, T: np.ndarray, sw: np.ndarray | None, alpha: float
    ) -> None:
        self.net, self.loss, self.T, self.alpha = net, loss, T, float(alpha)
        self.X = _data.as_rows(X)
        self.params = net.parameters()
        self.sizes = [p.value.size for p in self.params]
        self.is_weight = [p.name.endswith(".W") for p in self.params]
        n = self.X.shape[0]
        self.sw = sw
        self.total_weight = float(n if sw is None else sw.sum())
        if _data.is_sparse(self.X):
            self.parts = list(_data.chunks(n))
        else:
            self.parts = [slice(0, n)]
        self.weighted = WeightedLoss(loss)
        self.grad = np.zeros(sum(self.sizes))

    def theta(self) -> np.ndarray:
        return np.concatenate([p.value.ravel() for p in self.params]).astype(np.float64)

    def set(self, theta: np.ndarray) -> None:
        start = 0
        for p, size in zip(self.params, self.sizes, strict=True):
            p.value[...] = theta[start : start + size].reshape(p.value.shape)
            start += size

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        self.set(theta)
        value = 0.0
        grad = self.grad
        grad[...] = 0.0
        for part in self.parts:
            x = _data.dense(self.X, part)
            t, w = self.T[part], None if self.sw is None else self.sw[part]
            share = (len(t) if w is None else float(w.sum())) / self.total_weight
            if share == 0:
                continue
            with np.errstate(over="ignore", invalid="ignore"):
                pred = self.net.forward_unchecked(x)
                if w is None:
                    v = self.loss.forward_unchecked(pred, t)
                    dout = self.loss.backward()
                else:
                    v = self.weighted.forward(pred, t, w)
                    dout = self.weighted.backward()
                self.net.backward_unchecked(dout, need_dx=False)
            value += share * v
            start = 0
            for p, size in zip(self.params, self.sizes, strict=True):
                grad[start : start + size] += share * p.grad.ravel()
                start += size
        if self.alpha:
            coef = self.alpha / self.total_weight
            start = 0
            for size, is_w in zip(self.sizes, self.is_weight, strict=True):
                if is_w:
                    w_flat = theta[start : start + size]
                    value += 0.5 * coef * float(w_flat @ w_flat)
                    grad[start : start + size] += coef * w_flat
                start += size
        if not np.isfinite(value):
            # scipy would go on with a non-finite value and end with a NaN network.
            raise DivergenceError(
                f"lbfgs: the loss became {value}; the data's scale or alpha is too large "
                "for the network's outputs (scale the inputs, e.g. with StandardScaler)"
            )
        return value, grad.copy()


def run_lbfgs(est: Any, loss: Loss, X: Any, T: np.ndarray, sw: np.ndarray | None) -> None:
    """Minimise the objective from ``net_``'s weights; set ``n_iter_`` and ``loss_``."""
    objective = Objective(est.net_, loss, X, T, sw, est.alpha)
    callback = None
    if est.verbose:

        def callback(intermediate_result: Any) -> None:
            print(f"Iteration {intermediate_result.nit}, loss = {intermediate_result.fun:.8f}")

    with _scipy_blas_single_threaded():
        result = scipy.optimize.minimize(
            objective,
            objective.theta(),
            method="L-BFGS-B",
            jac=True,
            callback=callback,
            options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol},
        )
    objective.set(result.x)
    est.n_iter_ = min(int(result.nit), est.max_iter)
    est.loss_ = float(result.fun)
    if result.status != 0:
        warnings.warn(
            f"{type(est).__name__}: lbfgs stopped after {est.n_iter_} iteration(s) and "
            f"{result.nfev} loss evaluation(s) without converging ({result.message}); "
            f"raise max_iter (now {est.max_iter}) or max_fun (now {est.max_fun}), or "
            "scale the data.",
            ConvergenceWarning,
            stacklevel=4,
        )


def _scipy_blas_single_threaded() -> Any:
    """Run SciPy's own BLAS (where its wheels bundle one apart from NumPy's) on one thread.

    L-BFGS-B's update works on vectors of the parameters' length, too small for threads:
    on a busy 2-core machine its threads' hand-offs took 10x the whole fit (1.2 s
    against 0.09 s for a 4-16-3 network on iris, 100 iterations). NumPy's BLAS, which
    runs the network's products, keeps its threads.
    """
    controller = ThreadpoolController()
    own = [
        lib.filepath
        for lib in controller.lib_controllers
        if lib.user_api == "blas" and "scipy.libs" in lib.filepath
    ]
    return controller.select(filepath=own).limit(limits=1)

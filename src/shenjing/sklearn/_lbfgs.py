"""``solver="lbfgs"``: the full-batch objective, minimised by ``scipy.optimize.minimize``
(method L-BFGS-B) as scikit-learn does.

The objective of the flat parameter vector θ (every parameter of ``net_``, in
``net_.parameters()`` order), with weights w (1 without ``sample_weight``):

    f(θ) = Σ_n w_n ℓ_n / Σ_n w_n  +  alpha / (2 Σ_n w_n) · Σ‖W‖²
    ∇f   = the network's gradients of the first term  +  alpha / Σ_n w_n · W

The network runs on all the rows at once (a dense X) or a chunk at a time (a sparse X,
densified a chunk at a time, the gradients summed with each chunk's share of Σ w). On
all the rows at once, a network of Linear layers and elementwise activations runs
through :mod:`._stacked`'s passes in the transposed layout (the same sums, in another
order); any other runs its own layers' passes.
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
from ..nn.layer import unchecked_passes
from ..training.losses import Loss
from ..training.weighting import WeightedLoss
from . import _data, _stacked


class Objective:
    """f(θ) and ∇f(θ) for scipy, on a network, its data and its loss.

    For the run, every parameter and gradient of the network becomes a view of one flat
    array (in ``net_.parameters()`` order, the network's dtype), so θ goes in with one
    copy and ∇f comes out of one: the layers write their gradients there in place.
    """

    def __init__(
        self, net: Any, loss: Loss, X: Any, T: np.ndarray, sw: np.ndarray | None, alpha: float
    ) -> None:
        self.net, self.loss, self.T, self.alpha = net, loss, T, float(alpha)
        self.X = _data.as_rows(X)
        self.values, self.grads, weights = _flatten(net)
        # The weight matrices' slices of θ, for the penalty (the biases have none).
        self.weight_slices = weights
        n = self.X.shape[0]
        self.sw = sw
        self.total_weight = float(n if sw is None else sw.sum())
        self.parts = list(_data.chunks(n)) if _data.is_sparse(self.X) else [slice(0, n)]
        self.weighted = WeightedLoss(loss)
        passes = [unchecked_passes(layer) for layer in net.layers]
        first = net.first_trainable()
        self.forwards = [forward for forward, _ in passes]
        self.backwards = [(passes[i][1], i > first) for i in range(len(passes) - 1, first - 1, -1)]
        self.grad = np.zeros(self.values.size)
        # All rows of a dense X at once: the transposed layout's passes where they apply.
        self.stacked = (
            None
            if len(self.parts) > 1
            else _stacked.stack(net, _data.dense(self.X), self.values, self.grads)
        )

    def theta(self) -> np.ndarray:
        return self.values.astype(np.float64)

    def set(self, theta: np.ndarray) -> None:
        self.values[...] = theta  # rounded to a float32 network's dtype

    def _pass(self, x: np.ndarray | None, t: np.ndarray, w: np.ndarray | None) -> float:
        """The loss on rows ``x`` (all of X through :attr:`stacked` when ``None``), the
        network's gradients written in place."""
        stacked = self.stacked if x is None else None
        if stacked is not None:
            pred = stacked.forward()
        else:
            assert x is not None  # narrows the type for mypy
            pred = x
            for forward in self.forwards:
                pred = forward(pred)
        if w is None:
            value = self.loss.forward_unchecked(pred, t)
            dout = self.loss.backward()
        else:
            value = self.weighted.forward(pred, t, w)
            dout = self.weighted.backward()
        if stacked is not None:
            stacked.backward(dout)
        else:
            for backward, need_dx in self.backwards:
                dout = backward(dout, need_dx)
        return value

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        self.set(theta)
        grad = self.grad
        with np.errstate(over="ignore", invalid="ignore"):
            if len(self.parts) == 1:
                x = None if self.stacked is not None else _data.dense(self.X)
                value = self._pass(x, self.T, self.sw)
                grad[...] = self.grads
            else:
                value = 0.0
                grad[...] = 0.0
                for part in self.parts:
                    t, w = self.T[part], None if self.sw is None else self.sw[part]
                    share = (len(t) if w is None else float(w.sum())) / self.total_weight
                    if share:
                        value += share * self._pass(_data.dense(self.X, part), t, w)
                        grad += share * self.grads
        if self.alpha:
            coef = self.alpha / self.total_weight
            for piece in self.weight_slices:
                w_flat = theta[piece]
                value += 0.5 * coef * float(w_flat @ w_flat)
                grad[piece] += coef * w_flat
        if not np.isfinite(value):
            # scipy would go on with a non-finite value and end with a NaN network.
            raise DivergenceError(
                f"lbfgs: the loss became {value}; the data's scale or alpha is too large "
                "for the network's outputs (scale the inputs, e.g. with StandardScaler)"
            )
        return value, grad.copy()


def _flatten(net: Any) -> tuple[np.ndarray, np.ndarray, list[slice]]:
    """Make every parameter and gradient of ``net`` a view of one flat array each."""
    params = net.parameters()
    total = sum(p.value.size for p in params)
    dtype = params[0].value.dtype
    values, grads = np.empty(total, dtype), np.zeros(total, dtype)
    weights, start = [], 0
    for layer in net.layers:
        for key, value in list(layer.params.items()):
            piece = slice(start, start + value.size)
            view = values[piece].reshape(value.shape)
            view[...] = value
            layer.params[key] = view
            layer.grads[key] = grads[piece].reshape(value.shape)
            if key == "W":
                weights.append(piece)
            start += value.size
    return values, grads, weights


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
    global _SCIPY_BLAS
    if _SCIPY_BLAS is None:  # found once: inspecting the loaded libraries takes ms
        controller = ThreadpoolController()
        own = [
            lib.filepath
            for lib in controller.lib_controllers
            if lib.user_api == "blas" and "scipy.libs" in lib.filepath
        ]
        _SCIPY_BLAS = controller.select(filepath=own)
    return _SCIPY_BLAS.limit(limits=1)


_SCIPY_BLAS: Any = None

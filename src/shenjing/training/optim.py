"""Optimizers: update every parameter of a network from its gradient.

Interface, shared by all: ``opt.step(model)`` reads ``model.parameters()`` — triples of
name, value and gradient — and updates each value *in place*. It is
``opt.apply(opt.prepare(params))``: ``prepare`` checks the parameters against their state
(making what is missing) and ``apply`` updates them with no checks, so ``fit`` prepares
once and applies every step. State (velocities, moment
estimates, step counts) is explicit and per parameter, in ``opt.state[name]``; one
optimizer serves one network. ``g`` below is the gradient after weight decay:
``g = grad + weight_decay * p`` (L2 regularisation folded into the gradient).

The updates are written with scratch buffers so that a step allocates nothing; the
plain formula is in each class docstring and in a comment beside the code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..base.backend import UsesNamespace, namespace
from ..base.checks import number
from ..base.errors import ConfigError, DTypeError
from ..base.registry import Registry
from ..nn.layer import Parameter
from .update_kernels import scaled_step, subtract_scaled

OPTIMIZERS: Registry[type[Optimizer]] = Registry("optimizer")


class Optimizer(UsesNamespace):
    """Base class: subclasses define ``_init_state`` and ``_update``."""

    #: True when :meth:`apply` updates each parameter from its own value, gradient and
    #: state only, so ``fit`` may update a layer inside the backward pass as soon as its
    #: gradients are known (:class:`shenjing.training.step.StepPlan`). An optimizer whose
    #: update reads several parameters at once (a global norm, say) sets it False.
    per_parameter: bool = True

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        self.lr = number(lr, "lr", low=0.0, low_open=True)
        self.weight_decay = number(weight_decay, "weight_decay", low=0.0)
        self.state: dict[str, dict[str, Any]] = {}
        #: The array module of the updates (see :mod:`shenjing.base.backend`).
        self.xp = namespace()

    def step(self, model: Any) -> None:
        """Apply one update to every parameter of ``model`` (a network or a layer)."""
        if not callable(getattr(model, "parameters", None)):
            raise DTypeError(f"model must be a network or a layer, got {type(model).__name__}")
        self.apply(self.prepare(model.parameters()))

    def prepare(self, params: list[Parameter]) -> list[tuple[Parameter, dict[str, Any]]]:
        """Check ``params`` against the state held for them, making any that is missing.

        Every parameter is checked before any is updated, so a refused step leaves the
        whole network as it was. ``fit`` calls this once and :meth:`apply` every step.
        """
        return [(param, self._state_for(param)) for param in params]

    def apply(self, prepared: list[tuple[Parameter, dict[str, Any]]]) -> None:
        """One update of every parameter :meth:`prepare` returned; no checks."""
        update, decay = self._update, self.weight_decay
        for param, state in prepared:
            # update(p, _decayed_grad(param, state), state), minus a call per parameter
            # when there is no weight decay (the gradient is then used as it is).
            update(param.value, self._decayed_grad(param, state) if decay else param.grad, state)

    def reset(self) -> None:
        """Forget all state (velocities, moments, step counts)."""
        self.state.clear()

    def _state_for(self, param: Parameter) -> dict[str, Any]:
        state = self.state.get(param.name)
        if state is not None:
            scratch = state["scratch"]
            if scratch.shape == param.value.shape and scratch.dtype == param.value.dtype:
                return state  # the state fits: nothing to convert
        if state is None:
            state = self.state[param.name] = self._init_state(param.value)
            state["scratch"] = np.empty_like(param.value)
            return state
        scratch = state["scratch"]
        if scratch.shape != param.value.shape:
            raise ConfigError(
                f"{type(self).__name__} holds state for a parameter {param.name!r} of shape "
                f"{scratch.shape}, but this one has shape {param.value.shape}: use one "
                "optimizer per network, or call opt.reset()"
            )
        if scratch.dtype != param.value.dtype:  # the network was converted with astype
            for key, value in state.items():
                if isinstance(value, np.ndarray):
                    state[key] = value.astype(param.value.dtype)
        return state

    def _decayed_grad(self, param: Parameter, state: dict[str, Any]) -> np.ndarray:
        if not self.weight_decay:
            return param.grad
        # g = grad + weight_decay * p, in a buffer so the layer's gradient is untouched
        g: np.ndarray | None = state.get("decayed")
        if g is None:  # allocated once (setdefault would build a new array every step)
            g = state["decayed"] = np.empty_like(param.value)
        np.multiply(param.value, self.weight_decay, out=g)
        g += param.grad
        return g

    def _init_state(self, value: np.ndarray) -> dict[str, Any]:
        return {}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"lr": self.lr, "weight_decay": self.weight_decay}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@OPTIMIZERS.register("sgd")
class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    Plain:     p ← p - lr · g                           (the notes' ``w -= lr * grad``)
    Momentum:  v ← μ v + g;   p ← p - lr · v            (v starts at 0)
    Nesterov:  v ← μ v + g;   p ← p - lr · (g + μ v)

    This is PyTorch's form of momentum (CS231n writes v ← μ v - lr g; p ← p + v, which
    is the same while lr is constant).

    Args:
        lr: learning rate > 0. Default 0.01.
        momentum: μ in [0, 1). Default 0.
        nesterov: use Nesterov momentum (needs momentum > 0).
        weight_decay: L2 coefficient ≥ 0. Default 0.
    """

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        self.momentum = number(momentum, "momentum", low=0.0, high=1.0, high_open=True)
        if not isinstance(nesterov, bool):
            raise ConfigError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0:
            raise ConfigError("nesterov=True needs momentum > 0")
        self.nesterov = nesterov

    def _init_state(self, value: np.ndarray) -> dict[str, Any]:
        return {"velocity": np.zeros_like(value)} if self.momentum else {}

    def apply(self, prepared: list[tuple[Parameter, dict[str, Any]]]) -> None:
        if self.momentum or self.weight_decay:
            super().apply(prepared)
            return
        # Plain SGD, the notes' w -= lr * grad: the kernel directly, a call less per
        # parameter (a tiny network's whole step is ~40 µs; this saves ~2 of them).
        lr = self.lr
        for param, state in prepared:
            subtract_scaled(param.value, param.grad, lr, state["scratch"])

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        step = state["scratch"]
        if self.momentum:
            v = state["velocity"]
            v *= self.momentum  # v = μ v + g
            v += g
            if self.nesterov:  # step = g + μ v
                np.multiply(v, self.momentum, out=step)
                step += g
                g = step
            else:
                g = v
        subtract_scaled(p, g, self.lr, step)  # p -= lr * g

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }


@OPTIMIZERS.register("adam")
class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum plus a per-parameter step size.

    t ← t + 1                                  (t counts this parameter's steps from 1)
    m ← β1 m + (1 - β1) g                      first moment, starts at 0
    v ← β2 v + (1 - β2) g²                     second moment, starts at 0
    p ← p - lr · (m / (1 - β1^t)) / (√(v / (1 - β2^t)) + eps)     bias-corrected

    Args:
        lr: learning rate > 0. Default 1e-3.
        betas: (β1, β2), each in [0, 1). Default (0.9, 0.999).
        eps: > 0, added to the denominator. Default 1e-8.
        weight_decay: L2 coefficient ≥ 0 (added to the gradient). Default 0.
    """

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ConfigError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            number(betas[0], "beta1", low=0.0, high=1.0, high_open=True),
            number(betas[1], "beta2", low=0.0, high=1.0, high_open=True),
        )
        self.eps = number(eps, "eps", low=0.0, low_open=True)

    def _init_state(self, value: np.ndarray) -> dict[str, Any]:
        return {"t": 0, "m": np.zeros_like(value), "v": np.zeros_like(value)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        b1, b2 = self.betas
        state["t"] += 1
        t, m, v, tmp = state["t"], state["m"], state["v"], state["scratch"]
        m *= b1  # m = β1 m + (1 - β1) g
        np.multiply(g, 1 - b1, out=tmp)
        m += tmp
        v *= b2  # v = β2 v + (1 - β2) g²
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v += tmp
        # Bias correction, folded into two scalars: with c = √(1 - β2^t),
        # √v̂ + eps = (√v + eps·c) / c, so p -= lr m̂ / (√v̂ + eps) becomes
        # p -= (lr · c / (1 - β1^t)) · m / (√v + eps·c): one pass over the
        # parameters fewer than dividing √v by c first.
        c = math.sqrt(1 - b2**t)
        np.sqrt(v, out=tmp)
        tmp += self.eps * c
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr * c / (1 - b1**t)
        p -= tmp

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "betas": self.betas,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


@OPTIMIZERS.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e): divide by a running RMS of recent gradients.

    s ← α s + (1 - α) g²                       starts at 0
    p ← p - lr · g / (√s + eps)

    Args:
        lr: learning rate > 0. Default 1e-2.
        alpha: decay α in [0, 1). Default 0.99.
        eps: > 0. Default 1e-8.
        weight_decay: L2 coefficient ≥ 0. Default 0.
    """

    def __init__(
        self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0
    ) -> None:
        super().__init__(lr, weight_decay)
        self.alpha = number(alpha, "alpha", low=0.0, high=1.0, high_open=True)
        self.eps = number(eps, "eps", low=0.0, low_open=True)

    def _init_state(self, value: np.ndarray) -> dict[str, Any]:
        return {"square_avg": np.zeros_like(value)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        s, tmp = state["square_avg"], state["scratch"]
        s *= self.alpha  # s = α s + (1 - α) g²
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.alpha
        s += tmp
        scaled_step(p, g, s, tmp, self.lr, self.eps)

    def get_config(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "alpha": self.alpha,
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


@OPTIMIZERS.register("adagrad")
class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al. 2011): step sizes shrink with the sum of squared gradients.

    s ← s + g²                                 starts at 0
    p ← p - lr · g / (√s + eps)

    Args:
        lr: learning rate > 0. Default 1e-2.
        eps: > 0. Default 1e-10.
        weight_decay: L2 coefficient ≥ 0. Default 0.
    """

    def __init__(self, lr: float = 1e-2, eps: float = 1e-10, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
        self.eps = number(eps, "eps", low=0.0, low_open=True)

    def _init_state(self, value: np.ndarray) -> dict[str, Any]:
        return {"sum_sq": np.zeros_like(value)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        s, tmp = state["sum_sq"], state["scratch"]
        np.multiply(g, g, out=tmp)  # s = s + g²
        s += tmp
        scaled_step(p, g, s, tmp, self.lr, self.eps)

    def get_config(self) -> dict[str, Any]:
        return {"lr": self.lr, "eps": self.eps, "weight_decay": self.weight_decay}


@OPTIMIZERS.register("adamw")
class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay.

    p ← p - lr · λ · p                         decay first, apart from the gradient
    then Adam's update of p from the gradient itself (t, m, v, bias correction as in
    :class:`Adam`): the decay is not divided by √v̂, so every weight shrinks at the same
    rate, which L2 in the gradient (``Adam(weight_decay=...)``) does not give.
    This is ``torch.optim.AdamW``'s order of operations.

    Args:
        lr: learning rate > 0. Default 1e-3.
        betas: (β1, β2), each in [0, 1). Default (0.9, 0.999).
        eps: > 0, added to the denominator. Default 1e-8.
        weight_decay: λ ≥ 0, decoupled. Default 0.01 (PyTorch's).
    """

    def __init__(
        self,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(lr, betas, eps, weight_decay)

    def apply(self, prepared: list[tuple[Parameter, dict[str, Any]]]) -> None:
        """One update of every prepared parameter; the gradient is used as it is."""
        update = self._update
        for param, state in prepared:
            update(param.value, param.grad, state)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> None:
        if self.weight_decay:
            p *= 1 - self.lr * self.weight_decay  # p = p - lr λ p
        super()._update(p, g, state)


def get(optimizer: str | Optimizer | type[Optimizer], **kwargs: Any) -> Optimizer:
    """Resolve an optimizer given by name (``"adam"``), class or instance.

    Keyword arguments (``lr=...``) go to the constructor of a name or class.
    """
    return OPTIMIZERS.create(optimizer, Optimizer, **kwargs)


def names() -> list[str]:
    return OPTIMIZERS.names()

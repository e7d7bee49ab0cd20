"""The playground's network and training, built from a :class:`~.config.Config` with
shenjing's own parts: :func:`shenjing.mlp`, an optimizer, and ``fit`` with callbacks.

The page trains one epoch per update: ``net.fit(x, y, epochs=1, seed=rng, ...)`` with
the same ``np.random.Generator`` every time, which draws each epoch's shuffle exactly as
one ``fit(epochs=E, seed=rng)`` would. So E updates on the page and the Python snippet's
``fit(epochs=E)`` produce the same weights, bit for bit (unless a weight was edited).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.errors import ConfigError
from ..base.stable import sigmoid, softmax
from ..network.builder import mlp
from ..network.sequential import Sequential
from ..training import optim as optim_mod
from ..training.callbacks import Callback, TrainState
from .config import Config

#: The network's dtype: the networks are tiny, and float64 keeps the snippet's run exact.
DTYPE = "float64"


class Regularization(Callback):
    """An L1 or L2 penalty on every weight matrix ``W`` (biases are left alone).

    Added to each ``W``'s gradient after the backward pass, before the update:

        L1: dW += rate · sign(W)      (the gradient of rate · Σ|W|)
        L2: dW += rate · W            (the gradient of rate/2 · Σ W²)

    Args:
        kind: ``"l1"`` or ``"l2"``.
        rate: the penalty's weight, ≥ 0.
    """

    def __init__(self, kind: str, rate: float) -> None:
        if kind not in ("l1", "l2"):
            raise ConfigError(f"kind must be 'l1' or 'l2', got {kind!r}")
        if not rate >= 0:
            raise ConfigError(f"rate must be at least 0, got {rate!r}")
        self.kind, self.rate = kind, float(rate)

    def on_backward_end(self, state: TrainState) -> None:
        for layer in state.net.layers:
            if "W" not in layer.params:
                continue
            w, dw = layer.params["W"], layer.grads["W"]
            dw += self.rate * (np.sign(w) if self.kind == "l1" else w)

    def __repr__(self) -> str:
        return f"Regularization({self.kind!r}, {self.rate:g})"


def output_width(config: Config, classes: int) -> int:
    """Units of the output layer: one score per class for softmax, else one."""
    if config.problem == "classification" and config.loss == "softmax_cross_entropy":
        return classes
    return 1


def build_network(config: Config, classes: int = 2) -> Sequential:
    """``mlp(len(features), hidden, output_width, activation, seed)`` in float64."""
    return mlp(
        len(config.features),
        list(config.hidden),
        output_width(config, classes),
        activation=config.activation,
        seed=config.seed,
        dtype=DTYPE,
    )


def build_optimizer(config: Config) -> optim_mod.Optimizer:
    """The optimizer named in ``config`` with its learning rate (and SGD's momentum)."""
    if config.optimizer == "sgd":
        return optim_mod.SGD(lr=config.lr, momentum=config.momentum)
    return optim_mod.get(config.optimizer, lr=config.lr)


def callbacks(config: Config) -> list[Any]:
    """The regularization callback, if any."""
    if config.regularization == "none" or config.reg_rate == 0:
        return []
    return [Regularization(config.regularization, config.reg_rate)]


def output_map(config: Config, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """What the output heat map shows, from the raw network outputs ``pred`` (G, K).

    Returns:
        ``(values, confidence)``: for two classes, P(class 1) in [0, 1] and ``None``; for
        more, the predicted class index and its probability; for regression, the raw
        values and ``None``.
    """
    if config.problem == "regression":
        return pred[:, 0], None
    if config.loss == "binary_cross_entropy":
        return sigmoid(pred[:, 0].copy(), np.empty(len(pred))), None
    if config.loss == "mse":
        return np.clip(pred[:, 0], 0.0, 1.0), None
    probs = softmax(pred)
    if probs.shape[1] == 2:
        return probs[:, 1], None
    return probs.argmax(axis=1).astype(np.float64), probs.max(axis=1)

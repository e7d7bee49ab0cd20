"""The notes' two training programs, twice: as the notes wrote them, and with shenjing.

Précis §3 of the seed notes: a two-layer network without biases, trained on the full
batch by plain gradient descent on the *sum* of squared errors.

* ``"regression"``: N, D_in, H, D_out = 64, 1000, 100, 10; random x, y; sigmoid hidden
  layer; learning rate 1e-4; 2000 steps.
* ``"xor"``: the XOR table; N, D_in, H, D_out = 4, 2, 30, 1; ReLU hidden layer; learning
  rate 0.002; 200 steps.

The notes draw from NumPy's global ``randn``; here every draw comes from a seeded
Generator (same distribution, reproducible, and the global RNG is left alone). Given the
same initial weights, shenjing's ``fit`` must reproduce the transcription's loss at
every step to rounding; :func:`run` reports the largest relative difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base.errors import ConfigError
from .data.datasets import notes_regression, xor
from .network.sequential import Sequential
from .nn.activations import ReLU, Sigmoid
from .nn.initializers import Seed, as_generator
from .nn.linear import Linear
from .training.optim import SGD

PROGRAMS = ("regression", "xor")


@dataclass(frozen=True)
class NotesSetup:
    """A program's data, initial weights and hyper-parameters (all float64)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    w1: np.ndarray
    w2: np.ndarray
    hidden: str  # "sigmoid" or "relu"
    learning_rate: float
    steps: int


def setup(name: str, seed: Seed = 0) -> NotesSetup:
    """Data and initial weights of the notes' program ``name``, drawn from ``seed``."""
    rng = as_generator(seed)
    if name == "regression":
        N, D_in, H, D_out = 64, 1000, 100, 10
        x, y = notes_regression(N, D_in, D_out, seed=rng)
        w1, w2 = rng.standard_normal((D_in, H)), rng.standard_normal((H, D_out))
        return NotesSetup(name, x, y, w1, w2, "sigmoid", 1e-4, 2000)
    if name == "xor":
        N, D_in, H, D_out = 4, 2, 30, 1
        x, y = xor()
        w1, w2 = rng.standard_normal((D_in, H)), rng.standard_normal((H, D_out))
        return NotesSetup(name, x, y, w1, w2, "relu", 0.002, 200)
    raise ConfigError(f"Unknown notes program {name!r}; valid names: {', '.join(PROGRAMS)}")


def reference_losses(s: NotesSetup) -> list[float]:
    """The notes' loop, line for line (printing and plotting left out)."""
    x, y = s.x, s.y
    w1, w2 = s.w1.copy(), s.w2.copy()
    loss_col = []
    for _t in range(s.steps):
        if s.hidden == "sigmoid":
            h = 1 / (1 + np.exp(-x.dot(w1)))
            y_pred = h.dot(w2)
            loss = np.square(y_pred - y).sum()
            loss_col.append(float(loss))
            grad_y_pred = 2.0 * (y_pred - y)
            grad_w2 = h.T.dot(grad_y_pred)
            grad_h = grad_y_pred.dot(w2.T)
            grad_w1 = x.T.dot(grad_h * h * (1 - h))
        else:
            h = x.dot(w1)
            h_relu = np.maximum(h, 0)
            y_pred = h_relu.dot(w2)
            loss = np.square(y_pred - y).sum()
            loss_col.append(float(loss))
            grad_y_pred = 2.0 * (y_pred - y)
            grad_w2 = h_relu.T.dot(grad_y_pred)
            grad_h_relu = grad_y_pred.dot(w2.T)
            grad_h = grad_h_relu.copy()
            grad_h[h < 0] = 0
            grad_w1 = x.T.dot(grad_h)
        w1 -= s.learning_rate * grad_w1
        w2 -= s.learning_rate * grad_w2
    return loss_col


def network(s: NotesSetup) -> Sequential:
    """The program's network in shenjing's parts, holding its initial weights."""
    d_in, h = s.w1.shape
    activation = Sigmoid() if s.hidden == "sigmoid" else ReLU()
    net = Sequential(
        Linear(d_in, h, bias=False, dtype="float64", init="zeros"),
        activation,
        Linear(h, s.w2.shape[1], bias=False, dtype="float64", init="zeros"),
    )
    net[0].W[...] = s.w1
    net[2].W[...] = s.w2
    return net


@dataclass(frozen=True)
class NotesRun:
    """Both runs of one program and how far apart they are."""

    setup: NotesSetup
    net: Sequential
    losses: list[float]
    reference: list[float]

    @property
    def max_relative_difference(self) -> float:
        a, b = np.asarray(self.losses), np.asarray(self.reference)
        return float(np.max(np.abs(a - b) / np.abs(b)))


def run(name: str, seed: Seed = 0) -> NotesRun:
    """Train program ``name`` with shenjing's ``fit`` and with the notes' loop."""
    s = setup(name, seed)
    net = network(s)
    history = net.fit(
        s.x,
        s.y,
        loss="sse",
        optimizer=SGD(lr=s.learning_rate),
        epochs=s.steps,
        batch_size=None,
        shuffle=False,
    )
    return NotesRun(s, net, history.loss, reference_losses(s))

"""Karpathy's sanity checks before training, as one call: :func:`sanity_check`.

Three checks, each passed or failed with the numbers behind it:

1. **Loss at initialisation** against its expected value. A network with small initial
   outputs predicts uniform probabilities, so softmax cross-entropy over K classes starts
   near log K and binary cross-entropy near log 2: these pass within
   :data:`INIT_LOSS_TOLERANCE` (relative). A regression loss starts at the loss of
   predicting 0 plus what the network's own initial outputs add (for squared errors,
   their mean square), so it passes up to :data:`REGRESSION_INIT_FACTOR` times the loss of
   predicting 0: initial outputs no larger than the targets. Other losses are skipped,
   with the reason.
2. **Gradient check** on a small batch (:data:`GRADCHECK_ROWS` rows, chosen away from the
   kinks of ReLU and Maxout), on a float64 copy, with :func:`shenjing.gradcheck` along
   random directions.
3. **Overfit a tiny batch**: a copy of the network trains on :data:`OVERFIT_ROWS` rows
   with distinct inputs (Adam, lr :data:`OVERFIT_LR`, :data:`OVERFIT_STEPS` full-batch
   steps). Passes when the loss falls below :data:`OVERFIT_FRACTION` of its first value. A network
   that cannot memorise a handful of rows has a bug or cannot learn at all.

The user's network is never modified: checks 2 and 3 work on copies, and check 1 only
runs forward passes. Checks 1 and 2 use evaluation mode, the function ``predict``
computes (dropout off, running statistics); check 3 trains in training mode, as ``fit``
does, and measures its final loss in evaluation mode.

Example:
    >>> import shenjing as sj
    >>> x, y = sj.datasets.spiral(seed=0)
    >>> net = sj.Sequential(sj.Linear(2, 32, seed=0), sj.ReLU(), sj.Linear(32, 3, seed=1))
    >>> result = sj.sanity_check(net, x, y, loss="softmax_cross_entropy")
    >>> result.passed, [c.name for c in result.checks]
    (True, ['loss at init', 'gradient check', 'overfit a tiny batch'])
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..base.checks import check_rows
from ..base.errors import ConfigError, DivergenceError
from ..nn.activations import LeakyReLU, ReLU
from ..nn.initializers import Seed, as_generator
from ..nn.maxout import Maxout
from ..training import losses as losses_mod
from ..training.optim import Adam
from .gradcheck import gradcheck
from .network import require_network

#: Loss at init passes within this relative distance of its expected value.
INIT_LOSS_TOLERANCE = 0.1
#: A regression loss at init passes up to this multiple of the loss of predicting 0.
REGRESSION_INIT_FACTOR = 2.0
#: Rows of the gradient check's batch, and its random directions.
GRADCHECK_ROWS = 8
GRADCHECK_DIRECTIONS = 8
#: The gradient check's rows keep every kinked activation's input this far from its kink.
KINK_MARGIN = 1e-3
CANDIDATE_ROWS = 512
#: Rows, steps, learning rate and pass mark of the overfitting check.
OVERFIT_ROWS = 8
OVERFIT_STEPS = 300
OVERFIT_LR = 1e-2
OVERFIT_FRACTION = 0.05


@dataclass(frozen=True)
class Check:
    """One sanity check: its verdict (``None`` when skipped) and the numbers.

    Attributes:
        name: ``"loss at init"``, ``"gradient check"`` or ``"overfit a tiny batch"``.
        passed: ``True``, ``False``, or ``None`` when skipped.
        value: what was measured (the loss, the relative error, the final loss).
        expected: the value or limit it was held to.
        message: the verdict in words.
    """

    name: str
    passed: bool | None
    value: float | None
    expected: float | None
    message: str

    def __str__(self) -> str:
        mark = {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]
        return f"{mark}  {self.name}: {self.message}"


@dataclass
class SanityReport:
    """The three checks; ``passed`` is true when none failed (skipped ones don't count)."""

    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed is not False for c in self.checks)

    def __getitem__(self, name: str) -> Check:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check {name!r}; checks: {[c.name for c in self.checks]}")

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = "Sanity checks " + ("passed" if self.passed else "FAILED")
        return "\n".join([head, *(str(c) for c in self.checks)])


def sanity_check(
    net: Any, x: Any, y: Any, loss: str | losses_mod.Loss | None = None, *, seed: Seed = 0
) -> SanityReport:
    """Run the three sanity checks of the module docstring on ``net`` and ``(x, y)``.

    Args:
        net: the network, freshly initialised (it is not modified).
        x: inputs, (N, D).
        y: targets, as ``loss`` expects them.
        loss: the loss name or object; defaults to the loss of the network's last ``fit``.
        seed: picks the rows of the small batches and the random directions.

    Returns:
        A :class:`SanityReport`; ``bool(report)`` is the verdict, ``str(report)`` the lines.
    """
    require_network(net)
    if loss is None:
        if net.loss is None:
            raise ConfigError("sanity_check needs loss=...: this network has not been fit yet")
        loss = net.loss
    loss_fn = losses_mod.get(loss)
    X = net.check_input(x, "x")
    check_rows(X.shape[0], y)
    Y = np.asarray(y)
    # The target prepared once, so that a bad y fails here with the loss's own error.
    loss_fn.prepare_target(Y, (X.shape[0], net.output_features(X.shape[1])), net.compute_dtype)
    rng = as_generator(seed)
    return SanityReport(
        [
            _init_loss(net, loss_fn, X, Y),
            _gradient(net, loss_fn, X, Y, rng),
            _overfit(net, loss_fn, X, Y, rng),
        ]
    )


def _expected_init_loss(
    loss_fn: losses_mod.Loss, y: np.ndarray, width: int, dtype: Any
) -> tuple[float | None, str]:
    """The loss a network with outputs near 0 should have, and how it is derived."""
    if isinstance(loss_fn, losses_mod.SoftmaxCrossEntropy):
        if width < 2:
            return None, "softmax cross-entropy needs at least two outputs"
        return math.log(width), f"log K = log {width}"
    if isinstance(loss_fn, losses_mod.BinaryCrossEntropy):
        return math.log(2), "log 2 (probability 1/2 for every output)"
    if isinstance(loss_fn, (losses_mod.SumSquaredError, losses_mod.Huber)):
        zeros = np.zeros((len(y), width), dtype)
        return float(loss_fn.forward(zeros, y)), "the loss of predicting 0"
    return None, f"no expected initial value is known for {type(loss_fn).__name__}"


def _init_loss(net: Any, loss_fn: losses_mod.Loss, X: np.ndarray, Y: np.ndarray) -> Check:
    name = "loss at init"
    width = net.output_features(X.shape[1])
    expected, why = _expected_init_loss(copy.deepcopy(loss_fn), Y, width, net.compute_dtype)
    value = net.evaluate(X, Y, loss=copy.deepcopy(loss_fn))["loss"]
    if expected is None:
        return Check(name, None, value, None, f"loss {value:.4g}; skipped: {why}")
    if "predicting 0" in why:
        ok = bool(value <= REGRESSION_INIT_FACTOR * expected)
        message = (
            f"loss {value:.4g}, {value / max(expected, 1e-300):.2f} × {expected:.4g} ({why}), "
            f"{'within' if ok else 'above'} {REGRESSION_INIT_FACTOR:g} ×"
        )
    else:
        distance = abs(value - expected) / max(abs(expected), 1e-12)
        ok = bool(distance <= INIT_LOSS_TOLERANCE)
        verdict = "within" if ok else "outside"
        message = (
            f"loss {value:.4g}, expected {expected:.4g} ({why}): {distance:.1%} away, "
            f"{verdict} {INIT_LOSS_TOLERANCE:.0%}"
        )
    if not ok:
        message += "; check the output layer's initial scale and the inputs' scale"
    return Check(name, ok, value, expected, message)


def _rows(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``k`` random rows with distinct inputs, sorted.

    Distinct, because two equal inputs with different targets (the spiral's arms all
    start at the origin) cannot both be fitted, and the overfitting check would fail.
    """
    order = rng.permutation(len(X))
    _, first = np.unique(X[order], axis=0, return_index=True)
    return np.sort(order[np.sort(first)[:k]])


def _smooth_rows(net: Any, X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``k`` random rows whose path through the network keeps off every kink.

    A finite difference across a kink (ReLU's 0, a Maxout tie) is wrong however correct
    the backward pass is: the spiral's first point is the origin, where every ReLU of a
    network with zero biases sits exactly on its kink. Rows whose kinked inputs all lie
    at least :data:`KINK_MARGIN` away are taken, even if fewer than ``k``; only when
    there is none, the farthest rows.
    """
    order = rng.permutation(len(X))[:CANDIDATE_ROWS]
    h = X[order].astype(np.float64)
    margin = np.full(len(order), np.inf)
    for layer in net.layers:
        if isinstance(layer, Maxout):
            z = np.sort(
                (h @ layer.W.reshape(layer.in_features, -1)).reshape(len(h), -1, layer.pieces)
                + (layer.b if layer.bias else 0),
                axis=2,
            )
            margin = np.minimum(margin, (z[..., -1] - z[..., -2]).min(axis=1))
        elif isinstance(layer, (ReLU, LeakyReLU)):
            margin = np.minimum(margin, np.abs(h).min(axis=1))
        h = np.array(layer.forward(h))
    smooth = order[margin > KINK_MARGIN]
    # One smooth row checks every weight; a row on a kink fails however right backward is.
    chosen = smooth[:k] if len(smooth) else order[np.argsort(-margin)[:k]]
    return np.sort(chosen)


def _gradient(
    net: Any,
    loss_fn: losses_mod.Loss,
    X: np.ndarray,
    Y: np.ndarray,
    rng: np.random.Generator,
) -> Check:
    twin = copy.deepcopy(net).astype("float64").eval()
    rows = _smooth_rows(twin, X, GRADCHECK_ROWS, rng)
    result = gradcheck(
        twin,
        X[rows].astype(np.float64),
        Y[rows],
        loss=copy.deepcopy(loss_fn),
        directions=GRADCHECK_DIRECTIONS,
        seed=int(rng.integers(2**31)),
    )
    err, tol = result.max_error, result.tolerance
    message = (
        f"largest relative error {err:.2e} on {len(rows)} rows along "
        f"{GRADCHECK_DIRECTIONS} random directions (pass mark {tol:g})"
    )
    if not result.ok:
        message += "; a layer's backward pass disagrees with its forward pass"
    return Check("gradient check", bool(result.ok), float(err), tol, message)


def _overfit(
    net: Any,
    loss_fn: losses_mod.Loss,
    X: np.ndarray,
    Y: np.ndarray,
    rng: np.random.Generator,
) -> Check:
    name = "overfit a tiny batch"
    rows = _rows(X, OVERFIT_ROWS, rng)
    twin = copy.deepcopy(net)
    fn = copy.deepcopy(loss_fn)
    try:
        hist = twin.fit(
            X[rows],
            Y[rows],
            loss=fn,
            optimizer=Adam(lr=OVERFIT_LR),
            epochs=OVERFIT_STEPS,
            batch_size=None,
            shuffle=False,
        )
    except DivergenceError as exc:
        return Check(name, False, math.inf, None, f"training diverged: {exc}")
    first, final = hist.loss[0], twin.evaluate(X[rows], Y[rows], loss=fn)["loss"]
    limit = OVERFIT_FRACTION * first
    ok = bool(final <= limit)
    message = (
        f"loss {first:.4g} → {final:.4g} after {OVERFIT_STEPS} steps on {len(rows)} rows "
        f"(pass: below {OVERFIT_FRACTION:.0%} of the first, {limit:.4g})"
    )
    if not ok:
        message += "; the network cannot memorise a few rows: look for a bug or dead units"
    return Check(name, ok, float(final), float(limit), message)

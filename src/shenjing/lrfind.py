"""The learning-rate range test (Smith 2015, "Cyclical learning rates", §3.3): ``sj.lr_find``.

A short run on a copy of the network whose rate rises geometrically from ``min_lr`` to
``max_lr``, one rate per step, recording the loss of each step::

    lr_s = min_lr · (max_lr / min_lr)^(s / (steps - 1))        s = 0 … steps - 1

The losses are smoothed (an exponential moving average with bias correction, β = 0.98
by default, as fastai does) because one mini-batch's loss is noisy. The run stops early
once the smoothed loss exceeds ``stop_factor`` times its lowest value, or the loss is no
longer finite: past that point the rate is too large. The suggested rate is where the
smoothed loss falls fastest against log(lr), looked for before its minimum (fast
enough to make progress), or a tenth of the rate at the minimum if that is smaller
(safely below the rates that blow up; see :func:`_suggest`). ``sj.plot.lr_find_curve``
draws the curve with the suggestion marked; ``shenjing train --lr-find`` runs it.

The network and optimizer given are not changed: the test trains copies.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base.checks import as_float_array, number, positive_int
from .base.errors import ConfigError, DivergenceError
from .network.fit import fit
from .nn.initializers import Seed
from .training import losses as losses_mod
from .training import optim as optim_mod
from .training.callbacks import Callback, TrainState
from .training.schedules import Schedule


@dataclass
class LRFindResult:
    """What :func:`lr_find` measured.

    Attributes:
        rates: the learning rate of each step, rising.
        losses: each step's loss (before its update).
        smoothed: the bias-corrected moving average of ``losses``.
        suggestion: the suggested learning rate.
        reason: why, in one sentence, with the numbers.
        lowest: the rate at which the smoothed loss was lowest.
        steepest: the rate at which it fell fastest (NaN if it never fell).
        stopped: why the run ended (``"max_lr reached"``, the loss exceeding
            ``stop_factor`` times its lowest, or a non-finite loss).
    """

    rates: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float
    reason: str
    lowest: float
    steepest: float
    stopped: str

    def __repr__(self) -> str:
        return (
            f"LRFindResult({len(self.rates)} steps, suggestion={self.suggestion:.3g}, "
            f"lowest={self.lowest:.3g})"
        )


def lr_find(
    net: Any,
    x: Any,
    y: Any,
    *,
    loss: str | losses_mod.Loss,
    optimizer: str | optim_mod.Optimizer | None = None,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    steps: int = 100,
    batch_size: int | None = 32,
    seed: Seed = None,
    smoothing: float = 0.98,
    stop_factor: float = 4.0,
) -> LRFindResult:
    """Run the range test on a copy of ``net``; see the module docstring.

    Args:
        net: the network (not changed).
        x, y, loss, batch_size, seed: as for :func:`shenjing.fit`.
        optimizer: an optimizer instance or name (its ``lr`` is replaced by the
            rising rate; its state is not touched); default Adam.
        min_lr, max_lr: the range, 0 < min_lr < max_lr. Default 1e-7 to 10.
        steps: steps of the test (≥ 5), over as many epochs as they need. Default 100.
        smoothing: β of the moving average, in [0, 1). Default 0.98.
        stop_factor: stop once the smoothed loss is this many times its lowest (> 1).

    Returns:
        An :class:`LRFindResult`.

    Example:
        >>> import shenjing as sj
        >>> x, y = sj.datasets.spiral(seed=0)
        >>> net = sj.mlp(2, [16], 3, seed=0)
        >>> result = sj.lr_find(net, x, y, loss="softmax_cross_entropy", seed=0)
        >>> 1e-7 < result.suggestion < 10
        True
    """
    min_lr = number(min_lr, "min_lr", low=0.0, low_open=True)
    max_lr = number(max_lr, "max_lr", low=min_lr, low_open=True)
    steps = positive_int(steps, "steps")
    if steps < 5:
        raise ConfigError(f"steps must be at least 5, got {steps}")
    smoothing = number(smoothing, "smoothing", low=0.0, high=1.0, high_open=True)
    stop_factor = number(stop_factor, "stop_factor", low=1.0, low_open=True)
    opt = copy.deepcopy(optim_mod.get(optimizer if optimizer is not None else "adam"))
    opt.reset()
    work = copy.deepcopy(net)
    batch_size = positive_int(batch_size, "batch_size", allow_none=True)
    n = len(as_float_array(x, "x", np.dtype(np.float64), ndim=2))
    per_epoch = 1 if batch_size is None or batch_size >= n else math.ceil(n / batch_size)
    watch = _Watch(steps, smoothing, stop_factor)
    try:
        history = fit(
            work,
            x,
            y,
            loss=loss,
            optimizer=opt,
            epochs=math.ceil(steps / per_epoch),
            batch_size=batch_size,
            seed=seed,
            schedule=_Range(min_lr, max_lr, steps),
            callbacks=[watch],
            divergence=None,  # the test is meant to overshoot; watch stops it
        )
    except DivergenceError as exc:
        history = exc.history
        watch.stopped = f"the loss became non-finite at step {len(history.loss) + 1}"
    rates, losses = list(history.lr), list(history.loss)
    suggestion, reason, lowest, steepest = _suggest(rates, watch.smoothed)
    return LRFindResult(
        rates, losses, list(watch.smoothed), suggestion, reason, lowest, steepest, watch.stopped
    )


class _Range(Schedule):
    """lr_s = min_lr · (max_lr / min_lr)^(s / (steps - 1))."""

    def __init__(self, min_lr: float, max_lr: float, steps: int) -> None:
        self.min_lr, self.max_lr, self.steps = min_lr, max_lr, steps

    def rate(self, step: int, epoch: int) -> float:
        return self.min_lr * (self.max_lr / self.min_lr) ** (step / (self.steps - 1))


class _Watch(Callback):
    """Smooths the losses and stops the run (see the module docstring)."""

    def __init__(self, steps: int, beta: float, stop_factor: float) -> None:
        self.steps, self.beta, self.stop_factor = steps, beta, stop_factor
        self.average, self.best = 0.0, math.inf
        self.smoothed: list[float] = []
        self.stopped = "max_lr reached"

    def on_step_end(self, state: TrainState) -> None:
        i = len(self.smoothed)
        self.average = self.beta * self.average + (1 - self.beta) * state.step_loss
        value = self.average / (1 - self.beta ** (i + 1))
        self.smoothed.append(value)
        self.best = min(self.best, value)
        if value > self.stop_factor * self.best:
            self.stopped = (
                f"the smoothed loss passed {self.stop_factor:g} times its lowest at step {i + 1}"
            )
            state.stop = True
        elif i + 1 >= self.steps:
            state.stop = True


def _suggest(rates: list[float], smoothed: list[float]) -> tuple[float, str, float, float]:
    """The suggestion, its reason, the rate of the lowest loss, and of the steepest fall.

    The suggestion is the smaller of two rates: where the smoothed loss falls fastest
    against log10(rate), before its minimum, and a tenth of the rate at its minimum.
    The second guards the first: the test holds each rate for one step only, and a
    rate close to the minimum can still diverge when held for a whole run (the notes'
    regression program does at the steepest rate, 1e-3, and trains at a tenth of the
    lowest, 1.8e-4).
    """
    if len(rates) < 3:
        raise DivergenceError(
            f"the range test stopped after {len(rates)} steps, too few to suggest a rate; "
            "lower min_lr"
        )
    loss = np.asarray(smoothed[: len(rates)])
    lowest = int(np.argmin(loss))
    low_rate, tenth = rates[lowest], rates[lowest] / 10
    # The first steps' average rests on few losses: skip a tenth of the run.
    skip = max(1, len(rates) // 10)
    end = max(lowest, skip + 2)
    slope = np.gradient(loss[:end], np.log10(np.asarray(rates[:end])))
    i = skip + int(np.argmin(slope[skip:]))
    if slope[i] >= 0:
        return (
            tenth,
            f"the smoothed loss never fell before its lowest point (lr={low_rate:.3g}); "
            f"a tenth of that rate is suggested, {tenth:.3g}",
            low_rate,
            math.nan,
        )
    after = (
        "and larger rates make it rise"
        if lowest < len(loss) - 1
        else "still falling at the largest rate tried (raise max_lr to see more)"
    )
    found = (
        f"the smoothed loss falls fastest at lr={rates[i]:.3g} ({slope[i]:.3g} per tenfold "
        f"rate, loss {loss[i]:.4g}); it is lowest at lr={low_rate:.3g} "
        f"(loss {loss[lowest]:.4g}), {after}"
    )
    if rates[i] <= tenth:
        return rates[i], f"{found}; the steepest rate is suggested", low_rate, rates[i]
    return (
        tenth,
        f"{found}; the steepest rate is within a tenfold of the lowest, where a rate held "
        f"for a whole run can diverge, so a tenth of the lowest, {tenth:.3g}, is suggested",
        low_rate,
        rates[i],
    )

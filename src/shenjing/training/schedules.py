"""Learning-rate schedules: ``fit(schedule=...)`` sets the optimizer's rate before every step.

A schedule is an object with four methods, called by the loop::

    start(base_lr, steps_per_epoch, epochs)   once, before the first step
    rate(step, epoch) -> float                before every step (both counted from 0)
    on_epoch_end(epoch, logs)                 after every epoch's validation
    state() / load_state(state)               what a checkpoint keeps (JSON values)

``base_lr`` is the optimizer's ``lr`` when ``fit`` starts; ``history.lr`` records the
rate of every step. Step and exponential decay change the rate once per epoch; cosine
and one-cycle every step; reduce-on-plateau when a monitored record stops improving.
Each follows the PyTorch scheduler of the same name (``tests/test_schedules.py``
compares them), evaluated in closed form rather than by repeated multiplication.
"""

from __future__ import annotations

import math
from typing import Any

from ..base.checks import MAX_COUNT, number, positive_int
from ..base.errors import ConfigError
from ..base.registry import Registry

SCHEDULES: Registry[type[Schedule]] = Registry("schedule")


class Schedule:
    """Base class: subclasses define :meth:`rate` (and :meth:`on_epoch_end` if they listen)."""

    base_lr: float = math.nan
    steps_per_epoch: int = 1
    epochs: int = 1

    def start(self, base_lr: float, steps_per_epoch: int, epochs: int) -> None:
        self.base_lr, self.steps_per_epoch, self.epochs = base_lr, steps_per_epoch, epochs

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    def rate(self, step: int, epoch: int) -> float:
        raise NotImplementedError

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """Called after each epoch with its records (``"loss"``, ``"val_loss"``…)."""

    def state(self) -> dict[str, Any]:
        """What changes during ``fit`` (JSON values), for checkpoints."""
        return {"base_lr": self.base_lr}

    def load_state(self, state: dict[str, Any]) -> None:
        self.base_lr = float(state["base_lr"])

    def get_config(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@SCHEDULES.register("step")
class StepDecay(Schedule):
    """lr = base_lr · γ^⌊epoch / every⌋: multiply by γ every ``every`` epochs (PyTorch's StepLR).

    Args:
        every: epochs between two decays (≥ 1). Default 10.
        gamma: the factor γ in (0, 1]. Default 0.1.
    """

    def __init__(self, every: int = 10, gamma: float = 0.1) -> None:
        self.every = positive_int(every, "every")
        self.gamma = number(gamma, "gamma", low=0.0, high=1.0, low_open=True)

    def rate(self, step: int, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.every)

    def get_config(self) -> dict[str, Any]:
        return {"every": self.every, "gamma": self.gamma}


@SCHEDULES.register("exponential")
class ExponentialDecay(Schedule):
    """lr = base_lr · γ^epoch (PyTorch's ExponentialLR, stepped once per epoch).

    Args:
        gamma: the factor γ in (0, 1]. Default 0.95.
    """

    def __init__(self, gamma: float = 0.95) -> None:
        self.gamma = number(gamma, "gamma", low=0.0, high=1.0, low_open=True)

    def rate(self, step: int, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch

    def get_config(self) -> dict[str, Any]:
        return {"gamma": self.gamma}


@SCHEDULES.register("cosine")
class CosineDecay(Schedule):
    """A linear warm-up over W steps, then a cosine from base_lr down to ``min_lr``.

    With T the steps of the whole ``fit`` and s the step (from 0)::

        s < W:   lr = base_lr · (s + 1) / W
        s ≥ W:   lr = min_lr + (base_lr - min_lr) · (1 + cos(π (s - W) / (T - W))) / 2

    (after the warm-up, PyTorch's CosineAnnealingLR with T_max = T - W, stepped per step).

    Args:
        warmup_steps: W ≥ 0, less than the steps of the fit. Default 0.
        min_lr: the rate the cosine ends at, ≥ 0. Default 0.
    """

    def __init__(self, warmup_steps: int = 0, min_lr: float = 0.0) -> None:
        if warmup_steps != 0:
            warmup_steps = positive_int(warmup_steps, "warmup_steps")
        self.warmup_steps = warmup_steps
        self.min_lr = number(min_lr, "min_lr", low=0.0)

    def start(self, base_lr: float, steps_per_epoch: int, epochs: int) -> None:
        super().start(base_lr, steps_per_epoch, epochs)
        if self.warmup_steps >= self.total_steps:
            raise ConfigError(
                f"warmup_steps={self.warmup_steps} must be fewer than the fit's "
                f"{self.total_steps} steps"
            )

    def rate(self, step: int, epoch: int) -> float:
        w = self.warmup_steps
        if step < w:
            return self.base_lr * (step + 1) / w
        progress = (step - w) / (self.total_steps - w)
        return self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2

    def get_config(self) -> dict[str, Any]:
        return {"warmup_steps": self.warmup_steps, "min_lr": self.min_lr}


@SCHEDULES.register("one_cycle", "onecycle")
class OneCycle(Schedule):
    """Smith & Topin's one-cycle policy (2019), as PyTorch's OneCycleLR (cosine, two phases).

    From lr0 = max_lr / div_factor up to max_lr over the first ``pct_start`` of the T
    steps, then down to lr0 / final_div_factor, each half a cosine::

        anneal(a, b, p) = b + (a - b) · (1 + cos(π p)) / 2
        s ≤ S:   lr = anneal(lr0, max_lr, s / S)                      S = pct_start · T - 1
        s > S:   lr = anneal(max_lr, lr0 / final_div_factor, (s - S) / (T - 1 - S))

    Args:
        max_lr: the peak rate; default the optimizer's ``lr``.
        pct_start: the rising fraction of the steps, in (0, 1). Default 0.3.
        div_factor: lr0 = max_lr / div_factor (≥ 1). Default 25.
        final_div_factor: the last rate is lr0 / final_div_factor (≥ 1). Default 1e4.
    """

    def __init__(
        self,
        max_lr: float | None = None,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
    ) -> None:
        self.max_lr = None if max_lr is None else number(max_lr, "max_lr", low=0.0, low_open=True)
        self.pct_start = number(
            pct_start, "pct_start", low=0.0, high=1.0, low_open=True, high_open=True
        )
        self.div_factor = number(div_factor, "div_factor", low=1.0)
        self.final_div_factor = number(final_div_factor, "final_div_factor", low=1.0)

    def start(self, base_lr: float, steps_per_epoch: int, epochs: int) -> None:
        super().start(base_lr, steps_per_epoch, epochs)
        if self.pct_start * self.total_steps - 1 <= 0 or self.total_steps < 3:
            raise ConfigError(
                f"OneCycle needs a rising phase of at least two steps: pct_start="
                f"{self.pct_start} of {self.total_steps} steps leaves none"
            )

    def rate(self, step: int, epoch: int) -> float:
        peak = self.base_lr if self.max_lr is None else self.max_lr
        lr0 = peak / self.div_factor
        end_up = self.pct_start * self.total_steps - 1
        if step <= end_up:
            return _anneal(lr0, peak, step / end_up)
        end = self.total_steps - 1
        return _anneal(peak, lr0 / self.final_div_factor, (step - end_up) / (end - end_up))

    def get_config(self) -> dict[str, Any]:
        return {
            "max_lr": self.max_lr,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
        }


def _anneal(start: float, end: float, pct: float) -> float:
    # PyTorch's _annealing_cos, term for term, so the two agree bit for bit.
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


@SCHEDULES.register("plateau", "reduce_on_plateau")
class ReduceOnPlateau(Schedule):
    """Multiply the rate by ``factor`` when a monitored record stops improving.

    After each epoch: an improvement is ``value < best - min_delta`` (``mode="min"``) or
    ``value > best + min_delta`` (``"max"``); after more than ``patience`` epochs in a row
    without one, lr ← max(lr · factor, min_lr), then ``cooldown`` epochs pass before
    counting again. These are PyTorch's ReduceLROnPlateau rules with
    ``threshold_mode="abs"`` (``patience=2`` reduces on the third epoch without
    improvement; a change under 1e-8 is not made).

    Args:
        monitor: a per-epoch record, e.g. ``"val_loss"`` (default) or ``"loss"``.
        factor: in (0, 1). Default 0.1.
        patience: epochs without improvement tolerated (≥ 0). Default 10.
        min_delta: ≥ 0. Default 0.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy and r2, else min).
        min_lr: the rate never goes below this (≥ 0). Default 0.
        cooldown: epochs after a reduction before counting again (≥ 0). Default 0.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 0.0,
        mode: str = "auto",
        min_lr: float = 0.0,
        cooldown: int = 0,
    ) -> None:
        if not isinstance(monitor, str):
            raise ConfigError(f"monitor must be a record name such as 'val_loss', got {monitor!r}")
        self.monitor = monitor
        self.factor = number(factor, "factor", low=0.0, high=1.0, low_open=True, high_open=True)
        self.patience = _count(patience, "patience")
        self.min_delta = number(min_delta, "min_delta", low=0.0)
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if monitor.removeprefix("val_") in ("accuracy", "r2") else "min"
        self.mode = mode
        self.min_lr = number(min_lr, "min_lr", low=0.0)
        self.cooldown = _count(cooldown, "cooldown")

    def start(self, base_lr: float, steps_per_epoch: int, epochs: int) -> None:
        super().start(base_lr, steps_per_epoch, epochs)
        self.lr = base_lr
        self.best = math.inf if self.mode == "min" else -math.inf
        self.bad_epochs = self.cooldown_left = 0

    def rate(self, step: int, epoch: int) -> float:
        return self.lr

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise ConfigError(
                f"ReduceOnPlateau monitors {self.monitor!r}, which fit does not record; "
                f"recorded: {sorted(logs)} (give validation data for 'val_' records)"
            )
        value = logs[self.monitor]
        if self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0
        if self.bad_epochs > self.patience:
            new = max(self.lr * self.factor, self.min_lr)
            if self.lr - new > 1e-8:
                self.lr = new
            self.cooldown_left, self.bad_epochs = self.cooldown, 0

    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "lr": self.lr,
            "best": self.best,
            "bad_epochs": self.bad_epochs,
            "cooldown_left": self.cooldown_left,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.lr, self.best = float(state["lr"]), float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
        self.cooldown_left = int(state["cooldown_left"])

    def get_config(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "factor": self.factor,
            "patience": self.patience,
            "min_delta": self.min_delta,
            "mode": self.mode,
            "min_lr": self.min_lr,
            "cooldown": self.cooldown,
        }


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ConfigError(f"{name} must be an integer ≥ 0, got {value!r}")
    return value


def get(schedule: str | Schedule | type[Schedule], **kwargs: Any) -> Schedule:
    """Resolve a schedule given by name (``"cosine"``), class or instance."""
    return SCHEDULES.create(schedule, Schedule, **kwargs)


def names() -> list[str]:
    return SCHEDULES.names()

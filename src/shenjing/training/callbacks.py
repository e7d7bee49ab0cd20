"""Hooks into ``fit``: the training state they see, and early stopping.

A callback is any object with some of these methods, each taking the
:class:`TrainState`::

    on_train_begin   on_epoch_begin   on_step_end   on_epoch_end   on_train_end
    on_backward_end  (after a step's backward pass, before its update)

Set ``state.stop = True`` to end training after the current step or epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..base.checks import boolean, number, positive_int, text
from ..base.errors import ConfigError

HOOKS = (
    "on_train_begin",
    "on_epoch_begin",
    "on_backward_end",
    "on_step_end",
    "on_epoch_end",
    "on_train_end",
)


@dataclass
class History(Mapping[str, list[float]]):
    """What ``fit`` recorded; a read-only mapping of the per-epoch records.

    ``history["val_loss"]``, ``"val_loss" in history``, ``list(history)`` and
    ``dict(history)`` see :attr:`per_epoch` (name → one value per epoch); the per-step
    records are attributes.

    Attributes:
        loss: one float per step: the loss of that step's forward pass, before its
            update.
        lr: one float per step: the learning rate that step's update used (constant
            without ``fit(schedule=...)``).
        per_epoch: name → one value per epoch: ``"loss"`` (the epoch's training loss,
            summed over its batches for a "sum" loss, averaged for a "mean" loss),
            training metrics such as ``"accuracy"`` (running, over the epoch's batches),
            and ``"val_loss"``, ``"val_accuracy"``… on the validation data.
        epochs_run: epochs run (the last one may have been cut short by a callback).
        stopped_early: whether a callback ended training before ``epochs``.
        best_epoch: the epoch :class:`EarlyStopping` kept, if any (0-based).
        diagnostics: what ``fit(..., monitor=...)`` recorded (a
            :class:`shenjing.TrainingDiagnostics`), else ``None``.

    Example:
        >>> h = History(per_epoch={"loss": [0.5, 0.25]})
        >>> "loss" in h, "val_loss" in h, dict(h)
        (True, False, {'loss': [0.5, 0.25]})
    """

    loss: list[float] = field(default_factory=list)
    per_epoch: dict[str, list[float]] = field(default_factory=dict)
    epochs_run: int = 0
    stopped_early: bool = False
    best_epoch: int | None = None
    diagnostics: Any = None
    lr: list[float] = field(default_factory=list)

    def __getitem__(self, name: str) -> list[float]:
        try:
            return self.per_epoch[name]
        except KeyError:
            raise KeyError(
                f"no per-epoch record {name!r}; recorded: {sorted(self.per_epoch)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.per_epoch)

    def __len__(self) -> int:
        return len(self.per_epoch)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.per_epoch.items() if v)
        return f"History({len(self.loss)} steps, {self.epochs_run} epochs; {last})"


@dataclass
class TrainState:
    """The state of a ``fit`` call, handed to every callback hook.

    ``inputs`` and ``targets`` are the current step's batch (the input rows and the
    target as the loss prepared it), set before ``on_backward_end``: what a callback
    needs to measure that step (:class:`shenjing.Monitor` does). ``weights`` is the
    batch's sample weights, (B,), in a weighted ``fit`` (None otherwise).
    """

    net: Any
    optimizer: Any
    loss_fn: Any
    history: History
    epoch: int = 0
    step: int = 0
    batch: int = 0
    step_loss: float = math.nan
    inputs: Any = None
    targets: Any = None
    weights: Any = None
    logs: dict[str, float] = field(default_factory=dict)
    stop: bool = False


class Callback:
    """Optional base class for callbacks; every hook does nothing by default."""

    def on_train_begin(self, state: TrainState) -> None: ...
    def on_epoch_begin(self, state: TrainState) -> None: ...
    def on_backward_end(self, state: TrainState) -> None: ...
    def on_step_end(self, state: TrainState) -> None: ...
    def on_epoch_end(self, state: TrainState) -> None: ...
    def on_train_end(self, state: TrainState) -> None: ...


class EarlyStopping(Callback):
    """Stop when a monitored value has not improved for ``patience`` epochs.

    Args:
        monitor: a per-epoch record, e.g. ``"val_loss"`` (default) or
            ``"val_accuracy"``; ``"loss"`` when there is no validation data.
        patience: epochs without improvement before stopping (≥ 1). Default 10.
        min_delta: an improvement must exceed this (≥ 0). Default 0.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy and r2, else min).
        restore_best: put back the parameters of the best epoch when training ends.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best: bool = True,
    ) -> None:
        self.monitor = text(monitor, "monitor")
        self.patience = positive_int(patience, "patience")
        self.min_delta = number(min_delta, "min_delta", low=0.0)
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if monitor.removeprefix("val_") in ("accuracy", "r2") else "min"
        self.mode = mode
        self.restore_best = boolean(restore_best, "restore_best")

    def on_train_begin(self, state: TrainState) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self._best_params: list[np.ndarray] | None = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, state: TrainState) -> None:
        # Checked here, not at the start: another callback may add its own records.
        if self.monitor not in state.logs:
            raise ConfigError(
                f"EarlyStopping monitors {self.monitor!r}, which fit does not record; "
                f"recorded: {sorted(state.logs)} (give validation data for 'val_' records)"
            )
        value = state.logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, state.epoch, 0
            state.history.best_epoch = state.epoch
            if self.restore_best:
                self._best_params = [p.value.copy() for p in state.net.parameters()]
            return
        self.wait += 1
        if self.wait >= self.patience:
            state.stop = True

    def checkpoint_state(self) -> dict[str, Any]:
        """What ``fit(checkpoint=...)`` keeps of this callback (resumed exactly)."""
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "best_params": self._best_params,
        }

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        best = state["best_params"]
        self._best_params = None if best is None else [np.array(p) for p in best]

    def on_train_end(self, state: TrainState) -> None:
        if self.restore_best and self._best_params is not None:
            for p, best in zip(state.net.parameters(), self._best_params, strict=True):
                p.value[...] = best

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
            f"min_delta={self.min_delta}, mode={self.mode!r}, restore_best={self.restore_best})"
        )

"""The training loop behind ``shenjing.fit`` and ``Sequential.fit``.

One step is the notes' loop body, with shenjing's parts::

    pred = plan.forward(x_batch)                       # forward pass
    loss = loss_fn.forward_unchecked(pred, y_batch)    # the loss, before the update
    plan.backward(loss_fn.backward())                  # backpropagation fills every gradient
    plan.update()                                      # update every parameter in place

Everything is checked once, before the first step, and :class:`.step.StepPlan` binds the
layers' unchecked passes and the optimizer's prepared parameters once, so the steps do
no validation, no lookup and no search; mini-batches are gathered into buffers
allocated once per ``fit``. ``float`` of the loss (:func:`~shenjing.base.backend.to_float`)
is the step's one host synchronisation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..base.backend import to_float
from ..base.checks import check_rows, positive_int
from ..base.errors import ConfigError, DivergenceError
from ..nn.initializers import Seed, as_generator
from . import losses as losses_mod
from . import optim as optim_mod
from .batches import Batches, split_validation
from .callbacks import HOOKS, Callback, History, TrainState
from .evaluation import evaluate_batches, make_metrics
from .progress import progress_bar
from .step import StepPlan
from .weighting import WeightedLoss, fit_weights


def train(
    net: Any,
    x: Any,
    y: Any,
    *,
    loss: str | losses_mod.Loss,
    optimizer: str | optim_mod.Optimizer | None = None,
    epochs: int = 10,
    batch_size: int | None = 32,
    shuffle: bool = True,
    seed: Seed = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    metrics: Iterable[str] = (),
    callbacks: Sequence[Any] = (),
    progress: bool = False,
    sample_weight: Any = None,
    class_weight: Any = None,
) -> History:
    """The loop of :func:`shenjing.fit` (see it for every argument but ``monitor``).

    A monitor is a callback: :func:`shenjing.fit` puts one first in ``callbacks``.
    Everything is checked here, before the first step; :class:`.StepPlan` then binds
    the layers' unchecked passes and the optimizer's prepared parameters once.
    """
    loss_fn = losses_mod.get(loss)
    opt = optim_mod.get(optimizer if optimizer is not None else "adam")
    epochs = positive_int(epochs, "epochs")
    rng = as_generator(seed)
    callbacks = _check_callbacks(callbacks)
    # Only callbacks that override it are called between backward and update, so a
    # fit without them pays one falsy test per step.
    after_backward = [
        cb
        for cb in callbacks
        if callable(getattr(cb, "on_backward_end", None))
        and getattr(type(cb), "on_backward_end", None) is not Callback.on_backward_end
    ]

    X = net.check_input(x, "x")
    check_rows(X.shape[0], y)
    width = net.output_features(X.shape[1])
    T = loss_fn.prepare_target(y, (X.shape[0], width), net.compute_dtype)
    W = fit_weights(sample_weight, class_weight, loss_fn, T, width)
    weighted = WeightedLoss(loss_fn)  # used only by a weighted fit
    val = None
    if validation_data is not None:
        if validation_split:
            raise ConfigError("give validation_data or validation_split, not both")
        val = _check_validation(net, loss_fn, validation_data, width)
    elif validation_split:
        X, T, val, W = split_validation(X, T, validation_split, rng, W)
    n = X.shape[0]
    batch = n if batch_size is None else min(positive_int(batch_size, "batch_size"), n)

    batches = Batches(X, T, batch, shuffle, rng, W)
    train_metrics = make_metrics(metrics, loss_fn)
    val_metrics = make_metrics(metrics, loss_fn)
    history = History()
    state = TrainState(net=net, optimizer=opt, loss_fn=loss_fn, history=history)
    bar = progress_bar(progress, epochs * len(batches), desc="fit", unit="step")
    net.loss = loss_fn

    _call(callbacks, "on_train_begin", state)
    plan = StepPlan(net, opt)  # after on_train_begin, which may still change the network
    # Overflow inside a step surfaces as a non-finite loss, which raises DivergenceError
    # naming the step; NumPy's floating-point warnings on the way would only be noise.
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(epochs):
                state.epoch = epoch
                _call(callbacks, "on_epoch_begin", state)
                for m in train_metrics.values():
                    m.reset()
                total, seen, weight_seen = 0.0, 0, 0.0  # for the epoch's loss
                for b, (xb, tb, wb) in enumerate(batches.epoch()):
                    # One step: the notes' loop body.
                    pred = plan.forward(xb)
                    if wb is None:
                        value = to_float(loss_fn.forward_unchecked(pred, tb))  # the host sync
                    else:
                        value = weighted.forward(pred, tb, wb)
                    if not math.isfinite(value):
                        raise _diverged(value, state, b, opt)
                    for m in train_metrics.values():
                        m.update(pred, tb)
                    plan.backward(loss_fn.backward() if wb is None else weighted.backward())
                    if after_backward:
                        # This step's batch and loss; state.step still counts the steps
                        # completed before it.
                        state.batch, state.step_loss = b, value
                        state.inputs, state.targets, state.weights = xb, tb, wb
                        _call(after_backward, "on_backward_end", state)
                    plan.update()

                    history.loss.append(value)
                    if wb is None:
                        total += value if loss_fn.reduction == "sum" else value * len(xb)
                        weight_seen += len(xb)
                    else:  # the epoch's loss is the weighted mean (or sum) over its rows
                        size = float(wb.sum())
                        total += value if loss_fn.reduction == "sum" else value * size
                        weight_seen += size
                    seen += len(xb)
                    state.batch, state.step_loss, state.step = b, value, state.step + 1
                    if bar is not None:
                        bar.update(1)
                    _call(callbacks, "on_step_end", state)
                    if state.stop:
                        break
                mean = total / weight_seen if weight_seen else 0.0
                logs = {"loss": total if loss_fn.reduction == "sum" else mean}
                logs.update({name: m.result() for name, m in train_metrics.items()})
                if val is not None:
                    result = evaluate_batches(net, loss_fn, val[0], val[1], val_metrics, batch)
                    logs.update({f"val_{k}": v for k, v in result.items()})
                state.logs = logs
                for key, value in logs.items():
                    history.per_epoch.setdefault(key, []).append(value)
                history.epochs_run = epoch + 1
                if bar is not None:
                    bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)
                _call(callbacks, "on_epoch_end", state)
                if state.stop:
                    history.stopped_early = epoch + 1 < epochs or seen < n
                    break
    finally:
        if bar is not None:
            bar.close()
    _call(callbacks, "on_train_end", state)
    return history


def _check_callbacks(callbacks: Sequence[Any]) -> list[Any]:
    if callbacks is None:
        return []
    callbacks = list(callbacks)
    for i, cb in enumerate(callbacks):
        if not any(callable(getattr(cb, hook, None)) for hook in HOOKS):
            raise ConfigError(f"callbacks[{i}] ({cb!r}) has none of the hooks {', '.join(HOOKS)}")
    return callbacks


def _call(callbacks: list[Any], hook: str, state: TrainState) -> None:
    for cb in callbacks:
        method = getattr(cb, hook, None)
        if method is not None:
            method(state)


def _check_validation(
    net: Any, loss_fn: losses_mod.Loss, validation_data: object, width: int
) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ConfigError("validation_data must be a pair (x_val, y_val)")
    xv = net.check_input(validation_data[0], "x_val")
    check_rows(xv.shape[0], validation_data[1], "x_val", "y_val")
    tv = loss_fn.prepare_target(validation_data[1], (xv.shape[0], width), net.compute_dtype)
    return xv, tv


def _diverged(value: float, state: TrainState, batch: int, opt: Any) -> DivergenceError:
    kept = f"the weights of step {state.step}" if state.step else "its initial weights"
    if all(np.isfinite(p.value).all() for p in state.net.parameters()):
        outcome = f"so the network keeps {kept}"
    else:  # rare: the previous update overflowed while its loss was still finite
        outcome = f"but the network's weights ({kept}) already hold inf or NaN"
    err = DivergenceError(
        f"the loss became {value} at step {state.step + 1} (epoch {state.epoch + 1}, "
        f"batch {batch + 1}); training stopped before that step's update, {outcome}. "
        f"Try a smaller learning rate (now {getattr(opt, 'lr', '?')}), or check the "
        "data's scale."
    )
    err.history, err.step = state.history, state.step
    return err

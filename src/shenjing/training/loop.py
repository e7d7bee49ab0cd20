"""The training loop behind ``shenjing.fit`` and ``Sequential.fit``.

One step is the notes' loop body, with shenjing's parts::

    pred = plan.forward(x_batch)                       # forward pass
    loss = loss_fn.forward_unchecked(pred, y_batch)    # the loss, before the update
    plan.backward(loss_fn.backward())                  # backpropagation fills every gradient
    plan.update()                                      # update every parameter in place

When no callback needs every gradient before any update (``on_backward_end``), the last
two are one call, ``plan.backward_update(...)``, which updates each layer inside the
backward pass (the same weights, bit for bit; see :mod:`.step`).

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
from ..base.checks import boolean, check_rows, number, positive_int
from ..base.errors import ConfigError, DivergenceError, ModelFileError
from ..nn.initializers import Seed, as_generator
from . import checkpoint as checkpoint_mod
from . import losses as losses_mod
from . import optim as optim_mod
from . import resume
from . import schedules as schedules_mod
from .batches import Batches, split_validation
from .callbacks import HOOKS, Callback, History, TrainState
from .checkpoint import optimizer_state
from .clipping import Clip
from .evaluation import evaluate_batches, make_metrics
from .interrupts import DeferredInterrupt
from .progress import progress_bar
from .rows import training_input
from .step import StepPlan
from .weighting import WeightedLoss, fit_weights

#: ``fit(divergence=...)``'s default: a finite loss above this many times the first
#: step's loss stops training. A healthy fit stays far below it (the loss rarely rises
#: above its starting value by more than a few times); lr=1e6 on softmax cross-entropy
#: passes it within a few steps.
DIVERGENCE = 1e4


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
    schedule: Any = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    divergence: float | None = DIVERGENCE,
    checkpoint: Any = None,
    checkpoint_every: int | None = None,
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
    shuffle = boolean(shuffle, "shuffle")
    rng = as_generator(seed)
    rng_start = dict(rng.bit_generator.state)
    sched = None if schedule is None else schedules_mod.get(schedule)
    limit = (
        math.inf if divergence is None else number(divergence, "divergence", low=1.0, low_open=True)
    )
    store = checkpoint_mod.store_for(checkpoint)
    every = positive_int(checkpoint_every, "checkpoint_every", allow_none=True)
    if every is not None and store is None:
        raise ConfigError("checkpoint_every needs checkpoint=PATH")
    callbacks = _check_callbacks(callbacks)
    # Only callbacks that override it are called between backward and update, so a
    # fit without them pays one falsy test per step.
    after_backward = [
        cb
        for cb in callbacks
        if callable(getattr(cb, "on_backward_end", None))
        and getattr(type(cb), "on_backward_end", None) is not Callback.on_backward_end
    ]
    clip_limits = Clip.check(clip_norm, clip_value)

    # A checkpoint is read and checked whole before anything changes.
    saved = store.read(net) if store is not None else None
    if saved is not None:
        training = saved[1].get("training")
        if training is None or "optimizer" not in saved[1]:
            raise ModelFileError("the checkpoint has no training or optimizer section")
        # The split is drawn again from the state the first run started from, and later
        # checkpoints keep that state (with seed=None a fresh one would differ).
        rng_start = resume.start_rng(training[0])
        rng.bit_generator.state = rng_start

    X = training_input(net, x)  # an array, or rows read per batch (memmap, Zarr, HDF5)
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
    fingerprint = {
        "rows": n,
        "validation_rows": 0 if val is None else len(val[0]),
        "batch_size": batch,
        "shuffle": shuffle,
        "epochs": epochs,
        "loss": repr(loss_fn),
        "optimizer": type(opt).__name__,
        "optimizer_config": {k: v for k, v in opt.get_config().items() if k != "lr"},
        "schedule": repr(sched),
        "metrics": list(train_metrics),
        "clip": [clip_norm, clip_value],
        "callbacks": [type(cb).__name__ for cb in callbacks],
    }
    if W is not None:  # a checkpoint resumes with the weights it was trained with
        fingerprint["sample_weight_sum"] = float(W.sum())

    if sched is not None:
        sched.start(opt.lr, len(batches), epochs)
    pos, callback_states = resume.Position(), None
    if saved is not None:  # checked whole, then applied
        pos, callback_states = resume.apply_checkpoint(
            saved, fingerprint, n, batches, rng, net, opt, history, sched, callbacks, train_metrics
        )
        state.step, state.stop = len(history.loss), pos.stop
    net.loss, net.history = loss_fn, history

    _call(callbacks, "on_train_begin", state)
    if callback_states is not None:
        resume.load_callbacks(callbacks, callback_states)

    def save(position: resume.Position) -> None:
        assert store is not None
        training = resume.capture(
            fingerprint=fingerprint,
            position=position,
            step=state.step,
            rng_start=rng_start,
            rng=rng,
            net=net,
            history=history,
            schedule=sched,
            callbacks=callbacks,
            metrics=train_metrics,
        )
        sections = {"optimizer": optimizer_state(opt, net.parameters()), "training": training}
        store.write(net, sections)

    # Clipping and on_backward_end callbacks need every gradient before any update: a
    # step that fuses each layer's backward pass with its update must be off for them.
    # After on_train_begin, which may still change the network.
    clip = None if clip_limits == (None, None) else Clip(net.parameters(), *clip_limits)
    plan = StepPlan(net, opt, fuse=not after_backward and clip is None)
    reference = history.loss[0] if history.loss else None  # for the divergence threshold
    bar = (
        None
        if pos.finished
        else progress_bar(progress, epochs * len(batches), desc="fit", unit="step")
    )
    interrupt = DeferredInterrupt()
    # Overflow inside a step surfaces as a non-finite loss, which raises DivergenceError
    # naming the step; NumPy's floating-point warnings on the way would only be noise.
    try:
        with np.errstate(over="ignore", invalid="ignore"), interrupt:
            for epoch in range(pos.epoch, epochs if not pos.finished else pos.epoch):
                state.epoch = epoch
                first = pos.batch if epoch == pos.epoch else 0
                if first == 0:  # a fresh epoch (a resumed one continues its own)
                    _call(callbacks, "on_epoch_begin", state)
                    for m in train_metrics.values():
                        m.reset()
                    order, total, seen = batches.order(), 0.0, 0
                else:
                    order, total, seen = pos.order, pos.total, pos.seen
                for b, (xb, tb, wb) in enumerate(batches.epoch(order, first), start=first):
                    # One step: the notes' loop body.
                    if sched is not None:
                        opt.lr = sched.rate(state.step, epoch)
                    pred = plan.forward(xb)
                    if wb is None:
                        value = to_float(loss_fn.forward_unchecked(pred, tb))  # the host sync
                    else:
                        value = weighted.forward(pred, tb, wb)
                    if reference is None and value > 0:
                        reference = value
                    # "not <=" is also true for NaN.
                    if not math.isfinite(value) or not value <= limit * (reference or math.inf):
                        raise _diverged(value, state, b, opt, limit, reference)
                    for m in train_metrics.values():
                        m.update(pred, tb)
                    dpred = loss_fn.backward() if wb is None else weighted.backward()
                    if plan.fused:  # each layer updated inside its backward pass
                        plan.backward_update(dpred)
                    else:
                        plan.backward(dpred)
                        if after_backward:
                            # This step's batch and loss; state.step still counts the
                            # steps completed before it.
                            state.batch, state.step_loss = b, value
                            state.inputs, state.targets, state.weights = xb, tb, wb
                            _call(after_backward, "on_backward_end", state)
                        if clip is not None:
                            clip()
                        plan.update()

                    history.loss.append(value)
                    history.lr.append(opt.lr)
                    if loss_fn.reduction == "sum":
                        total += value
                    else:  # weighted: Σ value · Σw, over the epoch's Σw (weight_seen)
                        total += value * (len(xb) if wb is None else float(wb.sum()))
                    seen += len(xb)
                    state.batch, state.step_loss, state.step = b, value, state.step + 1
                    if bar is not None:
                        bar.update(1)
                    _call(callbacks, "on_step_end", state)
                    due = every is not None and state.step % every == 0
                    if due or interrupt.pending:  # the position only when it is saved
                        # A callback's stop ends the epoch here: a resumed run must too.
                        here = resume.Position(
                            epoch,
                            len(batches) if state.stop else b + 1,
                            order,
                            total,
                            seen,
                            stop=state.stop,
                        )
                        if due:
                            save(here)
                        if interrupt.pending:
                            raise _interrupted(store, save, here, history)
                    if state.stop:
                        break
                size = seen if W is None else batches.weight_seen(order, seen)
                logs = {"loss": total if loss_fn.reduction == "sum" else total / size}
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
                if sched is not None:
                    sched.on_epoch_end(epoch, logs)
                _call(callbacks, "on_epoch_end", state)
                if state.stop:
                    history.stopped_early = epoch + 1 < epochs or seen < n
                done = state.stop or epoch + 1 == epochs
                if store is not None:
                    save(resume.Position(epoch + 1, finished=done))
                if interrupt.pending:
                    raise _interrupted(None, save, resume.Position(), history)
                if state.stop:
                    break
    finally:
        if bar is not None:
            bar.close()
    _call(callbacks, "on_train_end", state)
    return history


def _interrupted(
    store: Any, save: Any, position: resume.Position, history: History
) -> KeyboardInterrupt:
    """The KeyboardInterrupt a deferred Ctrl-C becomes, after saving a checkpoint."""
    if store is not None:
        save(position)
    err = KeyboardInterrupt(
        f"training interrupted after step {len(history.loss)}; the network holds that "
        "step's weights, and exc.history (or net.history) what was recorded"
    )
    err.history = history  # type: ignore[attr-defined]
    return err


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


def _diverged(
    value: float, state: TrainState, batch: int, opt: Any, limit: float, reference: float | None
) -> DivergenceError:
    kept = f"the weights of step {state.step}" if state.step else "its initial weights"
    if all(np.isfinite(p.value).all() for p in state.net.parameters()):
        outcome = f"so the network keeps {kept}"
    else:  # rare: the previous update overflowed while its loss was still finite
        outcome = f"but the network's weights ({kept}) already hold inf or NaN"
    what = (
        f"the loss became {value}"
        if not math.isfinite(value)
        else f"the loss reached {value:.4g}, over divergence={limit:g} times the first "
        f"step's {reference or 0:.4g}"
    )
    err = DivergenceError(
        f"{what} at step {state.step + 1} (epoch {state.epoch + 1}, "
        f"batch {batch + 1}); training stopped before that step's update, {outcome}. "
        f"Try a smaller learning rate (now {getattr(opt, 'lr', '?')}), or check the "
        "data's scale."
    )
    err.history, err.step = state.history, state.step
    return err

"""The loop's state in a checkpoint: :func:`capture` after a step or an epoch, :func:`restore`.

The ``training`` section (see :mod:`shenjing.training.checkpoint`) holds everything
besides the parameters and the optimizer that the rest of a ``fit`` depends on, so that
a resumed run computes what the uninterrupted one would have, bit for bit:

* the position: the epoch, the next batch of it, that epoch's shuffled order, the
  epoch's running loss sum and metric states, and whether training has ended;
* the RNG's state when ``fit`` started (the validation split is drawn again from it)
  and now; each layer's ``rng_state`` and ``persistent_state()`` where it has them;
* the schedule's :meth:`~shenjing.training.schedules.Schedule.state`, and the state of
  callbacks that have ``checkpoint_state()``/``load_checkpoint_state(d)``;
* the History (per-step losses and rates, per-epoch records) as float64 arrays;
* a fingerprint of the fit's settings: resuming with other settings is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..base.errors import ConfigError, ModelFileError
from .callbacks import History
from .checkpoint import Section, decode, encode, load_optimizer_state

FORMAT = "shenjing-training"
VERSION = 1


@dataclass
class Position:
    """Where a fit stands: the next step is batch ``batch`` of epoch ``epoch``."""

    epoch: int = 0
    batch: int = 0
    order: np.ndarray | None = None  # the epoch's shuffled rows, once mid-epoch
    total: float = 0.0  # the epoch's loss so far (summed as the loop sums it)
    seen: int = 0  # rows of the epoch so far
    finished: bool = False
    stop: bool = False  # a callback asked to stop during this epoch


def capture(
    *,
    fingerprint: dict[str, Any],
    position: Position,
    step: int,
    rng_start: dict[str, Any],
    rng: np.random.Generator,
    net: Any,
    history: History,
    schedule: Any,
    callbacks: list[Any],
    metrics: dict[str, Any],
) -> Section:
    """The ``training`` section for the loop's state now."""
    arrays: dict[str, np.ndarray] = {
        "history.loss": np.asarray(history.loss, np.float64),
        "history.lr": np.asarray(history.lr, np.float64),
    }
    records = list(history.per_epoch)
    for i, name in enumerate(records):
        arrays[f"history.epoch.{i}"] = np.asarray(history.per_epoch[name], np.float64)
    if position.order is not None:
        arrays["order"] = position.order.astype(np.int64)
    layers: dict[str, Any] = {}
    for i, layer in enumerate(net.layers):
        entry: dict[str, Any] = {}
        if hasattr(layer, "rng_state"):
            entry["rng_state"] = encode(layer.rng_state)
        if callable(getattr(layer, "persistent_state", None)):
            keys: list[str] = []
            for key, value in layer.persistent_state().items():
                arrays[f"layer.{i}.{len(keys)}"] = np.asarray(value)
                keys.append(key)
            entry["persistent"] = keys
        if entry:
            layers[str(i)] = entry
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "fingerprint": encode(fingerprint),
        "position": {
            "epoch": position.epoch,
            "batch": position.batch,
            "step": step,
            "total": encode(position.total),
            "seen": position.seen,
            "finished": position.finished,
            "stop": position.stop,
            "metrics": {k: encode(vars(m)) for k, m in metrics.items()} if position.batch else {},
        },
        "rng_start": encode(rng_start),
        "rng": encode(rng.bit_generator.state),
        "layers": layers,
        "schedule": None if schedule is None else encode(schedule.state()),
        "callbacks": [
            encode(cb.checkpoint_state())
            if callable(getattr(cb, "checkpoint_state", None))
            else None
            for cb in callbacks
        ],
        "history": {
            "records": records,
            "epochs_run": history.epochs_run,
            "stopped_early": history.stopped_early,
            "best_epoch": history.best_epoch,
        },
    }
    return doc, arrays


def check_fingerprint(doc: dict[str, Any], fingerprint: dict[str, Any]) -> None:
    """Refuse a checkpoint written by a fit with other settings (a ConfigError)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ModelFileError(f"the training section is not {FORMAT} version {VERSION}")
    saved = decode(doc.get("fingerprint"))
    now = decode(encode(fingerprint))  # as JSON gives it back: tuples as lists
    if saved != now:
        keys = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
        diff = "; ".join(f"{k}: {saved.get(k)!r} there, {now.get(k)!r} here" for k in keys[:4])
        raise ConfigError(
            f"the checkpoint was written by a fit with other settings ({diff}); give "
            "another checkpoint path, or delete this one to start again"
        )


def start_rng(doc: dict[str, Any]) -> dict[str, Any]:
    """The RNG state the checkpointed fit started from."""
    return _rng_state(doc.get("rng_start"))


def restore(
    doc: dict[str, Any],
    arrays: dict[str, np.ndarray],
    *,
    n_rows: int,
    n_batches: int,
    rng: np.random.Generator,
    net: Any,
    history: History,
    schedule: Any,
    callbacks: list[Any],
    metrics: dict[str, Any],
) -> tuple[Position, int, list[Any]]:
    """Put the section's state back; returns the position, the steps done and the
    callbacks' states (for :func:`load_callbacks`).

    Everything is read and checked first; only then is anything changed, so a
    malformed section (a :class:`ModelFileError`) leaves the fit untouched.
    """
    try:
        pos = doc["position"]
        position = Position(
            epoch=_int(pos["epoch"]),
            batch=_int(pos["batch"]),
            total=float(decode(pos["total"])),
            seen=_int(pos["seen"]),
            finished=bool(pos["finished"]),
            stop=bool(pos["stop"]),
        )
        step = _int(pos["step"])
        metric_states = {k: decode(v) for k, v in pos["metrics"].items()}
        rng_now = _rng_state(doc["rng"])
        h = doc["history"]
        records = h["records"]
        per_epoch = {name: arrays[f"history.epoch.{i}"].tolist() for i, name in enumerate(records)}
        loss, lr = arrays["history.loss"].tolist(), arrays["history.lr"].tolist()
        layer_states = _layer_states(doc["layers"], arrays, net)
        sched_state = doc["schedule"]
        cb_states = doc["callbacks"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelFileError(f"the training section is malformed: {exc!r:.200}") from exc
    if position.batch:
        order = arrays.get("order")
        if (
            order is None
            or order.shape != (n_rows,)
            or not np.array_equal(np.sort(order), np.arange(n_rows))
        ):
            raise ModelFileError("the checkpoint's shuffle order is not a permutation of the rows")
        position.order = order
    if not (0 <= position.batch <= n_batches and len(loss) == len(lr) == step):
        raise ModelFileError("the checkpoint's position and History disagree")
    if set(metric_states) - set(metrics) or (schedule is None) != (sched_state is None):
        raise ModelFileError("the checkpoint's metrics or schedule differ from this fit's")
    if not isinstance(cb_states, list) or len(cb_states) != len(callbacks):
        raise ModelFileError("the checkpoint holds state for another number of callbacks")
    # Checked; now apply. Setting an RNG state validates it too, so do that first.
    probe = np.random.Generator(type(rng.bit_generator)())
    try:
        probe.bit_generator.state = rng_now
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelFileError(f"the checkpoint's RNG state is malformed: {exc}") from exc
    rng.bit_generator.state = rng_now
    for layer, (rng_state, persistent) in layer_states:
        if rng_state is not None:
            layer.rng_state = rng_state
        if persistent is not None:
            layer.load_persistent_state(persistent)
    history.loss[:], history.lr[:] = loss, lr
    history.per_epoch.clear()
    history.per_epoch.update(per_epoch)
    history.epochs_run = _int(h["epochs_run"])
    history.stopped_early = bool(h["stopped_early"])
    history.best_epoch = None if h["best_epoch"] is None else _int(h["best_epoch"])
    for name, state in metric_states.items():
        vars(metrics[name]).update(state)
    if schedule is not None:
        schedule.load_state(decode(sched_state))
    return position, step, cb_states


def load_callbacks(callbacks: list[Any], states: list[Any]) -> None:
    """Give each callback its saved state (after its ``on_train_begin`` reset it)."""
    for cb, state in zip(callbacks, states, strict=True):
        if state is not None and callable(getattr(cb, "load_checkpoint_state", None)):
            cb.load_checkpoint_state(decode(state))


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected an integer >= 0, got {value!r:.40}")
    return value


def _rng_state(value: Any) -> dict[str, Any]:
    state = decode(value)
    if not isinstance(state, dict) or not isinstance(state.get("bit_generator"), str):
        raise ModelFileError("the checkpoint's RNG state is malformed")
    return state


def _layer_states(
    layers: dict[str, Any], arrays: dict[str, np.ndarray], net: Any
) -> list[tuple[Any, tuple[Any, dict[str, np.ndarray] | None]]]:
    out = []
    for key, entry in layers.items():
        layer = net.layers[int(key)]
        rng_state = decode(entry["rng_state"]) if "rng_state" in entry else None
        persistent = None
        if "persistent" in entry:
            persistent = {k: arrays[f"layer.{key}.{j}"] for j, k in enumerate(entry["persistent"])}
        out.append((layer, (rng_state, persistent)))
    return out


def apply_checkpoint(
    saved: Any,
    fingerprint: dict[str, Any],
    n: int,
    batches: Any,
    rng: np.random.Generator,
    net: Any,
    opt: Any,
    history: History,
    sched: Any,
    callbacks: list[Any],
    train_metrics: dict[str, Any],
) -> tuple[Position, list[Any]]:
    """Put a checkpoint's state into this fit: every part checked before any is applied.

    Returns the position and the callbacks' states, loaded after ``on_train_begin``.
    """
    params, sections = saved
    doc, arrays = sections["training"]
    check_fingerprint(doc, fingerprint)
    live = net.parameters()
    probe = type(opt)(**opt.get_config())  # the optimizer state, checked on a spare
    opt_doc, opt_arrays = sections["optimizer"]
    load_optimizer_state(probe, opt_doc, opt_arrays, live)
    pos, _, callback_states = restore(
        doc,
        arrays,
        n_rows=n,
        n_batches=len(batches),
        rng=rng,
        net=net,
        history=history,
        schedule=sched,
        callbacks=callbacks,
        metrics=train_metrics,
    )
    opt.state.clear()
    opt.state.update(probe.state)
    for p in live:
        p.value[...] = params[p.name]
    return pos, callback_states

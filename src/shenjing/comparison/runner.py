"""Running a comparison: every (variant, seed) trained and measured, here or in parallel."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..base.checks import as_dtype, number, positive_int
from ..base.errors import ConfigError, DivergenceError
from ..diagnosis.diagnostics import diagnose
from ..network.sequential import Sequential
from ..nn.initializers import INITIALIZERS
from ..training import optim as optim_mod
from ..training.progress import progress_bar
from .result import CompareResult, Run
from .spec import (
    DEFAULT_ACTIVATIONS,
    Variant,
    _load_dataset,
    _seeds,
    _task,
    _variants,
    build_network,
)
from .units import PER_ACTIVATION, UnitTracker, init_for


def compare(
    dataset: str | tuple[Any, Any] = "spiral",
    activations: Iterable[str] = DEFAULT_ACTIVATIONS,
    hidden: Iterable[int] | Iterable[Iterable[int]] = (64,),
    seeds: int | Iterable[int] = 3,
    epochs: int = 300,
    lr: float = 1e-2,
    optimizer: str = "adam",
    batch_size: int | None = None,
    target_fraction: float = 0.25,
    init: str = "xavier",
    dtype: Any = "float64",
    data_seed: int = 0,
    jobs: int = 1,
    progress: bool = False,
    scheduler: Any = None,
    error_threshold: float | None = None,
) -> CompareResult:
    """Train every (activation, architecture) variant from every seed and measure it.

    Args:
        dataset: a name from :data:`shenjing.datasets.NAMES` (generated from
            ``data_seed``), or ``(x, y)``. Integer labels make it a classification
            (softmax cross-entropy, accuracy); real targets a regression (mean squared
            error). XOR's (4, 1) labels are read as classes.
        activations: hidden activations by name, e.g. ``["sigmoid", "relu"]``; ``"maxout"``
            uses two-piece :class:`~shenjing.Maxout` layers.
        hidden: the hidden widths, ``(64,)``, or several architectures,
            ``[(64,), (8, 8, 8, 8)]``: one variant per activation and architecture.
        seeds: how many seeds (0, 1, …) or the seeds themselves.
        epochs: passes over the data; with the default full batch, one step each.
        lr: learning rate. optimizer: an optimizer name (``"adam"``, ``"sgd"``…).
        batch_size: rows per step, ``None`` (default) for the full batch.
        target_fraction: in (0, 1); ``steps_to_target`` counts the steps until the loss
            is at most this fraction of the first step's loss.
        init: weight initialiser of every layer (the same for every variant, so only
            the activation differs), or ``"per_activation"``: He for the ReLU family
            and maxout, Xavier for sigmoid and tanh (:func:`~.units.init_for`).
        dtype: ``"float64"`` (default) or ``"float32"``.
        data_seed: seed of a generated dataset.
        jobs: runs in parallel (joblib; ``-1`` for every core). ``1`` runs in this
            process and needs no joblib, with one BLAS thread (see
            :func:`one_blas_thread`).
        progress: show a progress bar over the runs (needs tqdm).
        scheduler: run on a Dask cluster: the scheduler's address
            (``"tcp://HOST:8786"``) or a :class:`distributed.Client`; every run is one
            task of joblib's Dask backend (see :func:`on_cluster`), ``jobs`` at a time
            (``1`` or ``-1``: as many as the cluster has worker threads). The results
            are the same as a run here.
        error_threshold: Krizhevsky et al.'s criterion (2012, Fig. 1: epochs to 25%
            training error): in (0, 1), ``epochs_to_error`` counts the epochs until the
            training error (1 − the epoch's accuracy, measured on each batch before its
            update) is at most this. Classification only; ``None`` (default) skips it.

    Every run also tracks its ReLU-family units (:class:`~.units.UnitTracker`): the
    share that stopped firing for every input at some point (``died_fraction``) and how
    many of those fired again later (``revived``).

    Returns:
        A :class:`CompareResult`.

    Raises:
        ConfigError: an unknown dataset, activation or optimizer, or a bad value.
    """
    x, y, name = _load_dataset(dataset, data_seed)
    task, y = _task(y)
    variants = _variants(activations, hidden)
    seed_list = _seeds(seeds)
    spec = {
        "task": task,
        "epochs": positive_int(epochs, "epochs"),
        "lr": number(lr, "lr", low=0.0, low_open=True),
        "optimizer": optimizer,
        "batch_size": positive_int(batch_size, "batch_size", allow_none=True),
        "target_fraction": number(
            target_fraction, "target_fraction", low=0.0, high=1.0, low_open=True, high_open=True
        ),
        "init": init,
        "dtype": as_dtype(dtype).name,
        "error_threshold": None
        if error_threshold is None
        else number(
            error_threshold, "error_threshold", low=0.0, high=1.0, low_open=True, high_open=True
        ),
    }
    # Names only: one optimizer instance shared by every run would share its state.
    if not isinstance(optimizer, str) or not isinstance(init, str):
        raise ConfigError(
            f"optimizer and init must be names (each run builds its own), got "
            f"{optimizer!r} and {init!r}"
        )
    # Fail now, naming the option, rather than inside every run (or worker).
    optim_mod.get(optimizer, lr=spec["lr"])
    if init != PER_ACTIVATION:
        INITIALIZERS.get(init)
    if spec["error_threshold"] is not None and task != "classification":
        raise ConfigError("error_threshold needs a classification (training error)")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0 or jobs < -1:
        raise ConfigError(f"jobs must be a positive integer or -1 (every core), got {jobs!r}")
    n = x.shape[0]
    per_epoch = 1 if spec["batch_size"] is None else -(-n // min(spec["batch_size"], n))
    spec["steps"] = spec["epochs"] * per_epoch
    tasks = [(v, s) for v in variants for s in seed_list]
    results = _map(x, y, tasks, spec, jobs, progress, scheduler)
    runs: dict[str, list[Run]] = {v.name: [] for v in variants}
    for (v, _s), run in zip(tasks, results, strict=True):
        runs[v.name].append(run)
    settings = {"dataset": name, "samples": int(x.shape[0]), "seeds": seed_list, **spec}
    settings["data_seed"] = data_seed
    return CompareResult(variants, runs, settings)


def steps_to_fraction(losses: Sequence[float] | np.ndarray, fraction: float) -> int | None:
    """First step (1-based) whose loss is at most ``fraction`` × the first loss, or None.

    Example:
        >>> steps_to_fraction([4.0, 3.0, 0.9, 1.5], 0.25)
        3
        >>> steps_to_fraction([4.0, 3.0], 0.25) is None
        True
    """
    values = np.asarray(losses, dtype=np.float64)
    hit = np.flatnonzero(values <= fraction * values[0])
    return int(hit[0]) + 1 if hit.size else None


def one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    """A context that limits BLAS to one thread, when threadpoolctl is installed.

    Small networks gain nothing from BLAS threads, and on a machine with more BLAS
    threads than free cores they wait on each other: on two shared, busy cores a
    five-variant sweep on the digits took 20.8 s with the default threads and 2.7 s with
    one. joblib limits its own workers' threads (``jobs != 1``) to cores ÷ jobs.
    threadpoolctl comes with scikit-learn; without it this does nothing.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# -- internals -------------------------------------------------------------------------


def _train_one(x: np.ndarray, y: np.ndarray, v: Variant, seed: int, spec: dict) -> Run:
    classification = spec["task"] == "classification"
    out = int(y.max()) + 1 if classification else y.shape[1]
    init = init_for(v.activation, spec["init"])
    net = build_network(v.activation, v.hidden, x.shape[1], out, seed, init, spec["dtype"])
    loss = "softmax_cross_entropy" if classification else "mse"
    # About 100 checks of the units a run, whatever its length (each is a forward pass).
    tracker = UnitTracker(x, every=max(1, spec["steps"] // 100))
    start = time.perf_counter()
    try:
        history = net.fit(
            x,
            y,
            loss=loss,
            optimizer=optim_mod.get(spec["optimizer"], lr=spec["lr"]),
            epochs=spec["epochs"],
            batch_size=spec["batch_size"],
            shuffle=spec["batch_size"] is not None,
            seed=seed,
            metrics=["accuracy"] if classification else [],
            callbacks=[tracker],
        )
    except DivergenceError as exc:
        # One run blowing up is a result of the comparison, not a failure of it.
        seconds = time.perf_counter() - start
        done = np.asarray(exc.history.loss, dtype=np.float64)
        losses = np.full(spec["steps"], np.nan)
        losses[: done.size] = done
        return Run(
            seed=seed,
            losses=losses,
            final_loss=math.nan,
            accuracy=None,
            steps_to_target=steps_to_fraction(done, spec["target_fraction"]) if done.size else None,
            dead_fraction=None,
            saturated_fraction=None,
            seconds=seconds,
            diverged_at=exc.step + 1,
            epochs_to_error=_epochs_to_error(exc.history.per_epoch.get("accuracy"), spec),
            **_unit_fields(tracker),
        )
    seconds = time.perf_counter() - start
    final = net.evaluate(x, y, metrics=["accuracy"] if classification else [])
    dead, saturated = _unit_fractions(net, x)
    losses = np.asarray(history.loss, dtype=np.float64)
    return Run(
        seed=seed,
        losses=losses,
        final_loss=float(final["loss"]),
        accuracy=float(final["accuracy"]) if classification else None,
        steps_to_target=steps_to_fraction(losses, spec["target_fraction"]),
        dead_fraction=dead,
        saturated_fraction=saturated,
        seconds=seconds,
        epochs_to_error=_epochs_to_error(history.per_epoch.get("accuracy"), spec),
        **_unit_fields(tracker),
    )


def _unit_fields(tracker: UnitTracker) -> dict[str, Any]:
    """What a :class:`Run` keeps of a :class:`UnitTracker`."""
    return {
        "died_fraction": tracker.died_fraction,
        "died": int(tracker.died.sum()),
        "revived": tracker.revived_count,
        "silent_steps": np.asarray(tracker.steps, dtype=np.int64),
        "silent": np.asarray(tracker.silent, dtype=np.float64),
    }


def _epochs_to_error(accuracy: Sequence[float] | None, spec: dict) -> int | None:
    """First epoch (1-based) whose training error is at most the threshold, or None."""
    threshold = spec["error_threshold"]
    if threshold is None or not accuracy:
        return None
    hit = np.flatnonzero(1.0 - np.asarray(accuracy, dtype=np.float64) <= threshold)
    return int(hit[0]) + 1 if hit.size else None


def _unit_fractions(net: Sequential, x: np.ndarray) -> tuple[float | None, float | None]:
    """Share of hidden units dead and saturated, from :func:`shenjing.diagnose`.

    Layers where a measure does not apply report ``None`` and are left out; the share
    is over the units of the layers where it applies, ``None`` if there are none.
    """
    report = diagnose(net, x)
    return (_pooled(report.layers, "dead_fraction"), _pooled(report.layers, "saturated_fraction"))


def _pooled(layers: Iterable[Any], attr: str) -> float | None:
    total = weight = 0.0
    for layer in layers:
        value = getattr(layer, attr, None)
        if value is None:
            continue
        units = getattr(layer, "units", 1) or 1
        total += value * units
        weight += units
    return total / weight if weight else None


def _map(
    x: np.ndarray,
    y: np.ndarray,
    tasks: list[tuple[Variant, int]],
    spec: dict,
    jobs: int,
    progress: bool,
    scheduler: Any = None,
) -> list[Run]:
    """``_train_one`` for every (variant, seed), in order; in parallel when ``jobs != 1``."""
    bar = progress_bar(progress, len(tasks), desc="compare", unit="run")
    try:
        if scheduler is not None:
            from .cluster import on_cluster

            with on_cluster(scheduler):
                return _parallel(x, y, tasks, spec, -1 if jobs == 1 else jobs, bar)
        if jobs == 1:
            results = []
            with one_blas_thread():
                for v, seed in tasks:
                    results.append(_train_one(x, y, v, seed, spec))
                    if bar is not None:
                        bar.update(1)
            return results
        return _parallel(x, y, tasks, spec, jobs, bar)
    finally:
        if bar is not None:
            bar.close()


def _parallel(
    x: np.ndarray, y: np.ndarray, tasks: list[tuple[Variant, int]], spec: dict, jobs: int, bar: Any
) -> list[Run]:
    """The runs through joblib, on its current backend (processes here, or Dask)."""
    try:
        from joblib import Parallel, delayed
    except ImportError as exc:
        raise ConfigError(f"jobs={jobs} needs joblib: pip install 'shenjing[cli]'") from exc
    results = []
    parallel = Parallel(n_jobs=jobs, return_as="generator")
    for run in parallel(delayed(_train_alone)(x, y, v, seed, spec) for v, seed in tasks):
        results.append(run)
        if bar is not None:
            bar.update(1)
    return results


def _train_alone(x: np.ndarray, y: np.ndarray, v: Variant, seed: int, spec: dict) -> Run:
    """One run in a worker, with one BLAS thread (a Dask worker does not limit them)."""
    with one_blas_thread():
        return _train_one(x, y, v, seed, spec)

"""Train the same network once per activation (or architecture) over several seeds.

The notes claim that ReLU "greatly accelerates" convergence compared with sigmoid and
tanh, that sigmoid units saturate and that ReLU units can die. :func:`compare` measures
those claims on a built-in dataset (or your own): every variant — one activation and
one list of hidden widths — is trained from ``seeds`` different initialisations with the
same data, optimizer and number of steps, and reported as

* ``final_loss``: the loss over the whole training set after training;
* ``accuracy``: training-set accuracy (classification only; ``None`` for regression);
* ``steps_to_target``: the first step whose loss is at most ``target_fraction`` times
  the loss of step 1 (``None`` if training never got there) — the convergence claim;
* ``dead_fraction`` / ``saturated_fraction``: the share of hidden units that are dead or
  saturated at the end, on the training data, as :func:`shenjing.diagnose` measures them:
  dead for ReLU (output 0 on every input), leaky ReLU (input never positive) and maxout
  (a piece that never wins); saturated for sigmoid and tanh. ``None`` where the idea
  does not apply.

Every run is full-batch by default (``batch_size=None``), so a loss curve is a property
of the network and its seed, not of a shuffle.

Example:
    >>> import shenjing as sj
    >>> result = sj.compare("xor", activations=["relu", "tanh"], seeds=2, epochs=20,
    ...                     optimizer="adam", lr=0.05)
    >>> [row["variant"] for row in result.table()]
    ['relu', 'tanh']
    >>> result.curves("relu").shape       # (seeds, steps)
    (2, 20)
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .base.checks import as_dtype, number, positive_int
from .base.errors import ConfigError, DivergenceError
from .data import datasets as datasets_mod
from .diagnosis.diagnostics import diagnose
from .network.sequential import Sequential
from .nn import activations as activations_mod
from .nn.initializers import INITIALIZERS, as_generator
from .nn.linear import Linear
from .nn.maxout import Maxout
from .training import optim as optim_mod

#: Activations :func:`compare` accepts: the activation registry's names, plus "maxout"
#: (a two-piece Maxout layer in place of each Linear + activation).
MAXOUT = "maxout"
#: The notes' five, the default of :func:`compare`.
DEFAULT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "maxout")
#: Columns of :meth:`CompareResult.table`, in order.
COLUMNS = (
    "variant",
    "activation",
    "hidden",
    "seeds",
    "final_loss",
    "final_loss_min",
    "final_loss_max",
    "accuracy",
    "steps_to_target",
    "reached_target",
    "dead_fraction",
    "saturated_fraction",
    "diverged",
)


@dataclass(frozen=True)
class Variant:
    """One network to compare: a hidden activation and the hidden layers' widths."""

    name: str
    activation: str
    hidden: tuple[int, ...]

    @property
    def hidden_text(self) -> str:
        return "-".join(str(h) for h in self.hidden)


@dataclass(frozen=True)
class Run:
    """One variant trained from one seed.

    Attributes:
        seed: seed of the weights (and of the shuffle, when there is one).
        losses: (steps,) float64, the loss of every step before its update.
        final_loss: loss over the whole training set after training.
        accuracy: training-set accuracy, ``None`` for regression.
        steps_to_target: first step (1-based) with loss ≤ target_fraction · loss of
            step 1, or ``None``.
        dead_fraction, saturated_fraction: share of hidden units, or ``None`` where it
            does not apply.
        seconds: wall time of the training.
        diverged_at: the step (1-based) whose loss was NaN or inf, or ``None``. A
            diverged run's later losses and its final loss are NaN; its accuracy and
            unit fractions are ``None``.
    """

    seed: int
    losses: np.ndarray
    final_loss: float
    accuracy: float | None
    steps_to_target: int | None
    dead_fraction: float | None
    saturated_fraction: float | None
    seconds: float
    diverged_at: int | None = None


@dataclass
class CompareResult:
    """What :func:`compare` measured: runs per variant, and how they were made.

    Attributes:
        variants: the variants, in the order they were given.
        runs: variant name → one :class:`Run` per seed, in seed order.
        settings: the dataset, task, optimizer, learning rate, epochs, batch size,
            target fraction and seeds used (JSON-ready).
    """

    variants: list[Variant]
    runs: dict[str, list[Run]]
    settings: dict[str, Any] = field(default_factory=dict)

    def curves(self, name: str) -> np.ndarray:
        """Loss curves of variant ``name``: (seeds, steps) float64 (NaN after a divergence)."""
        if name not in self.runs:
            raise ConfigError(f"Unknown variant {name!r}; variants: {', '.join(self.runs)}")
        return np.stack([run.losses for run in self.runs[name]])

    def table(self) -> list[dict[str, Any]]:
        """One row per variant (keys :data:`COLUMNS`): medians over seeds.

        ``final_loss``, ``accuracy`` and ``steps_to_target`` are medians over the
        seeds (``steps_to_target`` over the seeds that reached the target, ``None`` if
        none did; ``reached_target`` says how many did); ``final_loss_min``/``_max``
        give the spread; the unit fractions are means over the seeds. Runs that
        diverged (``diverged`` counts them) are left out of the medians and means; if
        every run diverged, the losses are NaN.
        """
        rows = []
        for v in self.variants:
            runs = self.runs[v.name]
            finite = [r.final_loss for r in runs if r.diverged_at is None]
            final = finite or [math.nan]
            reached = [
                r.steps_to_target
                for r in runs
                if r.steps_to_target is not None and r.diverged_at is None
            ]
            rows.append(
                {
                    "variant": v.name,
                    "activation": v.activation,
                    "hidden": v.hidden_text,
                    "seeds": len(runs),
                    "final_loss": float(np.median(final)),
                    "final_loss_min": float(np.min(final)),
                    "final_loss_max": float(np.max(final)),
                    "accuracy": _median_or_none([r.accuracy for r in runs]),
                    "steps_to_target": _median_or_none(reached),
                    "reached_target": len(reached),
                    "dead_fraction": _mean_or_none([r.dead_fraction for r in runs]),
                    "saturated_fraction": _mean_or_none([r.saturated_fraction for r in runs]),
                    "diverged": sum(r.diverged_at is not None for r in runs),
                }
            )
        return rows

    def format_table(self) -> str:
        """The table as fixed-width text, one line per variant."""
        header = f"{'variant':<18} {'final loss':>10} {'accuracy':>8} {'steps':>10} "
        header += f"{'dead':>6} {'saturated':>9}"
        lines = [header]
        for row in self.table():
            steps = "never" if row["steps_to_target"] is None else f"{row['steps_to_target']:g}"
            if row["steps_to_target"] is not None and row["reached_target"] < row["seeds"]:
                steps += f" ({row['reached_target']}/{row['seeds']})"
            if row["diverged"]:
                steps += f", {row['diverged']}/{row['seeds']} diverged"
            lines.append(
                f"{row['variant']:<18} {row['final_loss']:>10.4g} "
                f"{_percent(row['accuracy']):>8} {steps:>10} "
                f"{_percent(row['dead_fraction']):>6} {_percent(row['saturated_fraction']):>9}"
            )
        return "\n".join(lines)

    def to_csv(self, path: str) -> None:
        """Write :meth:`table` as CSV (empty cells for ``None``), atomically."""
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.table():
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        _write_text(path, text.getvalue())

    def to_json(self, path: str) -> None:
        """Write the settings, :meth:`table` and every run's summary as JSON, atomically.

        The loss curves themselves are left out (see :meth:`curves`), to keep the file
        small; ``null`` stands for ``None`` and for NaN (a diverged run's loss).
        """
        runs = {
            name: [
                {
                    "seed": r.seed,
                    "steps": len(r.losses),
                    "first_loss": _finite_or_none(r.losses[0]),
                    "final_loss": _finite_or_none(r.final_loss),
                    "diverged_at": r.diverged_at,
                    "accuracy": r.accuracy,
                    "steps_to_target": r.steps_to_target,
                    "dead_fraction": r.dead_fraction,
                    "saturated_fraction": r.saturated_fraction,
                    "seconds": round(r.seconds, 4),
                }
                for r in runs
            ]
            for name, runs in self.runs.items()
        }
        table = [
            {k: _finite_or_none(v) if isinstance(v, float) else v for k, v in row.items()}
            for row in self.table()
        ]
        document = {"settings": self.settings, "table": table, "runs": runs}
        _write_text(path, json.dumps(document, indent=2, allow_nan=False) + "\n")

    def __repr__(self) -> str:
        seeds = len(next(iter(self.runs.values()), []))
        return (
            f"CompareResult({len(self.variants)} variants × {seeds} seeds on "
            f"{self.settings.get('dataset', '?')!r})"
        )


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
            the activation differs).
        dtype: ``"float64"`` (default) or ``"float32"``.
        data_seed: seed of a generated dataset.
        jobs: runs in parallel (joblib; ``-1`` for every core). ``1`` runs in this
            process and needs no joblib, with one BLAS thread (see
            :func:`one_blas_thread`).
        progress: show a progress bar over the runs (needs tqdm).

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
    }
    # Names only: one optimizer instance shared by every run would share its state.
    if not isinstance(optimizer, str) or not isinstance(init, str):
        raise ConfigError(
            f"optimizer and init must be names (each run builds its own), got "
            f"{optimizer!r} and {init!r}"
        )
    # Fail now, naming the option, rather than inside every run (or worker).
    optim_mod.get(optimizer, lr=spec["lr"])
    INITIALIZERS.get(init)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0 or jobs < -1:
        raise ConfigError(f"jobs must be a positive integer or -1 (every core), got {jobs!r}")
    n = x.shape[0]
    per_epoch = 1 if spec["batch_size"] is None else -(-n // min(spec["batch_size"], n))
    spec["steps"] = spec["epochs"] * per_epoch
    tasks = [(v, s) for v in variants for s in seed_list]
    results = _map(x, y, tasks, spec, jobs, progress)
    runs: dict[str, list[Run]] = {v.name: [] for v in variants}
    for (v, _s), run in zip(tasks, results, strict=True):
        runs[v.name].append(run)
    settings = {"dataset": name, "samples": int(x.shape[0]), "seeds": seed_list, **spec}
    settings["data_seed"] = data_seed
    return CompareResult(variants, runs, settings)


def build_network(
    activation: str,
    hidden: Sequence[int],
    in_features: int,
    out_features: int,
    seed: int,
    init: str = "xavier",
    dtype: Any = "float64",
) -> Sequential:
    """The network one variant trains: ``[Linear → activation] × len(hidden) → Linear``.

    With ``activation="maxout"`` each ``Linear → activation`` pair is one two-piece
    :class:`~shenjing.Maxout` layer. Every layer's weights come from one generator
    seeded with ``seed``, so a seed fixes the whole network.
    """
    rng = as_generator(seed)
    layers: list[Any] = []
    width = in_features
    for h in hidden:
        if activation == MAXOUT:
            layers.append(Maxout(width, h, pieces=2, init=init, dtype=dtype, seed=rng))
        else:
            layers += [Linear(width, h, init=init, dtype=dtype, seed=rng)]
            layers.append(activations_mod.get(activation))
        width = h
    layers.append(Linear(width, out_features, init=init, dtype=dtype, seed=rng))
    return Sequential(*layers)


def steps_to_fraction(losses: Sequence[float], fraction: float) -> int | None:
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


def _load_dataset(dataset: Any, data_seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    if isinstance(dataset, str):
        x, y = datasets_mod.load(dataset, seed=data_seed)
        return np.asarray(x, dtype=np.float64), y, dataset
    if isinstance(dataset, tuple) and len(dataset) == 2:
        x, y = (np.asarray(a) for a in dataset)
        if x.ndim != 2 or x.shape[0] == 0 or len(y) != x.shape[0]:
            raise ConfigError(
                f"dataset=(x, y) needs x of shape (N, D) and y with N rows, got "
                f"{x.shape} and {y.shape}"
            )
        return x, y, "(x, y)"
    raise ConfigError(
        f"dataset must be a name ({', '.join(datasets_mod.NAMES)}) or a tuple (x, y), "
        f"got {dataset!r}"
    )


def _task(y: np.ndarray) -> tuple[str, np.ndarray]:
    y = np.asarray(y)
    if y.dtype.kind in "biu":
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ConfigError(f"class labels must be of shape (N,) or (N, 1), got {y.shape}")
        return "classification", y.astype(np.int64)
    return "regression", (y[:, None] if y.ndim == 1 else y).astype(np.float64)


def _variants(activations: Iterable[str], hidden: Any) -> list[Variant]:
    if isinstance(activations, str):
        activations = [activations]
    acts = [str(a).strip().lower().replace("-", "_") for a in activations]
    if not acts:
        raise ConfigError("activations must name at least one activation")
    for a in acts:
        if a != MAXOUT:
            activations_mod.ACTIVATIONS.get(a)  # ConfigError listing the valid names
    archs = _architectures(hidden)
    variants = []
    for arch in archs:
        for a in acts:
            # "relu", or "relu 8-8-8-8" when several architectures are compared.
            name = f"{a} {'-'.join(map(str, arch))}" if len(archs) > 1 else a
            variants.append(Variant(name, a, arch))
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ConfigError(f"variants must differ; got {', '.join(names)}")
    return variants


def _architectures(hidden: Any) -> list[tuple[int, ...]]:
    items = list(hidden)
    if not items:
        raise ConfigError("hidden must give at least one hidden width")
    if all(isinstance(h, (int, np.integer)) and not isinstance(h, bool) for h in items):
        items = [items]
    archs = []
    for arch in items:
        widths = tuple(positive_int(h, "hidden width") for h in arch)
        if not widths:
            raise ConfigError("each architecture in hidden needs at least one width")
        archs.append(widths)
    return archs


def _seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return list(range(positive_int(seeds, "seeds")))
    values = list(seeds)
    if not values or len(set(values)) != len(values):
        raise ConfigError(f"seeds must be a count or distinct seeds, got {seeds!r}")
    for s in values:
        as_generator(s, "seeds")  # a non-negative int
    return [int(s) for s in values]


def _train_one(x: np.ndarray, y: np.ndarray, v: Variant, seed: int, spec: dict) -> Run:
    classification = spec["task"] == "classification"
    out = int(y.max()) + 1 if classification else y.shape[1]
    net = build_network(v.activation, v.hidden, x.shape[1], out, seed, spec["init"], spec["dtype"])
    loss = "softmax_cross_entropy" if classification else "mse"
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
    )


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
) -> list[Run]:
    """``_train_one`` for every (variant, seed), in order; in parallel when ``jobs != 1``."""
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:
            raise ConfigError("progress=True needs tqdm: pip install 'shenjing[progress]'") from exc
        bar = tqdm(total=len(tasks), unit="run", desc="compare")
    try:
        if jobs == 1:
            results = []
            with one_blas_thread():
                for v, seed in tasks:
                    results.append(_train_one(x, y, v, seed, spec))
                    if bar is not None:
                        bar.update(1)
            return results
        try:
            from joblib import Parallel, delayed
        except ImportError as exc:
            raise ConfigError(f"jobs={jobs} needs joblib: pip install 'shenjing[cli]'") from exc
        results = []
        parallel = Parallel(n_jobs=jobs, return_as="generator")
        for run in parallel(delayed(_train_one)(x, y, v, seed, spec) for v, seed in tasks):
            results.append(run)
            if bar is not None:
                bar.update(1)
        return results
    finally:
        if bar is not None:
            bar.close()


def _median_or_none(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.median(kept)) if kept else None


def _mean_or_none(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _finite_or_none(value: Any) -> Any:
    return None if value is None or not math.isfinite(value) else float(value)


def _percent(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def _write_text(path: str, text: str) -> None:
    from pathlib import Path

    from .base.errors import ConfigError
    from .base.files import atomic_write

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(text.encode("utf-8")), error=ConfigError)

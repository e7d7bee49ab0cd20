"""What :func:`~shenjing.comparison.compare` measured, as a table, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..base.errors import ConfigError
from .spec import Variant

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
    "died_fraction",
    "revived_fraction",
    "epochs_to_error",
    "reached_error",
)


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
        epochs_to_error: first epoch (1-based) whose training error was at most the
            ``error_threshold``, or ``None`` (not reached, or not asked for).
        died_fraction: share of the ReLU-family hidden units that fired for no
            training input at some check during training (see
            :class:`~.units.UnitTracker`); ``None`` for other activations.
        died, revived: how many units died, and how many of those fired again later.
        silent_steps, silent: (C,) the steps checked and the fraction of units silent
            (firing for no input) at each.
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
    epochs_to_error: int | None = None
    died_fraction: float | None = None
    died: int = 0
    revived: int = 0
    silent_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    silent: np.ndarray = field(default_factory=lambda: np.zeros(0))


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
        every run diverged, the losses are NaN. ``died_fraction`` is the mean over
        every seed (diverged or not) of the share of units that stopped firing at some
        point; ``revived_fraction`` the share of those, pooled over the seeds, that fired
        again later (``None`` where none died). ``epochs_to_error`` is the median over
        the seeds that reached the training-error threshold (``reached_error`` of them).
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
                    "died_fraction": _mean_or_none([r.died_fraction for r in runs]),
                    "revived_fraction": _ratio_or_none(
                        sum(r.revived for r in runs), sum(r.died for r in runs)
                    ),
                    "epochs_to_error": _median_or_none([r.epochs_to_error for r in runs]),
                    "reached_error": sum(r.epochs_to_error is not None for r in runs),
                }
            )
        return rows

    def format_table(self) -> str:
        """The table as fixed-width text, one line per variant.

        ``died``: units that stopped firing for every input at some point; ``revived``:
        of those, the share that fired again later; ``to error``: epochs to the
        training-error threshold (only when one was asked for).
        """
        errors = self.settings.get("error_threshold") is not None
        header = f"{'variant':<18} {'final loss':>10} {'accuracy':>8} {'steps':>10} "
        header += f"{'dead':>6} {'saturated':>9} {'died':>5} {'revived':>7}"
        header += f" {'to error':>9}" if errors else ""
        lines = [header]
        for row in self.table():
            steps = _reached(row["steps_to_target"], row["reached_target"], row["seeds"])
            if row["diverged"]:
                steps += f", {row['diverged']}/{row['seeds']} diverged"
            line = (
                f"{row['variant']:<18} {row['final_loss']:>10.4g} "
                f"{_percent(row['accuracy']):>8} {steps:>10} "
                f"{_percent(row['dead_fraction']):>6} {_percent(row['saturated_fraction']):>9} "
                f"{_percent(row['died_fraction']):>5} {_percent(row['revived_fraction']):>7}"
            )
            if errors:
                line += (
                    f" {_reached(row['epochs_to_error'], row['reached_error'], row['seeds']):>9}"
                )
            lines.append(line)
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
                    "epochs_to_error": r.epochs_to_error,
                    "died_fraction": r.died_fraction,
                    "died": r.died,
                    "revived": r.revived,
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


def _median_or_none(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.median(kept)) if kept else None


def _reached(median: float | None, reached: int, seeds: int) -> str:
    """``"12"``, ``"12 (2/3)"`` when only some seeds got there, or ``"never"``."""
    if median is None:
        return "never"
    return f"{median:g}" + (f" ({reached}/{seeds})" if reached < seeds else "")


def _ratio_or_none(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean_or_none(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _finite_or_none(value: Any) -> Any:
    return None if value is None or not math.isfinite(value) else float(value)


def _percent(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def _write_text(path: str, text: str) -> None:
    from pathlib import Path

    from ..base.files import atomic_write

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(text.encode("utf-8")), error=ConfigError)

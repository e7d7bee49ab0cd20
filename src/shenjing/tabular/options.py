"""The options of :meth:`TabularModel.fit <shenjing.tabular.TabularModel.fit>`, checked."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..base.errors import ConfigError
from ..nn.activations import ACTIVATIONS
from ..training import losses as losses_mod
from ..training.losses import SoftmaxCrossEntropy

FORMAT = "shenjing-tabular"
VERSION = 1
TASKS = ("classify", "regress")
#: Regression losses; a classifier always uses softmax cross-entropy.
REGRESSION_LOSSES = ("mse", "huber", "sse")


def check_options(task, hidden, activation, loss, class_weight, validation) -> None:
    if task is not None and task not in TASKS:
        raise ConfigError(f"task must be 'classify', 'regress' or None, got {task!r}")
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Iterable):
        raise ConfigError(f"hidden must be a list of layer widths, got {hidden!r:.60}")
    if any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in hidden):
        raise ConfigError(f"hidden must be positive layer widths, got {list(hidden)!r}")
    if activation != "maxout":
        ACTIVATIONS.get(activation)
    if class_weight not in (None, "balanced"):
        raise ConfigError(f"class_weight must be None or 'balanced', got {class_weight!r}")
    if loss is not None:
        losses_mod.get(loss)  # fail now, naming the valid losses
    if (
        isinstance(validation, bool)
        or not isinstance(validation, (int, float))
        or not 0 <= validation < 1
    ):
        raise ConfigError(f"validation must be a fraction in [0, 1), got {validation!r}")


def check_for_task(task: str, loss: str | None, class_weight: str | None, reason: str) -> None:
    """Options that only make sense for the other task, once the task is known."""
    why = "" if reason.startswith("given") else f" (inferred: {reason})"
    if class_weight is not None and task == "regress":
        raise ConfigError(f"class_weight applies to classification, and this is a regression{why}")
    if loss is None:
        return
    chosen = losses_mod.get(loss)
    if task == "classify" and not isinstance(chosen, SoftmaxCrossEntropy):
        raise ConfigError(f"a classifier is trained with softmax_cross_entropy, not {loss!r}{why}")
    if task == "regress" and not isinstance(chosen, tuple(map(type, regression_losses()))):
        raise ConfigError(
            f"loss {loss!r} is not a regression loss{why}; use one of "
            f"{', '.join(REGRESSION_LOSSES)}, or task='classify'"
        )


def regression_losses() -> list[losses_mod.Loss]:
    return [losses_mod.get(name) for name in REGRESSION_LOSSES]

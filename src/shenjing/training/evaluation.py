"""Loss and metrics over a whole dataset, streamed in batches.

Shared by ``fit`` (the validation data after every epoch) and ``Sequential.evaluate``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..base.backend import to_float
from ..base.checks import positive_int
from ..base.errors import ConfigError
from ..nn.modes import in_mode
from . import losses as losses_mod
from . import metrics as metrics_mod

#: Rows per chunk when predicting or evaluating without a batch size: bounds the
#: memory of the layers' work buffers whatever the dataset's size.
PREDICT_BATCH = 1024


def make_metrics(names: Iterable[str], loss: losses_mod.Loss) -> dict[str, metrics_mod.Metric]:
    """Fresh metric accumulators by name; accuracy reads multi-label BCE outputs per label."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, Iterable):
        raise ConfigError(f"metrics must be a list of metric names, got {type(names).__name__}")
    made: dict[str, metrics_mod.Metric] = {}
    for name in names:
        cls = metrics_mod.METRICS.get(name)
        kwargs = {}
        if cls is metrics_mod.Accuracy:
            kwargs["multilabel"] = isinstance(loss, losses_mod.BinaryCrossEntropy)
        metric = cls(**kwargs)
        made[metric.name] = metric
    return made


def evaluate_batches(
    net: Any,
    loss: losses_mod.Loss,
    x: np.ndarray,
    target: np.ndarray,
    metrics: dict[str, metrics_mod.Metric],
    batch_size: int | None = None,
) -> dict[str, float]:
    """Loss and metrics of checked, prepared data, streamed in batches, in evaluation mode.

    Every layer's mode is restored afterwards (``fit``'s validation goes back to training).

    Args:
        net: a network (``forward_unchecked`` is called on each batch).
        loss: the loss; ``target`` is what its ``prepare_target`` returned.
        x: (N, D) inputs, already checked (``net.check_input``).
        metrics: accumulators from :func:`make_metrics`, reset here.
        batch_size: rows per batch; default :data:`PREDICT_BATCH`.
    """
    size = positive_int(batch_size, "batch_size", allow_none=True) or PREDICT_BATCH
    total = 0.0
    for m in metrics.values():
        m.reset()
    with in_mode(net, training=False):
        for start in range(0, x.shape[0], size):
            pred = net.forward_unchecked(x[start : start + size])
            t = target[start : start + size]
            value = to_float(loss.forward_unchecked(pred, t))
            total += value if loss.reduction == "sum" else value * pred.shape[0]
            for m in metrics.values():
                m.update(pred, t)
    result = {"loss": total if loss.reduction == "sum" else total / x.shape[0]}
    result.update({name: m.result() for name, m in metrics.items()})
    return result

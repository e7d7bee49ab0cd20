"""Per-layer statistics of outputs and gradients, accumulated batch after batch.

:class:`LayerStatistics` is what :func:`shenjing.diagnose` (over a dataset) and
:class:`shenjing.Monitor` (over one training batch) both measure with: give it each
batch's layer output (from ``net.forward_trace``) and the gradient reaching it (from
``net.backward_trace``), then :meth:`LayerStatistics.finish` makes the
:class:`~shenjing.LayerReport`. Which statistics apply follows the layer's registered
diagnostic kind (:func:`shenjing.nn.registry.layer_kind`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..base.checks import number
from ..nn.layer import Layer
from ..nn.registry import layer_kind
from .findings import NEARLY_DEAD, findings
from .report import DiagnosticReport, LayerReport

if TYPE_CHECKING:
    from ..nn.maxout import Maxout

SATURATION_THRESHOLD = 0.1
#: ... and counts as a saturated unit when that holds for more than this fraction of inputs.
SATURATED_MOST = 0.5
#: Output values kept per layer for histograms (a strided sample, so memory is bounded).
HISTOGRAM_VALUES = 10_000


def check_saturation_threshold(value: float) -> float:
    """``value`` as a float in (0, 1), or ConfigError naming ``saturation_threshold``."""
    return number(value, "saturation_threshold", low=0.0, high=1.0, low_open=True, high_open=True)


def build_report(
    layers: list[LayerReport], rows: int, loss: float | None = None
) -> DiagnosticReport:
    """A report from per-layer records: computes the gradient ratio and the findings."""
    ratio = gradient_ratio(layers)
    return DiagnosticReport(layers, findings(layers, ratio), rows, loss, ratio)


def gradient_ratio(layers: list[LayerReport]) -> float | None:
    """Gradient RMS reaching the first parametrised layer over the last's, or ``None``."""
    rms = [lay.grad_rms for lay in layers if lay.parametrised and lay.grad_rms is not None]
    if len(rms) < 2:
        return None
    if rms[-1] == 0:
        return math.inf if rms[0] > 0 else None
    return rms[0] / rms[-1]


# -- measuring ------------------------------------------------------------------------


def _sum_squares(a: np.ndarray) -> float:
    flat = a.reshape(-1)
    return float(np.dot(flat, flat))


class LayerStatistics:
    """Running sums for one layer's outputs and gradients, batch after batch.

    Args:
        index: the layer's position in the network.
        layer: the layer (its class, kind, ``repr`` and parameters are read).
        rows: rows the statistics will cover in all (sets the histogram stride).
        threshold: the saturation threshold (see :data:`SATURATION_THRESHOLD`).
    """

    def __init__(self, index: int, layer: Layer, rows: int, threshold: float) -> None:
        self.index, self.layer, self.threshold = index, layer, threshold
        self.kind = layer_kind(layer)
        self.rows = rows
        self.count = 0
        self.total = self.total_sq = 0.0
        self.units = 0
        self.active: np.ndarray | None = None
        self.saturated: np.ndarray | None = None
        self.values: list[np.ndarray] = []
        self.stride = 1
        self.grad_sq, self.grad_count = 0.0, 0
        self.grad_values: list[np.ndarray] = []

    def add_output(self, y: np.ndarray, layer: Layer) -> None:
        y2 = y.reshape(y.shape[0], -1)
        if self.count == 0:
            self.units = y2.shape[1]
            # Every row's units, every stride-th row: a stride over the flattened values
            # would see only some units whenever the width is a multiple of it.
            rows_kept = max(1, HISTOGRAM_VALUES // self.units)
            self.stride = max(1, math.ceil(self.rows / rows_kept))
        self.count += y2.shape[0]
        self.total += float(y2.sum(dtype=np.float64))
        self.total_sq += _sum_squares(y2.astype(np.float64, copy=False))
        self.values.append(y2[:: self.stride].reshape(-1).copy())
        if self.kind in ("relu", "leaky_relu"):
            self._add("active", np.count_nonzero(y2 > 0, axis=0))
        elif self.kind == "maxout":
            # A "maxout" layer has Maxout's pieces and winner (nn.registry.KINDS).
            maxout = cast("Maxout", layer)
            winner = maxout.winner  # (N, M) index of each unit's winning piece
            wins = np.stack(
                [np.count_nonzero(winner == k, axis=0) for k in range(maxout.pieces)], axis=1
            )
            self._add("active", wins)
        elif self.kind in ("sigmoid", "tanh"):
            # Derivative relative to its peak: 4y(1-y) for sigmoid, 1-y² for tanh.
            d = 4 * y2 * (1 - y2) if self.kind == "sigmoid" else 1 - y2 * y2
            self._add("saturated", np.count_nonzero(d < self.threshold, axis=0))

    def _add(self, name: str, counts: np.ndarray) -> None:
        current = getattr(self, name)
        setattr(self, name, counts.astype(np.int64) if current is None else current + counts)

    def add_grad(self, dout: np.ndarray, scale: float) -> None:
        self.grad_sq += _sum_squares(dout.astype(np.float64, copy=False)) * scale * scale
        self.grad_count += dout.size
        rows = dout.reshape(dout.shape[0], -1)[:: self.stride]
        self.grad_values.append(np.abs(rows.reshape(-1)) * scale)

    def finish(self) -> LayerReport:
        layer, n = self.layer, max(self.count, 1)
        size = max(self.count * self.units, 1)
        mean = self.total / size
        std = math.sqrt(max(self.total_sq / size - mean * mean, 0.0))
        report = LayerReport(
            index=self.index,
            name=type(layer).__name__,
            description=repr(layer),
            units=self.units,
            rows=self.count,
            mean=mean,
            std=std,
            param_norms={k: float(np.linalg.norm(v)) for k, v in layer.params.items()},
            values=np.concatenate(self.values) if self.values else None,
        )
        if self.grad_count:
            report.grad_rms = math.sqrt(self.grad_sq / self.grad_count)
            report.grad_median = float(np.median(np.concatenate(self.grad_values)))
        if self.active is not None:
            active = self.active / n
            report.active_fraction = active
            if self.kind == "maxout":
                never = self.active == 0  # (M, k) pieces that never win
                report.dead_fraction = float(never.mean())
                report.dead_units = np.flatnonzero(never.any(axis=1))
            else:
                dead = self.active == 0
                report.dead_fraction = float(dead.mean())
                report.dead_units = np.flatnonzero(dead)
                report.nearly_dead_fraction = float(((active < NEARLY_DEAD) & ~dead).mean())
        if self.saturated is not None:
            per_unit = self.saturated / n
            report.unit_saturation = per_unit
            report.saturated_fraction = float((per_unit > SATURATED_MOST).mean())
        return report


def layer_statistics(net: Any, rows: int, threshold: float) -> list[LayerStatistics]:
    """One fresh :class:`LayerStatistics` per layer of ``net``, in order."""
    return [LayerStatistics(i, layer, rows, threshold) for i, layer in enumerate(net.layers)]

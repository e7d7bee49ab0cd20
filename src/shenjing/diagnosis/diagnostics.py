"""Why a network trains or fails: the notes' warnings, measured on your own network.

:func:`diagnose` runs a dataset through a network in batches and reports, per layer:

* **activation statistics**: mean and standard deviation of the outputs (a mean far from
  0 relative to the spread means the layer is not zero-centred, as sigmoid never is);
* **saturation** (sigmoid, tanh): a unit is saturated on an input when its local
  derivative, relative to the derivative's peak (4·y(1-y) for sigmoid, 1-y² for tanh),
  is below ``saturation_threshold``; a unit counts as saturated when that holds for
  more than half of the inputs (:data:`SATURATED_MOST`);
* **dead units** (ReLU): units whose output is 0 for every input; *nearly dead* ones
  are positive on fewer than :data:`NEARLY_DEAD` of the inputs. LeakyReLU's analogue is a
  unit whose input is never positive (only the small slope carries its gradient);
  Maxout's is a piece that never wins (it never receives a gradient);
* **gradient flow** (given ``y`` and a loss): the root-mean-square of dL/d(output) reaching
  each layer, per sample, and the norm of each parameter's gradient over the dataset.
  The ratio between the first and the last parametrised layer shows vanishing (≪ 1) or
  exploding (≫ 1) gradients.

Findings are short verdicts, each with the number behind it, the threshold it crossed,
and what to try. A finding appears only when its threshold is crossed:

=======================  ===================================================  ==============
code                     evidence                                             threshold
=======================  ===================================================  ==============
``dead_units``           fraction of a layer's units dead                     > 10 %
``nearly_dead_units``    fraction dead or nearly dead (active < 1 % inputs)   > 25 %
``saturated_units``      fraction of sigmoid/tanh units saturated              > 10 %
``not_zero_centred``     |mean| / std of a hidden layer feeding another layer  > 1.5
``vanishing_gradient``   gradient RMS, first / last parametrised layer         < 1e-2
``exploding_gradient``   the same ratio                                       > 1e2
``update_ratio_high``    ‖ΔW‖ / ‖W‖ of one step (recorded by ``fit``)          > 1e-2
``update_ratio_low``     the same                                             < 1e-5
=======================  ===================================================  ==============

The update-to-weight ratio needs a step of the optimizer, so only
``fit(..., monitor=True)`` measures it (CS231n's rule of thumb is about 1e-3; the limits
flag ratios ten times above it or a hundred times below: a step that is too large hurts
at once, one that is too small only slows training down).

Diagnostics never change what a layer computes: they read what the layers cache
(outputs, masks, inputs, winning pieces) and their gradients. A diagnosis does run
forward and backward passes, so it overwrites the network's gradients.

Example:
    >>> import shenjing as sj
    >>> x, y = sj.datasets.spiral(seed=0)
    >>> net = sj.Sequential(sj.Linear(2, 64, seed=0), sj.ReLU(), sj.Linear(64, 3, seed=1))
    >>> report = sj.diagnose(net, x, y, loss="softmax_cross_entropy")
    >>> report.layers[1].dead_fraction, report.findings
    (0.0, [])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..base.checks import check_rows, number, positive_int
from ..base.errors import ConfigError, DTypeError
from ..network.sequential import PREDICT_BATCH, Sequential
from ..nn.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from ..nn.layer import Layer
from ..nn.maxout import Maxout
from ..training import losses as losses_mod
from .findings import NEARLY_DEAD, Finding, findings

#: A unit is saturated on an input when f'(x) / max f' is below this.
SATURATION_THRESHOLD = 0.1
#: ... and counts as a saturated unit when that holds for more than this fraction of inputs.
SATURATED_MOST = 0.5
#: Output values kept per layer for histograms (a strided sample, so memory is bounded).
HISTOGRAM_VALUES = 10_000


@dataclass
class LayerReport:
    """Statistics of one layer's outputs (and gradients) over the data it saw.

    Fractions that do not apply to the layer's kind are ``None`` (a Linear layer has no
    dead units; only sigmoid and tanh saturate here).

    Attributes:
        index: position in the network.
        name: the layer's class name (``"ReLU"``, ``"Linear"``…).
        description: its ``repr``.
        units: output width M.
        rows: inputs seen.
        mean, std: of every output value.
        dead_fraction: fraction of units dead (for Maxout: of pieces that never win).
        nearly_dead_fraction: fraction of units active on fewer than NEARLY_DEAD of inputs.
        dead_units: indices of the dead units (Maxout: units with a piece that never wins).
        saturated_fraction: fraction of units saturated on most inputs.
        unit_saturation: (M,) fraction of inputs on which each unit is saturated.
        active_fraction: (M,) fraction of inputs on which each unit's output is > 0
            (ReLU family; for Maxout, the (M, k) fraction each piece wins).
        grad_rms: RMS of dL/d(output) per sample, or ``None`` without a loss. A few
            unsaturated inputs dominate it.
        grad_median: the typical gradient: median of |dL/d(output)| per sample over a
            strided sample of entries (what most inputs send back), or ``None``.
        grad_norms: parameter name → norm of its gradient over the data.
        param_norms: parameter name → norm of the parameter.
        update_ratios: parameter name → ‖ΔW‖ / ‖W‖ of an optimizer step (only recorded
            by ``fit(monitor=...)``).
        values: a sample of output values for histograms: every unit of every stride-th
            row (may be ``None``).
    """

    index: int
    name: str
    description: str
    units: int
    rows: int
    mean: float
    std: float
    dead_fraction: float | None = None
    nearly_dead_fraction: float | None = None
    dead_units: np.ndarray | None = None
    saturated_fraction: float | None = None
    unit_saturation: np.ndarray | None = None
    active_fraction: np.ndarray | None = None
    grad_rms: float | None = None
    grad_median: float | None = None
    grad_norms: dict[str, float] = field(default_factory=dict)
    param_norms: dict[str, float] = field(default_factory=dict)
    update_ratios: dict[str, float] = field(default_factory=dict)
    values: np.ndarray | None = field(default=None, repr=False)

    @property
    def parametrised(self) -> bool:
        return bool(self.param_norms)

    def __repr__(self) -> str:
        return (
            f"LayerReport({self.index} {self.name}, mean={self.mean:.3g}, std={self.std:.3g}, "
            f"dead={_pct(self.dead_fraction)}, saturated={_pct(self.saturated_fraction)})"
        )


@dataclass
class DiagnosticReport:
    """What :func:`diagnose` measured: one :class:`LayerReport` per layer and the findings.

    ``str(report)`` is a fixed-width table, one line per layer, then the findings in
    plain language.

    Attributes:
        layers: one record per layer, in order.
        findings: the verdicts (empty for a healthy network).
        rows: inputs the statistics cover.
        loss: the loss over the data, or ``None`` without ``y``.
        gradient_ratio: gradient RMS of the first parametrised layer over the last's, or
            ``None`` (no loss, or fewer than two parametrised layers).
    """

    layers: list[LayerReport]
    findings: list[Finding]
    rows: int
    loss: float | None = None
    gradient_ratio: float | None = None

    @property
    def codes(self) -> list[str]:
        """The findings' codes, in order (``"dead_units"``…)."""
        return [f.code for f in self.findings]

    def table(self) -> str:
        """One fixed-width line per layer."""
        head = (
            f"{'#':>3}  {'layer':<22} {'units':>6} {'mean':>9} {'std':>9} "
            f"{'dead':>7} {'satur.':>7} {'grad rms':>10} {'update':>9}"
        )
        lines = [head, "-" * len(head)]
        for lay in self.layers:
            ratio = lay.update_ratios.get("W")
            lines.append(
                f"{lay.index:>3}  {_short(lay.description, 22):<22} {lay.units:>6} "
                f"{lay.mean:>9.3g} {lay.std:>9.3g} {_pct(lay.dead_fraction):>7} "
                f"{_pct(lay.saturated_fraction):>7} "
                f"{_num(lay.grad_rms, '.3e'):>10} {_num(ratio, '.2e'):>9}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        lines = [f"Diagnosis over {self.rows} rows" + _loss_text(self.loss), self.table()]
        if self.gradient_ratio is not None:
            ratio = self.gradient_ratio
            lines.append(f"gradient ratio, first / last parametrised layer: {ratio:.3g}")
        if self.findings:
            lines.append("Findings:")
            lines += [f"- {f}" for f in self.findings]
        else:
            lines.append("No findings: nothing crossed a threshold.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        n = len(self.layers)
        return f"DiagnosticReport({n} layers, {self.rows} rows, findings={self.codes})"


def diagnose(
    net: Sequential,
    x: Any,
    y: Any = None,
    loss: str | losses_mod.Loss | None = None,
    *,
    batch_size: int | None = None,
    saturation_threshold: float = SATURATION_THRESHOLD,
) -> DiagnosticReport:
    """Measure every layer of ``net`` on the data ``x`` (and its gradients, given ``y``).

    Args:
        net: the network (a :class:`~shenjing.Sequential`).
        x: inputs, (N, D).
        y: targets, as ``loss`` expects them; without them only forward statistics are
            measured (no gradient flow).
        loss: the loss name or object; defaults to the loss of the network's last ``fit``.
        batch_size: rows per pass (bounds memory); default 1024.
        saturation_threshold: f'(x) / max f' below which a sigmoid or tanh unit counts as
            saturated on an input; in (0, 1). Default :data:`SATURATION_THRESHOLD`.

    Returns:
        A :class:`DiagnosticReport`.

    Shape:
        x: (N, D); y: (N,) labels or (N, M) targets.
    """
    if not isinstance(net, Sequential):
        raise DTypeError(f"net must be a shenjing Sequential, got {type(net).__name__}")
    threshold = check_saturation_threshold(saturation_threshold)
    size = positive_int(batch_size, "batch_size", allow_none=True) or PREDICT_BATCH
    X = net._check_input(x, "x")
    n = X.shape[0]
    loss_fn, T = None, None
    if y is not None:
        if loss is None:
            if net.loss is None:
                raise ConfigError(
                    "diagnose needs loss=... to measure gradients: this network has not "
                    "been fit yet (or leave out y for forward statistics only)"
                )
            loss = net.loss
        loss_fn = losses_mod.get(loss)
        check_rows(n, y)
        T = loss_fn.prepare_target(y, (n, net.output_features(X.shape[1])), net.compute_dtype)
    elif loss is not None:
        raise ConfigError("loss was given without y: pass the targets too, or neither")

    accs = _accumulators(net, n, threshold)
    grad_sums = [{k: np.zeros(v.shape, np.float64) for k, v in lay.grads.items()} for lay in net]
    total_loss = 0.0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        for start in range(0, n, size):
            xb = X[start : start + size]
            outputs = _forward(net, xb)
            for acc, out, layer in zip(accs, outputs, net.layers, strict=True):
                acc.add_output(out, layer)
            if loss_fn is None:
                continue
            tb = T[start : start + size]
            value = loss_fn._forward(outputs[-1], tb)
            per_sample = loss_fn.reduction == "mean"
            total_loss += value * len(xb) if per_sample else value
            douts = _backward(net, loss_fn.backward())
            scale = len(xb) if per_sample else 1.0
            for acc, dout in zip(accs, douts, strict=True):
                acc.add_grad(dout, scale)
            # The dataset's gradient: batch gradients of a mean loss weigh by their rows.
            weight = len(xb) / n if per_sample else 1.0
            for sums, layer in zip(grad_sums, net.layers, strict=True):
                for k, g in layer.grads.items():
                    sums[k] += weight * g
    layers = [acc.finish() for acc in accs]
    if loss_fn is not None:
        for lay, sums in zip(layers, grad_sums, strict=True):
            lay.grad_norms = {k: float(np.linalg.norm(g)) for k, g in sums.items()}
        total_loss = total_loss / n if loss_fn.reduction == "mean" else total_loss
    return build_report(layers, n, total_loss if loss_fn is not None else None)


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


def _forward(net: Sequential, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's output for ``x`` (views of the layers' own buffers)."""
    outputs = []
    for layer in net.layers:
        x = layer.forward(x)
        outputs.append(x)
    return outputs


def _backward(net: Sequential, dout: np.ndarray) -> list[np.ndarray]:
    """Backpropagate layer by layer; returns dL/d(output) of every layer, in order.

    Fills every layer's ``grads`` exactly as ``net.backward`` does (same operations on
    the same arrays), but keeps the gradient that reaches each layer.
    """
    douts: list[np.ndarray] = [dout] * len(net.layers)
    for i in range(len(net.layers) - 1, -1, -1):
        douts[i] = dout
        dout = net.layers[i].backward(dout, need_dx=i > 0)
    return douts


def _sum_squares(a: np.ndarray) -> float:
    flat = a.reshape(-1)
    return float(np.dot(flat, flat))


class _Accumulator:
    """Running sums for one layer's outputs, batch after batch."""

    def __init__(self, index: int, layer: Layer, rows: int, threshold: float) -> None:
        self.index, self.layer, self.threshold = index, layer, threshold
        self.kind = _kind(layer)
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
            winner = layer._winner  # (N, M) index of each unit's winning piece
            wins = np.stack(
                [np.count_nonzero(winner == k, axis=0) for k in range(layer.pieces)], axis=1
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


def _kind(layer: Layer) -> str:
    # Exact classes: a subclass may change the function, and with it what "dead" means.
    kinds = {ReLU: "relu", LeakyReLU: "leaky_relu", Sigmoid: "sigmoid", Tanh: "tanh"}
    if isinstance(layer, Maxout):
        return "maxout"
    return kinds.get(type(layer), "other")


def _accumulators(net: Sequential, rows: int, threshold: float) -> list[_Accumulator]:
    return [_Accumulator(i, layer, rows, threshold) for i, layer in enumerate(net.layers)]


# -- text -------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _loss_text(loss: float | None) -> str:
    return "" if loss is None else f", loss {loss:.4g}"

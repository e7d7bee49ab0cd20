"""Figures of what :func:`shenjing.diagnose` and ``fit(..., monitor=True)`` measured.

Each function takes a :class:`~shenjing.History` recorded with ``monitor=...`` (or its
``history.diagnostics``), or — for the two figures of one moment — a
:class:`~shenjing.DiagnosticReport`, plus an optional ``ax``, and returns the Axes.
:func:`diagnostics` draws the four panels together and returns the Figure.

Example:
    >>> import shenjing as sj
    >>> x, y = sj.datasets.spiral(seed=0)
    >>> net = sj.Sequential(sj.Linear(2, 16, seed=0), sj.ReLU(), sj.Linear(16, 3, seed=1))
    >>> hist = net.fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.1), epochs=3, seed=0,
    ...                monitor=5)
    >>> fig = sj.plot.diagnostics(hist)
    >>> len(fig.axes)
    4
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.errors import ConfigError
from ..diagnosis.diagnostics import DiagnosticReport
from ..diagnosis.findings import UPDATE_RATIO_HIGH, UPDATE_RATIO_LOW, UPDATE_RATIO_TARGET
from ..diagnosis.monitor import TrainingDiagnostics
from ..training.callbacks import History
from ._figure import new_axes, plt


def _records(obj: Any) -> TrainingDiagnostics:
    if isinstance(obj, History):
        obj = obj.diagnostics
        if obj is None:
            raise ConfigError("this History has no diagnostics: train with fit(..., monitor=True)")
    if not isinstance(obj, TrainingDiagnostics):
        raise ConfigError(
            "expected a History recorded with monitor=True, or its .diagnostics, "
            f"got {type(obj).__name__}"
        )
    if not obj.reports:
        raise ConfigError("nothing was recorded: training ran no step")
    return obj


def _report(obj: Any) -> DiagnosticReport:
    if isinstance(obj, DiagnosticReport):
        return obj
    return _records(obj).last


def activation_histograms(obj: Any, ax: Any = None, bins: int = 50) -> Any:
    """Histogram of each activation layer's outputs (every layer if there are none).

    Args:
        obj: a :class:`~shenjing.DiagnosticReport`, or a monitored History (its last
            record is drawn).
        ax: an Axes to draw on.
        bins: histogram bins, shared by the layers.
    """
    report = _report(obj)
    layers = [
        (lay, lay.values) for lay in report.layers if lay.values is not None and lay.values.size
    ]
    shown = [(lay, values) for lay, values in layers if not lay.parametrised] or layers
    if not shown:
        raise ConfigError("this report keeps no output values to draw")
    ax = new_axes(ax)
    low = min(float(values.min()) for _, values in shown)
    high = max(float(values.max()) for _, values in shown)
    edges = np.linspace(low, high if high > low else low + 1, bins + 1)
    for lay, values in shown:
        weights = np.full(values.size, 1 / values.size)
        label = f"layer {lay.index} {lay.name} (mean {lay.mean:.2g}, std {lay.std:.2g})"
        ax.hist(values, bins=edges, weights=weights, histtype="step", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("output value")
    ax.set_ylabel("fraction of values (log scale)")
    ax.set_title(f"Activation histograms ({report.rows} rows)")
    ax.legend(fontsize="small")
    return ax


def dead_and_saturated(obj: Any, ax: Any = None) -> Any:
    """Dead and saturated fractions of each layer over training (in % of its units)."""
    rec = _records(obj)
    ax = new_axes(ax)
    drawn = 0
    for i, lay in enumerate(rec.last.layers):
        for attr, word, style in (
            ("dead_fraction", "dead", "-"),
            ("saturated_fraction", "saturated", "--"),
        ):
            values = rec.series(attr, i)
            if np.isnan(values).all():
                continue
            ax.plot(
                rec.steps, 100 * values, style, marker=".", label=f"layer {i} {lay.name}: {word}"
            )
            drawn += 1
    if not drawn:
        ax.text(
            0.5, 0.5, "no ReLU, Maxout, sigmoid or tanh layer", ha="center", transform=ax.transAxes
        )
        ax.plot([], [], label="nothing to measure")
    ax.set_ylim(-2, 102)
    ax.set_xlabel("step")
    ax.set_ylabel("units (%)")
    ax.set_title("Dead and saturated units over training")
    ax.legend(fontsize="small")
    return ax


def gradient_flow(obj: Any, ax: Any = None) -> Any:
    """RMS of the gradient reaching each layer (log scale), layer by layer.

    A :class:`~shenjing.DiagnosticReport` gives one line; a monitored History the first
    and the last record, so a gradient that vanishes or grows during training shows.
    """
    if isinstance(obj, DiagnosticReport):
        reports = [("", obj)]
    else:
        rec = _records(obj)
        picks = sorted({0, len(rec.reports) - 1})
        reports = [(f"step {rec.steps[i]}", rec.reports[i]) for i in picks]
    ax = new_axes(ax)
    for label, report in reports:
        idx = [lay.index for lay in report.layers if lay.grad_rms is not None]
        if not idx:
            raise ConfigError("no gradients were measured: diagnose with y and a loss")
        rms = [report.layers[i].grad_rms for i in idx]
        ax.plot(idx, rms, marker="o", label=label or "gradient RMS")
    names = [f"{lay.index} {lay.name}" for lay in reports[-1][1].layers]
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize="small")
    ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel("RMS of dL/d(output) per sample")
    ax.set_title("Gradient flow: gradient reaching each layer")
    ax.legend(fontsize="small")
    return ax


def update_ratios(obj: Any, ax: Any = None) -> Any:
    """‖ΔW‖ / ‖W‖ per step of each parametrised layer, against the 1e-3 rule of thumb."""
    rec = _records(obj)
    ax = new_axes(ax)
    for i, lay in enumerate(rec.last.layers):
        if "W" not in lay.update_ratios:
            continue
        ax.plot(rec.steps, rec.series("update_ratio", i), marker=".", label=f"layer {i} {lay.name}")
    ax.axhline(
        UPDATE_RATIO_TARGET, color="black", lw=1, label=f"{UPDATE_RATIO_TARGET:g} (rule of thumb)"
    )
    for limit in (UPDATE_RATIO_LOW, UPDATE_RATIO_HIGH):
        ax.axhline(limit, color="grey", lw=0.8, ls=":")
    ax.plot([], [], color="grey", lw=0.8, ls=":", label="limits of the findings")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("update / weight norm (ratio)")
    ax.set_title("Update-to-weight ratio over training")
    ax.legend(fontsize="small")
    return ax


def diagnostics(obj: Any, figsize: tuple[float, float] = (12.0, 8.8)) -> Any:
    """The four figures of a monitored run in one Figure (returned, not an Axes).

    Panels: activation histograms of the last record, dead and saturated units over
    training, gradient flow (first and last record), update-to-weight ratios.
    """
    rec = _records(obj)
    fig, axes = plt.subplots(2, 2, figsize=figsize, layout="constrained")
    activation_histograms(rec, ax=axes[0, 0])
    dead_and_saturated(rec, ax=axes[0, 1])
    gradient_flow(rec, ax=axes[1, 0])
    update_ratios(rec, ax=axes[1, 1])
    fig.suptitle(f"Diagnostics: {len(rec.steps)} records, every {rec.every} steps")
    return fig


def report_figure(report: DiagnosticReport, figsize: tuple[float, float] = (12.0, 4.4)) -> Any:
    """A :func:`shenjing.diagnose` report in one Figure: histograms and gradient flow."""
    if not isinstance(report, DiagnosticReport):
        raise ConfigError(f"expected a DiagnosticReport, got {type(report).__name__}")
    fig, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained")
    activation_histograms(report, ax=axes[0])
    if report.layers and report.layers[0].grad_rms is not None:
        gradient_flow(report, ax=axes[1])
    else:
        axes[1].set_visible(False)
    fig.suptitle(f"Diagnosis over {report.rows} rows")
    return fig

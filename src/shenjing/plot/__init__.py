"""Figures, drawn with matplotlib (``pip install 'shenjing[plot]'``).

Importing this module imports matplotlib, with the non-interactive Agg backend unless the
user already chose one, so figures work on a machine with no screen. ``import shenjing``
alone never imports it. Every plot function takes what it draws (a ``History``, a
result object, a network) and an optional ``ax``; it draws on that Axes, or on a new
figure, and returns the Axes, so figures compose in notebooks::

    ax = sj.plot.loss_curve(history)
    sj.plot.save(ax.figure, "loss.png")
"""

from __future__ import annotations

from ._figure import new_axes, save
from .activations import activation_panel, activation_values, activations_figure
from .diagnostics import (
    activation_histograms,
    dead_and_saturated,
    diagnostics,
    gradient_flow,
    report_figure,
    update_ratios,
)
from .lrfind import lr_find_curve
from .training import compare_curves, compare_units, decision_boundary, loss_curve

__all__ = [
    "activation_histograms",
    "activation_panel",
    "activation_values",
    "activations_figure",
    "compare_curves",
    "compare_units",
    "dead_and_saturated",
    "decision_boundary",
    "diagnostics",
    "gradient_flow",
    "loss_curve",
    "lr_find_curve",
    "new_axes",
    "report_figure",
    "save",
    "update_ratios",
]

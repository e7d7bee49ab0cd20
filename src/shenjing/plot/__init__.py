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

__all__ = ["new_axes", "save"]

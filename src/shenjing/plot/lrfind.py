"""The learning-rate range test's figure: loss against rate, the suggestion marked."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.errors import ConfigError
from ._figure import new_axes


def lr_find_curve(result: Any, ax: Any = None, *, title: str = "Learning-rate range test") -> Any:
    """Each step's loss (faint) and the smoothed loss against the rate, on a log axis.

    Args:
        result: what :func:`shenjing.lr_find` returned.
        ax: Axes to draw on; a new figure by default.
        title: the Axes' title.

    Returns:
        The Axes; the suggested rate is a dashed vertical line, labelled.
    """
    rates = getattr(result, "rates", None)
    if rates is None or not len(rates):
        raise ConfigError(f"result must be what sj.lr_find returned, got {result!r:.60}")
    ax = new_axes(ax)
    losses = np.asarray(result.losses, float)
    ax.plot(rates, losses, lw=0.8, alpha=0.35, label="loss of each step")
    ax.plot(rates[: len(result.smoothed)], result.smoothed, lw=1.8, label="smoothed")
    ax.axvline(
        result.suggestion, ls="--", color="k", lw=1, label=f"suggested lr {result.suggestion:.3g}"
    )
    ax.set_xscale("log")
    # Past the minimum the loss grows without bound; keep the interesting part in view.
    finite = np.asarray(result.smoothed, float)
    finite = finite[np.isfinite(finite)]
    if finite.size:
        low, first = float(finite.min()), float(finite[0])
        ax.set_ylim(low - 0.1 * abs(first - low), max(first, low) + 0.6 * abs(first - low) + 1e-12)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax

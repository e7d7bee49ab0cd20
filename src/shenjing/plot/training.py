"""Figures of training: a loss curve, a 2-D decision boundary, a comparison's curves.

Example:
    >>> import shenjing as sj
    >>> ax = sj.plot.loss_curve([4.0, 2.0, 1.0, 0.5], label="demo")
    >>> ax.get_xlabel()
    'step'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..base.errors import ConfigError, DataError, ShapeError
from ._figure import new_axes

#: A curve whose largest and smallest positive values differ by more than this factor
#: is drawn on a log scale by ``log="auto"``.
LOG_SPAN = 100.0
#: ``compare_curves`` shows losses up to this many times the first loss.
CLIP = 1e3


def loss_curve(
    history_or_losses: Any,
    ax: Any = None,
    *,
    label: str | None = None,
    log: bool | str = "auto",
    title: str = "Training loss",
) -> Any:
    """The loss of every step; with a :class:`~shenjing.History`, also ``val_loss``.

    Args:
        history_or_losses: a ``History`` (its per-step ``loss``, plus ``val_loss`` at
            the end of each epoch when recorded) or a sequence of per-step losses.
        ax: Axes to draw on; a new figure by default.
        label: legend label of the training curve (default "training loss").
        log: ``True``/``False``, or ``"auto"``: a log scale when the positive losses span
            more than :data:`LOG_SPAN` (two decades).
        title: the Axes' title.

    Returns:
        The Axes.
    """
    losses, per_epoch = _losses(history_or_losses)
    ax = new_axes(ax)
    steps = np.arange(1, len(losses) + 1)
    ax.plot(steps, losses, lw=1.5, label=label or "training loss")
    val = per_epoch.get("val_loss")
    if val:
        # Validation runs after each epoch: place it at that epoch's last step.
        per = len(losses) / len(val)
        ends = np.round(per * np.arange(1, len(val) + 1))
        ax.plot(ends, val, "o-", ms=3, lw=1.2, label="validation loss (per epoch)")
    _set_log(ax, [losses, np.asarray(val or [], dtype=float)], log)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (log scale)" if ax.get_yscale() == "log" else "loss")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return ax


def decision_boundary(
    net: Any,
    x: Any,
    y: Any,
    ax: Any = None,
    *,
    resolution: int = 200,
    padding: float = 0.25,
    title: str = "Decision boundary",
) -> Any:
    """A 2-D classifier's predicted class over the plane, with the data on top.

    Args:
        net: a network with ``predict_classes`` (e.g. :class:`~shenjing.Sequential`)
            taking (N, 2) inputs.
        x: (N, 2) inputs. y: (N,) integer labels (or (N, 1)).
        ax: Axes to draw on; a new figure by default.
        resolution: grid points along each axis (≥ 2); the network is evaluated on
            ``resolution²`` points.
        padding: margin around the data, as a fraction of its range.
        title: the Axes' title.

    Returns:
        The Axes.
    """
    from matplotlib.colors import ListedColormap

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ShapeError(f"decision_boundary needs x of shape (N, 2), got {x.shape}")
    labels = np.asarray(y).reshape(-1)
    if labels.shape[0] != x.shape[0] or labels.dtype.kind not in "biu":
        raise DataError(
            f"decision_boundary needs y as {x.shape[0]} integer labels, "
            f"got shape {np.shape(y)} of {labels.dtype.name}"
        )
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ConfigError(f"resolution must be an integer ≥ 2, got {resolution!r}")
    lo, hi = x.min(axis=0), x.max(axis=0)
    margin = padding * np.where(hi > lo, hi - lo, 1.0)
    g0 = np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution)
    g1 = np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution)
    grid0, grid1 = np.meshgrid(g0, g1)
    pred = net.predict_classes(np.c_[grid0.ravel(), grid1.ravel()]).reshape(grid0.shape)

    classes = int(max(labels.max(), pred.max())) + 1
    colours = [_colour(k) for k in range(classes)]
    ax = new_axes(ax)
    ax.contourf(
        grid0,
        grid1,
        pred,
        levels=np.arange(classes + 1) - 0.5,
        cmap=ListedColormap(colours),
        alpha=0.25,
    )
    for k in range(classes):
        mine = labels == k
        if mine.any():
            ax.scatter(
                x[mine, 0], x[mine, 1], s=14, color=colours[k], edgecolor="k", lw=0.3,
                label=f"class {k}",
            )  # fmt: skip
    accuracy = float(np.mean(net.predict_classes(x) == labels))
    ax.set_title(f"{title} (training accuracy {100 * accuracy:.1f}%)")
    ax.set_xlabel("x₁ (input units)")
    ax.set_ylabel("x₂ (input units)")
    ax.legend(loc="best", fontsize="small", title="shaded: predicted class")
    return ax


def compare_curves(
    result: Any,
    ax: Any = None,
    *,
    log: bool | str = "auto",
    title: str | None = None,
) -> Any:
    """Loss curves of a :func:`shenjing.compare` result: median over seeds, min–max band.

    Args:
        result: a :class:`~shenjing.comparison.CompareResult`.
        ax: Axes to draw on; a new figure by default.
        log: ``True``/``False`` or ``"auto"`` (log scale when the losses span more than
            :data:`LOG_SPAN`).
        title: the Axes' title; by default it names the dataset and the seeds.

    Losses above :data:`CLIP` × the first loss are drawn at that level (a diverging run
    would otherwise squash every other curve); a variant's legend entry says how many of
    its seeds diverged. Each variant has its own colour and line style
    (:data:`LINE_STYLES`), so two variants with the same curve (ReLU and leaky ReLU
    often are) both stay visible.

    Returns:
        The Axes.
    """
    ax = new_axes(ax)
    all_curves = [result.curves(v.name) for v in result.variants]
    first = float(np.median([c[:, 0] for c in all_curves])) if all_curves else 1.0
    # A diverging run climbs to 1e300 before it turns NaN; past CLIP × the first loss
    # the curves would only squash the others (and overflow a log axis), so clip them.
    top = CLIP * first if first > 0 else np.inf
    drawn = []
    for i, (variant, curves) in enumerate(zip(result.variants, all_curves, strict=True)):
        curves = np.minimum(curves, top)
        steps = np.arange(1, curves.shape[1] + 1)
        colour = _colour(i)
        label = variant.name
        diverged = int(np.isnan(curves[:, -1]).sum())
        if diverged:
            label += f" ({diverged}/{curves.shape[0]} diverged)"
        with warnings.catch_warnings():
            # After every seed diverged a column is all NaN: nothing to draw there.
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
            middle = np.nanmedian(curves, axis=0)
        ax.fill_between(steps, low, high, color=colour, alpha=0.2)
        ax.plot(steps, middle, color=colour, lw=1.6, ls=_style(i), label=label)
        drawn.append(curves)
    settings = result.settings
    fraction = settings.get("target_fraction")
    if fraction is not None and drawn:
        ax.axhline(
            fraction * first, color="0.3", ls=":", lw=1,
            label=f"{fraction:g} × first loss (target)",
        )  # fmt: skip
    _set_log(ax, drawn, log)
    seeds = len(settings.get("seeds", [])) or (drawn[0].shape[0] if drawn else 0)
    ax.set_title(
        title or f"{settings.get('dataset', 'data')}: median of {seeds} seeds, band = min–max"
    )
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (log scale)" if ax.get_yscale() == "log" else "training loss")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")
    return ax


# -- internals -------------------------------------------------------------------------


def _losses(obj: Any) -> tuple[np.ndarray, dict[str, list[float]]]:
    per_epoch: dict[str, list[float]] = {}
    if hasattr(obj, "loss") and hasattr(obj, "per_epoch"):
        values, per_epoch = obj.loss, obj.per_epoch
    elif isinstance(obj, (Sequence, np.ndarray)) and not isinstance(obj, str):
        values = obj
    else:
        raise ConfigError(
            f"loss_curve needs a History or a sequence of losses, got {type(obj).__name__}"
        )
    losses = np.asarray(values, dtype=np.float64).reshape(-1)
    if losses.size == 0:
        raise DataError("loss_curve: there are no losses to draw")
    return losses, per_epoch


def _set_log(ax: Any, arrays: Sequence[np.ndarray], log: bool | str) -> None:
    if log not in (True, False, "auto"):
        raise ConfigError(f"log must be True, False or 'auto', got {log!r}")
    values = np.concatenate([np.ravel(a) for a in arrays]) if arrays else np.zeros(0)
    positive = values[np.isfinite(values) & (values > 0)]
    if log == "auto":
        log = positive.size > 0 and positive.max() > LOG_SPAN * positive.min()
    if log:
        if positive.size == 0:
            raise DataError("a log scale needs positive losses")
        ax.set_yscale("log")


def _colour(i: int) -> str:
    # matplotlib's default cycle, named so the same variant keeps its colour.
    return f"C{i % 10}"


#: Line styles of the variants, in turn: solid, dashed, dash-dot, dotted, long dashes.
LINE_STYLES: tuple[Any, ...] = ("-", "--", "-.", ":", (0, (8, 2)), (0, (3, 1, 1, 1, 1, 1)))


def _style(i: int) -> Any:
    return LINE_STYLES[i % len(LINE_STYLES)]


def compare_units(result: Any, ax: Any = None, *, title: str | None = None) -> Any:
    """Share of ReLU-family units firing for no training input, over training, per variant.

    The median over seeds of :attr:`Run.silent <shenjing.comparison.Run>` at each checked
    step, with the min–max band; the legend gives each variant's share of units that
    died at some point and the share of those that fired again. Variants without such
    units (sigmoid, tanh, maxout) are left out.

    Returns:
        The Axes.
    """
    ax = new_axes(ax)
    rows = {row["variant"]: row for row in result.table()}
    for i, variant in enumerate(result.variants):
        runs = [r for r in result.runs[variant.name] if r.silent.size]
        if not runs:
            continue
        size = min(r.silent.size for r in runs)  # a diverged run stops early
        steps = runs[0].silent_steps[:size]
        silent = 100 * np.stack([r.silent[:size] for r in runs])
        row = rows[variant.name]
        revived = row["revived_fraction"]
        label = f"{variant.name}: {100 * (row['died_fraction'] or 0):.0f}% died"
        label += "" if revived is None else f", {100 * revived:.0f}% of them revived"
        colour = _colour(i)
        ax.fill_between(steps, silent.min(axis=0), silent.max(axis=0), color=colour, alpha=0.2)
        ax.plot(steps, np.median(silent, axis=0), color=colour, lw=1.6, ls=_style(i),
                label=label)  # fmt: skip
    seeds = len(result.settings.get("seeds", []))
    ax.set_title(title or f"units silent on every input: median of {seeds} seeds")
    ax.set_xlabel("step")
    ax.set_ylabel("% of ReLU-family units")
    ax.grid(True, which="major", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    return ax

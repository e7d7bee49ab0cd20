"""The notes' "a picture is worth a thousand words": every activation and its derivative.

Values and derivatives come from shenjing's own layers — ``forward(x)`` for f(x) and
``backward(ones)`` for f′(x) — so the figure shows what the library computes, not a
second copy of the formulas. Two regions are shaded:

* **saturated**: the tails where ``|f′(x)|`` is below ``threshold`` × its peak and keeps
  falling out to the edge of the plot — the definition :func:`shenjing.diagnose` uses
  (default 0.1, :data:`shenjing.diagnostics.SATURATION_THRESHOLD`). Leaky ReLU's constant
  slope of 0.01 is small but never fades, so it is not shaded;
* **dead zone**: where f′(x) is exactly 0, ReLU's x < 0 — a unit whose inputs all land
  there never learns again.

The tanh panel also draws 2σ(2x) − 1 from the Sigmoid layer, showing the identity
tanh(x) = 2σ(2x) − 1 (their largest difference on the grid is in the legend).

Example:
    >>> import shenjing as sj
    >>> fig = sj.plot.activations_figure()
    >>> len(fig.axes)
    8
    >>> import matplotlib.pyplot as plt
    >>> plt.close(fig)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.errors import ConfigError
from ..diagnosis.diagnostics import SATURATION_THRESHOLD as _DIAGNOSE_THRESHOLD
from ..nn import activations as activations_mod
from ..nn.maxout import Maxout
from ._figure import new_axes

#: The panels of :func:`activations_figure`, in the notes' order.
PANELS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "maxout")
#: ``|f′| / max |f′|`` below which a fading tail counts as saturated (diagnose's definition).
SATURATION_THRESHOLD = _DIAGNOSE_THRESHOLD

_TITLES = {
    "sigmoid": "sigmoid  σ(x) = 1 / (1 + e⁻ˣ)",
    "tanh": "tanh  tanh(x) = 2σ(2x) − 1",
    "relu": "ReLU  max(0, x)",
    "leaky_relu": "leaky ReLU  max(0.01x, x)",
    "elu": "ELU  x, or eˣ − 1 for x ≤ 0",
    "softplus": "softplus  log(1 + eˣ)",
    "gelu": "GELU  x·σ(2u), u = √(2/π)(x + 0.044715x³)",
    "maxout": "maxout, 2 pieces  max(x, −0.5x − 1)",
}


def activation_values(name: str, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f′(x) of activation ``name`` (a :data:`PANELS` name or a registry name).

    Computed by the library's layer: ``forward(x)``, then ``backward(ones)``, so f′ is
    exactly what backpropagation uses (ReLU′(0) = 0 and the other kink conventions
    included). ``"maxout"`` is a one-input, one-unit :class:`~shenjing.Maxout` with the
    pieces x and −0.5x − 1.

    Shape:
        x: (N,) → f(x), f′(x): (N,) float64.

    Example:
        >>> f, df = activation_values("relu", [-1.0, 0.0, 2.0])
        >>> f.tolist(), df.tolist()
        ([0.0, 0.0, 2.0], [0.0, 0.0, 1.0])
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1, 1)
    if name == "maxout":
        layer: Any = Maxout(1, 1, pieces=2, dtype="float64", init="zeros")
        layer.W[...] = np.array([1.0, -0.5]).reshape(1, 1, 2)
        layer.b[...] = np.array([0.0, -1.0]).reshape(1, 2)
    else:
        layer = activations_mod.get(name)
    y = np.array(layer.forward(x), dtype=np.float64)  # copies: layer buffers are reused
    dy = np.array(layer.backward(np.ones_like(y)), dtype=np.float64)
    return y.ravel(), dy.ravel()


def activation_panel(
    name: str,
    ax: Any = None,
    *,
    x_range: tuple[float, float] = (-6.0, 6.0),
    threshold: float = SATURATION_THRESHOLD,
    points: int = 1201,
) -> Any:
    """One activation: f(x), f′(x), its saturated tails and dead zone, on ``ax``.

    Args:
        name: one of :data:`PANELS`.
        ax: Axes to draw on; a new figure by default.
        x_range: the interval of x drawn.
        threshold: a tail where ``|f′(x)| < threshold × max |f′|`` and still falling toward
            the edge is shaded as saturated.
        points: grid points over ``x_range``.

    Returns:
        The Axes.
    """
    if name not in PANELS:
        raise ConfigError(f"Unknown activation panel {name!r}; valid names: {', '.join(PANELS)}")
    lo, hi = (float(v) for v in x_range)
    if not lo < 0 < hi:
        raise ConfigError(f"x_range must contain 0 inside it, got {x_range!r}")
    ax = new_axes(ax)
    x = np.linspace(lo, hi, points)
    f, df = activation_values(name, x)

    dead = df == 0
    slope = np.abs(df)
    small = (slope < threshold * slope.max()) & ~dead
    # Saturation is a derivative that fades: keep a tail only if |f′| is smaller at the
    # plot's edge than where the tail begins (a constant small slope is not saturation).
    fading = [
        (a, b) for a, b in _tails(small) if slope[a if a == 0 else b] < slope[b if a == 0 else a]
    ]
    label: str | None
    for region, colour, label in (
        (fading, "0.6", f"saturated: |f′| < {threshold:g}·max|f′|"),
        (_tails(dead), "tab:red", "dead zone: f′ = 0"),
    ):
        for a, b in region:
            ax.axvspan(x[a], x[b], color=colour, alpha=0.25, lw=0, label=label)
            label = None  # one legend entry per kind of region
    ax.plot(x, f, color="tab:blue", lw=1.8, label="f(x)")
    ax.plot(x, df, color="tab:orange", lw=1.4, ls="--", label="f′(x)")
    if name == "tanh":
        s, _ = activation_values("sigmoid", 2 * x)
        identity = 2 * s - 1
        gap = float(np.max(np.abs(identity - f)))
        ax.plot(
            x[::60], identity[::60], "k.", ms=4,
            label=f"2σ(2x) − 1  (max |diff| {gap:.0e})",
        )  # fmt: skip
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_xlim(lo, hi)
    ax.set_title(_TITLES[name], fontsize="medium")
    ax.set_xlabel("x (pre-activation, unitless)")
    ax.set_ylabel("f(x), f′(x)")
    ax.legend(fontsize="x-small", loc="upper left")
    return ax


def activations_figure(
    names: tuple[str, ...] = PANELS,
    *,
    x_range: tuple[float, float] = (-6.0, 6.0),
    threshold: float = SATURATION_THRESHOLD,
    columns: int = 4,
) -> Any:
    """Every activation in its own panel (see :func:`activation_panel`); returns the Figure.

    Save it with ``sj.plot.save(fig, "activations.png")`` (or ``.svg``, ``.pdf``).
    """
    import matplotlib.pyplot as plt

    if not names:
        raise ConfigError("names must list at least one activation")
    cols = min(columns, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.6 * cols, 3.3 * rows), layout="constrained", squeeze=False
    )
    for ax, name in zip(axes.flat, names, strict=False):
        activation_panel(name, ax, x_range=x_range, threshold=threshold)
    for ax in axes.flat[len(names) :]:
        ax.remove()
    fig.suptitle(
        "Activation functions f (solid) and their derivatives f′ (dashed), "
        "as shenjing's layers compute them"
    )
    return fig


def _tails(mask: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges of the runs of ``mask`` that touch either end of the grid."""
    runs = []
    if mask[0]:
        end = int(np.argmin(mask)) if not mask.all() else len(mask)
        runs.append((0, end - 1))
    if mask[-1] and not mask.all():
        start = len(mask) - int(np.argmin(mask[::-1]))
        runs.append((start, len(mask) - 1))
    return runs

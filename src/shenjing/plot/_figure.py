"""Shared by every figure: matplotlib's import, a fresh Axes, and an atomic save."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

try:
    import matplotlib
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("shenjing's figures need matplotlib: pip install 'shenjing[plot]'") from exc

# Agg needs no screen. Respect a backend the user already picked (e.g. in a notebook).
if "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt

from ..base.errors import ConfigError
from ..base.files import atomic_write

#: Default figure size in inches, readable at 100 dpi.
FIGSIZE = (6.4, 4.4)
#: Formats ``save`` writes, chosen by the file's extension.
FORMATS = (".png", ".svg", ".pdf")


def new_axes(ax: Any = None, figsize: tuple[float, float] = FIGSIZE) -> Any:
    """``ax`` itself, or the Axes of a new figure of ``figsize`` inches."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def save(fig: Any, path: str | os.PathLike[str], *, dpi: int = 100, close: bool = True) -> Path:
    """Write ``fig`` to ``path`` (PNG, SVG or PDF by its extension), atomically.

    The figure is written to a temporary file in the same folder and renamed over
    ``path``, so a crash never leaves half an image. Closes the figure unless
    ``close=False``. Returns the path.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(
            f"Invalid figure path {str(path)!r}: expected a name ending in {', '.join(FORMATS)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write(path, lambda f: fig.savefig(f, format=suffix[1:], dpi=dpi), error=ConfigError)
    finally:
        if close:
            plt.close(fig)
    return path

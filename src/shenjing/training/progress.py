"""The one progress bar: tqdm's, where it is installed and wanted.

Example:
    >>> bar = progress_bar(False, total=3, desc="runs", unit="run")
    >>> bar is None
    True
"""

from __future__ import annotations

from typing import Any

from ..base.errors import ConfigError


def progress_bar(enabled: bool, total: int | None, desc: str, unit: str) -> Any | None:
    """A ``tqdm.auto`` bar over ``total`` ``unit``s labelled ``desc``, or ``None``.

    Args:
        enabled: ``False`` gives ``None`` (and needs no tqdm), so callers write
            ``if bar is not None: bar.update(1)``.
        total: how many updates make the bar full (``None``: unknown).
        desc: the label before the bar, e.g. ``"compare"``.
        unit: what one update counts, e.g. ``"run"`` or ``"epoch"``.

    Raises:
        ConfigError: the bar is wanted but tqdm is not installed.
    """
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        raise ConfigError("progress=True needs tqdm: pip install 'shenjing[progress]'") from exc
    return tqdm(total=total, desc=desc, unit=unit)

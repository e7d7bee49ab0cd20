"""The version-2 part of a model file: what a layer keeps besides its parameters.

A layer object in ``shenjing.json`` may carry ``"state"`` (the shapes and dtype of the
layer's persistent arrays, stored as ``state/<i>.<name>.npy`` members, e.g. BatchNorm's
running statistics) and ``"rng_state"`` (the JSON state of the layer's random numbers,
e.g. Dropout's generator); see ``docs/file-format.md``. :mod:`.modelfile` reads and
writes the members; this module says what goes in them and gives it back to a layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base.errors import ModelFileError, ShenjingError
from ..nn.layer import Layer


def layer_state_keys(layer: Layer) -> dict[str, Any]:
    """A layer's version-2 keys: its persistent arrays' specs and its random state, if any."""
    found: dict[str, Any] = {}
    if state := layer.persistent_state():
        found["state"] = {
            k: {"shape": list(v.shape), "dtype": v.dtype.name} for k, v in state.items()
        }
    if layer.rng_state is not None:  # JSON by the layer protocol (nn/layer.py)
        found["rng_state"] = layer.rng_state
    return found


def give_layer_state(
    layer: Layer, index: int, arrays: dict[str, np.ndarray], rng_state: Any
) -> None:
    """Load layer ``index``'s persistent ``arrays`` and ``rng_state`` (``None``: none stored).

    Raises:
        ModelFileError: the arrays' names are not the layer's, or the layer refuses a
            value (a shape, a generator state of another kind).
    """
    expected = layer.persistent_state()
    if set(arrays) != set(expected):
        raise ModelFileError(
            f"layers[{index}]: {layer!r} keeps the arrays {sorted(expected)}, "
            f"the file {sorted(arrays)}"
        )
    try:
        if arrays:
            layer.load_persistent_state(arrays)
        if rng_state is not None:
            layer.rng_state = rng_state
    except ShenjingError as exc:
        raise ModelFileError(f"layers[{index}]: {exc}") from exc

"""The array-library seam: which array module a layer computes with, and its buffers.

Every layer, loss and optimizer asks :func:`namespace` for its array module once, when
it is built, and keeps it as ``self.xp``; work arrays come from :func:`reusable_buffer`;
the training loop turns a step's loss into a Python number through :func:`to_float`,
its one host synchronisation per step. Today the namespace is always NumPy. A GPU
backend (CuPy, say) would return its own module here for its own arrays; what such a
backend must provide is listed in ``CONTRIBUTING.md`` ("Array backends").
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np


def namespace(*arrays: Any) -> ModuleType:
    """The array module for ``arrays`` (NumPy for NumPy arrays, and for none)."""
    return np


def reusable_buffer(
    buffers: dict[str, np.ndarray],
    name: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    xp: ModuleType = np,
) -> np.ndarray:
    """``buffers[name]`` if it can hold ``shape``, else a new array stored there.

    A buffer grows to the largest batch seen and a smaller batch gets a view of its
    leading rows (still C-contiguous), so the short last batch of an epoch neither
    allocates nor makes the next full batch allocate again.
    """
    buf = buffers.get(name)
    if buf is not None and buf.shape == shape and buf.dtype == dtype:
        return buf  # the steady state of training: one lookup, two comparisons
    if (
        buf is None
        or buf.dtype != dtype
        or buf.ndim != len(shape)
        or buf.ndim == 0
        or buf.shape[1:] != shape[1:]
        or buf.shape[0] < shape[0]
    ):
        new: np.ndarray = xp.empty(shape, dtype)
        buffers[name] = new
        return new
    return buf if buf.shape[0] == shape[0] else buf[: shape[0]]


def to_float(value: Any) -> float:
    """A scalar (Python, NumPy, or a 0-d device array) as a Python float: a host sync."""
    return float(value)


class UsesNamespace:
    """Base of objects that keep their array module as ``self.xp``.

    A module cannot be copied, so copies (``copy.deepcopy``, which ``sanity_check``
    and scikit-learn's ``clone`` use) leave ``xp`` out and resolve their own.
    """

    xp: ModuleType

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("xp", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.xp = namespace()

"""Training data that is not (all) in memory: any array-like read a few rows at a time.

``fit`` reads its inputs one mini-batch at a time, so the inputs need not be an array in
memory. Three kinds of ``x`` are read that way:

* a NumPy array of the network's dtype, memory-mapped (``np.memmap``/``np.load(...,
  mmap_mode="r")``) or not: used as it is, no copy;
* anything else with ``shape`` (N, D), a numeric ``dtype`` and row slicing ``x[a:b]``
  — a memmap of another dtype, a Zarr array, an h5py dataset: wrapped in a
  :class:`RowSource`, which converts each batch to the network's dtype as it is read;
* the training rows of a validation split, :class:`RowSubset`: the rows not held out,
  as positions into the data, so the split copies only the validation rows.

Memory then stays bounded by the batch (the two batch buffers of
:class:`~shenjing.training.batches.Batches`) plus the validation rows, which are
gathered once. A :class:`RowSource` is checked in one pass of chunks of
:data:`CHECK_BYTES` before training (real numbers, finite, the network's width), as an
array in memory is.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from ..base.checks import as_float_array
from ..base.errors import DataError, DTypeError, ShapeError

#: What ``fit`` trains on: an array, or rows read when a batch needs them.
Rows = Union[np.ndarray, "RowSource", "RowSubset"]

#: Bytes per chunk when a :class:`RowSource` is checked before training.
CHECK_BYTES = 1 << 20


class RowSource:
    """An (N, D) array-like read by rows, each read converted to ``dtype``.

    Args:
        data: has ``shape`` (N, D), ``dtype`` (real numbers) and ``data[a:b]``; rows
            given as a sorted integer array are read with ``data.oindex[rows]`` where it
            exists (Zarr) and ``data[rows]`` otherwise (NumPy, h5py).
        dtype: the network's compute dtype.
        name: the argument's name, for messages.
        width: the network's input width, or ``None`` if it has none yet.

    Raises:
        DTypeError, ShapeError, DataError: as
            :meth:`Sequential.check_input <shenjing.Sequential.check_input>` for an
            array (NaN or inf found chunk by chunk).
    """

    def __init__(self, data: Any, dtype: np.dtype, name: str = "x", width: int | None = None):
        shape = tuple(int(s) for s in data.shape)
        kind = np.dtype(data.dtype).kind
        if kind not in "biuf":
            raise DTypeError(f"{name} must hold real numbers, got dtype {data.dtype}")
        if len(shape) != 2:
            raise ShapeError(f"{name} must be 2-D, got shape {shape}")
        if shape[0] == 0 or shape[1] == 0:
            raise DataError(f"{name} is empty (shape {shape}); expected at least one value")
        if width is not None and shape[1] != width:
            raise ShapeError(f"{name} must have shape (N, {width}) for this network, got {shape}")
        self.data, self.dtype, self.name, self.shape = data, np.dtype(dtype), name, shape
        self.ndim = 2
        step = max(1, CHECK_BYTES // (shape[1] * np.dtype(data.dtype).itemsize))
        for start in range(0, shape[0], step):
            self[start : start + step]  # converts and checks one chunk, then drops it

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: Any) -> np.ndarray:
        """Rows ``a:b`` (a slice) or the given sorted positions, as a new array."""
        if not isinstance(rows, slice):
            rows = np.asarray(rows, dtype=np.intp)
            if rows.size and rows[-1] - rows[0] + 1 == rows.size:
                rows = slice(int(rows[0]), int(rows[-1]) + 1)  # one read, not one per row
        if isinstance(rows, slice):
            block = self.data[rows]
        else:
            reader = getattr(self.data, "oindex", None)
            block = reader[rows] if reader is not None else self.data[rows]
        return as_float_array(block, self.name, self.dtype, ndim=2, finite=True)

    def take(self, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Rows ``rows`` (any order) into ``out[: len(rows)]``."""
        order = np.argsort(rows, kind="stable")
        block = self[rows[order]]  # storage reads go fastest in increasing order
        dest = out[: len(rows)]
        dest[order] = block
        return dest

    def __repr__(self) -> str:
        return f"RowSource({type(self.data).__name__}, shape={self.shape}, dtype={self.dtype})"


class RowSubset:
    """The rows ``rows`` (sorted positions) of ``base``, read only when asked for.

    ``subset[a:b]`` is ``base[rows[a:b]]`` and ``subset.take(i, out)`` gathers
    ``base[rows[i]]`` into ``out``: the same values as ``base[rows]`` would hold,
    without making it.
    """

    def __init__(self, base: np.ndarray | RowSource, rows: np.ndarray) -> None:
        self.base, self.rows = base, np.asarray(rows, dtype=np.intp)
        self.shape = (len(self.rows), *base.shape[1:])
        self.dtype, self.ndim = base.dtype, base.ndim

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, rows: Any) -> np.ndarray:
        return gather(self.base, self.rows[rows])

    def take(self, rows: np.ndarray, out: np.ndarray) -> np.ndarray:
        return gather(self.base, self.rows[rows], out)


def gather(data: Any, rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``data[rows]`` for an array, :class:`RowSource` or :class:`RowSubset`, into ``out``."""
    got: np.ndarray
    if isinstance(data, np.ndarray):
        # mode="clip" lets take write straight into out (rows are valid anyway).
        got = data[rows] if out is None else np.take(data, rows, 0, out[: len(rows)], "clip")
        return got
    if out is None:
        out = np.empty((len(rows), *data.shape[1:]), data.dtype)
    got = data.take(rows, out)
    return got


def training_input(net: Any, x: Any, name: str = "x") -> Rows:
    """``fit``'s ``x``: an array as ``net.check_input`` gives it, or a :class:`RowSource`.

    An array in memory, or a memmap already of the network's dtype, goes through
    ``check_input`` (no copy when nothing needs converting); anything else with a
    ``shape``, a ``dtype`` and row slicing is read batch by batch.
    """
    dtype = np.dtype(net.compute_dtype)
    if isinstance(x, np.ndarray) and not (isinstance(x, np.memmap) and x.dtype != dtype):
        arr: np.ndarray = net.check_input(x, name)
        return arr
    if _row_sliceable(x):
        return RowSource(x, dtype, name, net.input_features)
    checked: np.ndarray = net.check_input(x, name)
    return checked


def _row_sliceable(x: Any) -> bool:
    try:
        np.dtype(x.dtype)
        return len(x.shape) >= 1 and callable(getattr(x, "__getitem__", None))
    except (AttributeError, TypeError):
        return False


__all__ = ["CHECK_BYTES", "RowSource", "RowSubset", "Rows", "gather", "training_input"]

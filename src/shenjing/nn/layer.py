"""The layer protocol every layer, activation and network follows.

A layer is two functions and a few arrays::

    y  = layer.forward(x)          # caches what backward needs
    dx = layer.backward(dout)      # dout = dL/dy, returns dx = dL/dx and fills
                                   # layer.grads[name] = dL/d(layer.params[name])

``params`` and ``grads`` share their keys (``"W"``, ``"b"``…), so an optimizer only
needs the two dicts. Activations are layers with no parameters, so a network is a plain
sequence of layers.

Conventions (pinned by tests):

* Rows are samples: ``x`` has shape ``(N, D)``.
* ``backward`` *overwrites* the gradients; it does not accumulate them.
* Arrays returned by ``forward`` and ``backward`` are owned by the layer and reused by
  its next call with the same feature shape: a training step then allocates nothing
  (no page faults from fresh temporaries). Copy a result to keep it past the next call;
  :meth:`shenjing.Sequential.forward` and ``predict`` already return fresh arrays.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..base.checks import as_dtype
from ..base.errors import StateError


def reusable_buffer(
    buffers: dict[str, np.ndarray], name: str, shape: tuple[int, ...], dtype: np.dtype
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
        buf = buffers[name] = np.empty(shape, dtype)
        return buf
    return buf if buf.shape[0] == shape[0] else buf[: shape[0]]


class Parameter(NamedTuple):
    """One trainable array, its gradient, and its name (``"0.W"`` inside a network)."""

    name: str
    value: np.ndarray
    grad: np.ndarray


class Layer:
    """Base class: subclasses implement :meth:`forward` and :meth:`backward`."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._buffers: dict[str, np.ndarray] = {}

    # -- the protocol -------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Gradients of the last forward. ``need_dx=False`` lets the first layer of a
        network skip the input gradient nobody reads (one matrix product saved)."""
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # -- shapes and parameters ------------------------------------------------------
    def output_features(self, in_features: int | None) -> int | None:
        """Width of the output for inputs of width ``in_features``; activations keep it."""
        return in_features

    @property
    def input_features(self) -> int | None:
        """The input width this layer requires, or ``None`` if it takes any."""
        return None

    def parameters(self) -> list[Parameter]:
        return [Parameter(k, v, self.grads[k]) for k, v in self.params.items()]

    def num_parameters(self) -> int:
        return sum(p.size for p in self.params.values())

    @property
    def dtype(self) -> np.dtype | None:
        """dtype of the parameters, or ``None`` for a layer without any."""
        for value in self.params.values():
            return value.dtype
        return None

    def zero_grad(self) -> None:
        for grad in self.grads.values():
            grad.fill(0)

    def astype(self, dtype: Any) -> Layer:
        """Convert parameters and gradients to ``dtype`` in place; returns ``self``."""
        dtype = as_dtype(dtype)
        for key in self.params:
            self.params[key] = self.params[key].astype(dtype)
            self.grads[key] = self.grads[key].astype(dtype)
        self._buffers.clear()
        return self

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as plain JSON values (the file format stores them)."""
        return {}

    def reset_parameters(self, seed: Any = None) -> None:
        """Draw fresh initial parameters (layers without parameters do nothing)."""

    # -- helpers for subclasses -----------------------------------------------------
    def _buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A work array of ``shape`` reused across calls (see :func:`reusable_buffer`)."""
        return reusable_buffer(self._buffers, name, shape, dtype)

    def _require_forward(self, cached: object) -> None:
        if cached is None:
            raise StateError(
                f"{type(self).__name__}.backward called before forward: "
                "run forward on a batch first"
            )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

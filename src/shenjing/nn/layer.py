"""The layer protocol every layer, activation and network follows.

A layer is two functions and a few arrays::

    y  = layer.forward(x)          # caches what backward needs
    dx = layer.backward(dout)      # dout = dL/dy, returns dx = dL/dx and fills
                                   # layer.grads[name] = dL/d(layer.params[name])

``forward`` and ``backward`` check their arguments. ``forward_unchecked`` and
``backward_unchecked`` are the same math without the checks, for a loop that checked
its data once (``fit`` does, before the first step); a layer that has nothing to skip
need not define them.

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

Modes and state (see :mod:`shenjing.nn.modes`). Every layer has a ``training`` flag,
set by ``train()`` and ``eval()``; only layers whose function differs between the two
read it (``Dropout``, ``BatchNorm``). A layer that draws random numbers exposes their
state as ``rng_state`` (a JSON value, settable), and one that keeps arrays that are not
trained (``BatchNorm``'s running mean and variance) gives them as
``persistent_state()`` and takes them back with ``load_persistent_state``: a model file
and a checkpoint store both. The defaults here are ``None``, ``{}`` and a no-op.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypeVar

import numpy as np

from ..base.backend import UsesNamespace, namespace, reusable_buffer
from ..base.checks import as_dtype
from ..base.errors import ConfigError, StateError

_T = TypeVar("_T")


class Parameter(NamedTuple):
    """One trainable array, its gradient, and its name (``"0.W"`` inside a network)."""

    name: str
    value: np.ndarray
    grad: np.ndarray


class Layer(UsesNamespace):
    """Base class: subclasses implement :meth:`forward` and :meth:`backward`."""

    #: Training mode (``True``, the default) or evaluation mode; see :meth:`train`.
    #: A class attribute too, so that a subclass that skips ``__init__`` still has it.
    training: bool = True

    def __init__(self) -> None:
        self.training = True
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        #: The array module this layer computes with (see :mod:`shenjing.base.backend`).
        self.xp = namespace()
        self._buffers: dict[str, np.ndarray] = {}

    # -- the protocol -------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Gradients of the last forward. ``need_dx=False`` lets the first layer of a
        network skip the input gradient nobody reads (one matrix product saved)."""
        raise NotImplementedError

    def forward_unchecked(self, x: np.ndarray) -> np.ndarray:
        """:meth:`forward` without checking ``x``: it must already be an array of the
        layer's dtype and input width (what :meth:`forward` would accept unchanged)."""
        return self.forward(x)

    def backward_unchecked(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """:meth:`backward` without checking ``dout`` (of the output's shape and dtype)."""
        return self.backward(dout, need_dx)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # -- modes and state ------------------------------------------------------------
    def train(self, mode: bool = True) -> Layer:
        """Training mode (``mode=False``: evaluation mode); returns ``self``.

        ``fit`` trains in training mode; ``predict``, ``evaluate``, ``diagnose`` and the
        exporters use evaluation mode, whatever the flag (:mod:`shenjing.nn.modes`).
        """
        if not isinstance(mode, bool):
            raise ConfigError(f"mode must be True or False, got {mode!r}")
        self.training = mode
        return self

    def eval(self) -> Layer:
        """Evaluation mode: ``train(False)``; returns ``self``."""
        return self.train(False)

    @property
    def rng_state(self) -> Any:
        """The state of the layer's random numbers as a JSON value; ``None`` without any."""
        return None

    @rng_state.setter
    def rng_state(self, state: Any) -> None:
        if state is not None:
            raise ConfigError(f"{type(self).__name__} draws no random numbers; rng_state is None")

    def persistent_state(self) -> dict[str, np.ndarray]:
        """Copies of the arrays the layer keeps that are not parameters (none here)."""
        return {}

    def load_persistent_state(self, state: dict[str, np.ndarray]) -> None:
        """Take back what :meth:`persistent_state` gave (nothing to take here)."""

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

    def clear_buffers(self) -> None:
        """Drop the work arrays (they are made again by the next call)."""
        self._buffers.clear()

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
        """A work array of ``shape`` reused across calls (``base.backend.reusable_buffer``)."""
        buf = self._buffers.get(name)
        if buf is not None and buf.shape == shape and buf.dtype == dtype:
            return buf  # the steady state, without the call: a step makes several
        return reusable_buffer(self._buffers, name, shape, dtype, self.xp)

    def _require_forward(self, cached: _T | None) -> _T:
        """``cached`` (what the last forward stored), or StateError if there was none."""
        if cached is None:
            raise StateError(
                f"{type(self).__name__}.backward called before forward: "
                "run forward on a batch first"
            )
        return cached

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _owner(cls: type, name: str) -> int:
    """Position in ``cls``'s MRO of the class that defines ``name``."""
    return next(i for i, base in enumerate(cls.__mro__) if name in base.__dict__)


_PASSES: dict[type, tuple[str, str]] = {}


def pass_names(cls: type) -> tuple[str, str]:
    """The names of the forward and backward passes a loop should call on ``cls``.

    The unchecked twins, unless a subclass overrides ``forward`` (or ``backward``) below
    the class that wrote the twin: a user's ``class MyLinear(Linear)`` with its own
    backward must have that backward run by ``fit``, not Linear's unchecked one.
    Found once per class.
    """
    names = _PASSES.get(cls)
    if names is None:
        names = _PASSES[cls] = (
            "forward_unchecked"
            if _owner(cls, "forward_unchecked") <= _owner(cls, "forward")
            else "forward",
            "backward_unchecked"
            if _owner(cls, "backward_unchecked") <= _owner(cls, "backward")
            else "backward",
        )
    return names


def unchecked_passes(layer: Layer) -> tuple[Any, Any]:
    """``layer``'s bound forward and backward passes for a loop that checked its data."""
    forward, backward = pass_names(type(layer))
    return getattr(layer, forward), getattr(layer, backward)

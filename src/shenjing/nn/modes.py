"""Training and evaluation mode, and the state a layer keeps between passes.

A few layers compute a different function while training: :class:`~shenjing.Dropout`
zeroes random units, :class:`~shenjing.BatchNorm` normalises with the batch's own
statistics and updates its running ones. Every layer has a ``training`` flag
(``layer.train()``, ``layer.eval()``; a :class:`~shenjing.Sequential` sets its layers'
flags too), and the library switches it where the meaning is fixed:

* ``fit`` trains in training mode; its validation after each epoch runs in evaluation
  mode;
* ``predict``, ``evaluate``, ``diagnose``, ``sanity_check``, ``gradcheck`` (by default)
  and the exporters use evaluation mode.

Each of them switches with :func:`in_mode` (or :func:`runs_in_mode`) and restores every
layer's own flag when it returns (or raises), so the mode a caller set survives. ``forward`` and
``forward_trace`` run in whatever mode the layers are in, as in PyTorch.

:func:`capture_state` and :func:`restore_state` save and put back what a forward pass in
training mode changes (the random state of ``rng_state``, the arrays of
``persistent_state()``): a pass run again after restoring draws the same dropout mask
and updates the running statistics the same way. ``gradcheck(training=True)`` and
:class:`~shenjing.Monitor` replay passes like this.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np

from ..base.errors import ConfigError
from .layer import Layer


def layers_of(layer: Layer) -> list[Layer]:
    """``layer`` and, for a network, every layer inside it (depth first)."""
    found = [layer]
    for child in getattr(layer, "layers", ()):
        found += layers_of(child)
    return found


@contextmanager
def in_mode(layer: Layer, training: bool) -> Iterator[Layer]:
    """Run the ``with`` block with every layer of ``layer`` in one mode, then restore.

    Anything that is not a :class:`Layer` is left alone (the function it guards then
    raises its own error about it).

    Example:
        >>> with in_mode(net, training=False):
        ...     scores = net.forward(np.ones((4, 2)))  # dropout off, running statistics
    """
    every = [lay for lay in layers_of(layer) if isinstance(lay, Layer)]
    before = [lay.training for lay in every]
    try:
        for lay in every:
            lay.training = training
        yield layer
    finally:
        for lay, mode in zip(every, before, strict=True):
            lay.training = mode


_F = TypeVar("_F", bound=Callable[..., Any])


def runs_in_mode(training: bool) -> Callable[[_F], _F]:
    """Decorator: the function's first argument, a layer, is in that mode while it runs.

    ``@runs_in_mode(training=True)`` on ``fit`` is ``with in_mode(net, True): ...``
    around its body, the caller's flags restored on return or exception.
    """

    def decorate(func: _F) -> _F:
        @functools.wraps(func)
        def wrapper(layer: Layer, *args: Any, **kwargs: Any) -> Any:
            with in_mode(layer, training):
                return func(layer, *args, **kwargs)

        return cast(_F, wrapper)

    return decorate


class LayerState(NamedTuple):
    """What one layer keeps between passes: its random state and persistent arrays."""

    rng_state: Any
    persistent: dict[str, np.ndarray]


def capture_state(layer: Layer) -> list[LayerState]:
    """Copies of the random state and persistent arrays of every layer of ``layer``."""
    return [
        LayerState(copy.deepcopy(lay.rng_state), lay.persistent_state())
        for lay in layers_of(layer)
        if not hasattr(lay, "layers")  # a network's state is its layers'
    ]


def restore_state(layer: Layer, state: list[LayerState]) -> None:
    """Put back what :func:`capture_state` took from the same ``layer``."""
    leaves = [lay for lay in layers_of(layer) if not hasattr(lay, "layers")]
    for lay, saved in zip(leaves, state, strict=True):
        if saved.rng_state is not None:
            lay.rng_state = copy.deepcopy(saved.rng_state)
        if saved.persistent:
            lay.load_persistent_state(saved.persistent)


# -- a network's state: its layers' states, by index ------------------------------------
def gather_rng_state(layers: list[Layer]) -> dict[str, Any] | None:
    """``{"<index>": rng_state}`` of the layers that have one, or ``None`` if none has."""
    found = {str(i): lay.rng_state for i, lay in enumerate(layers) if lay.rng_state is not None}
    return found or None


def scatter_rng_state(layers: list[Layer], state: Any) -> None:
    """Set each layer's ``rng_state`` from what :func:`gather_rng_state` gave."""
    if state is None:
        return
    if not isinstance(state, dict) or not set(state) <= {str(i) for i in range(len(layers))}:
        raise ConfigError(
            "a network's rng_state is a dict from layer index (a string) to that layer's "
            f"rng_state, as net.rng_state gives it; got {state!r:.80}"
        )
    for key, value in state.items():
        layers[int(key)].rng_state = value


def gather_persistent_state(layers: list[Layer]) -> dict[str, np.ndarray]:
    """Every layer's persistent arrays, named ``"<index>.<name>"`` like the parameters."""
    return {
        f"{i}.{name}": value
        for i, layer in enumerate(layers)
        for name, value in layer.persistent_state().items()
    }


def scatter_persistent_state(layers: list[Layer], state: dict[str, np.ndarray]) -> None:
    """Load what :func:`gather_persistent_state` gave: the same names, every one."""
    expected = set(gather_persistent_state(layers))
    if not isinstance(state, dict) or set(state) != expected:
        got = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ConfigError(f"the persistent state has the arrays {sorted(expected)}, got {got}")
    for i, layer in enumerate(layers):
        own = {k.split(".", 1)[1]: v for k, v in state.items() if k.split(".", 1)[0] == str(i)}
        if own:
            layer.load_persistent_state(own)


__all__ = [
    "LayerState",
    "capture_state",
    "gather_persistent_state",
    "gather_rng_state",
    "in_mode",
    "layers_of",
    "restore_state",
    "runs_in_mode",
    "scatter_persistent_state",
    "scatter_rng_state",
]

"""One training step, bound once per ``fit``: :class:`StepPlan`.

The loop (:mod:`shenjing.training.loop`) asks the plan for a forward pass, then either a
backward pass and an update (``backward``, then ``update``), or both at once
(``backward_update``); how those run (which layers compute an input gradient, how the
optimizer's parameters were prepared, whether each layer is updated inside the backward
pass) is decided here, once, before the first step.

Fusing the update into backward: ``backward_update`` updates each layer's parameters
right after that layer's backward has computed its gradients and its input gradient,
while they are still in cache, instead of walking every parameter again after the whole
backward pass. An optimizer's update of one parameter reads only that parameter, its
gradient and its own state, and a layer's input gradient is computed (from its weights
before the update) before its update, so the fused step gives the same weights, bit for
bit, as ``backward`` then ``update``. What it gives up is the moment between the two: a
callback that must see every gradient before any update (``on_backward_end``: the
monitor, clipping by global norm) needs the unfused path, and the loop takes it then.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.layer import unchecked_passes
from . import optim as optim_mod


class StepPlan:
    """What every step of one ``fit`` runs, bound once: no lookup, search or check per step.

    ``forward`` is the network's forward pass, ``backward`` its backward pass from the
    last layer down to the first with parameters (which computes no input gradient),
    ``update`` the optimizer on the parameters it prepared (and checked) here, and
    ``backward_update`` the backward pass with each layer updated as soon as its
    gradients are known.

    Args:
        net: the network (``layers``, ``first_trainable()``, ``parameters()``).
        opt: the optimizer; its ``prepare`` runs here, once.
        fuse: whether ``backward_update`` may update each layer inside the backward
            pass. Without it, or when the network's parameters cannot be split by layer
            (a layer, or an array, used twice), ``backward_update`` is ``backward`` then
            ``update``; so it is for an optimizer that is not ``per_parameter``.
            :attr:`fused` says which it is.
    """

    def __init__(self, net: Any, opt: optim_mod.Optimizer, fuse: bool = False) -> None:
        layers = list(net.layers)
        first = net.first_trainable()
        passes = [unchecked_passes(layer) for layer in layers]
        self._forwards = [forward for forward, _ in passes]
        order = range(len(layers) - 1, first - 1, -1)
        self._backwards = [(passes[i][1], i > first) for i in order]
        self._prepared = opt.prepare(net.parameters())
        self._apply = opt.apply
        fuse = fuse and opt.per_parameter
        by_layer = _split_by_layer(self._prepared, [layers[i] for i in order]) if fuse else None
        #: Whether :meth:`backward_update` updates each layer inside the backward pass.
        self.fused = by_layer is not None
        # (backward, need_dx, that layer's prepared parameters or None), last layer first
        self._fused_steps = [
            (backward, need_dx, own or None)
            for (backward, need_dx), own in zip(self._backwards, by_layer or [], strict=False)
        ]

    def forward(self, x: np.ndarray) -> np.ndarray:
        for forward in self._forwards:
            x = forward(x)
        return x

    def backward(self, dout: np.ndarray) -> None:
        for backward, need_dx in self._backwards:
            dout = backward(dout, need_dx)

    def update(self) -> None:
        self._apply(self._prepared)

    def backward_update(self, dout: np.ndarray) -> None:
        """``backward(dout)`` then ``update()``, fused layer by layer when :attr:`fused`."""
        if not self.fused:
            self.backward(dout)
            self._apply(self._prepared)
            return
        apply = self._apply
        for backward, need_dx, own in self._fused_steps:
            dout = backward(dout, need_dx)  # this layer's gradients and dx, old weights
            if own is not None:
                apply(own)  # its update, while the gradients are in cache


def _split_by_layer(prepared: list[Any], layers: list[Any]) -> list[list[Any]] | None:
    """``prepared`` split into each layer's own entries, in ``layers``' order.

    ``None`` when fusing would change the result: a parameter array that appears twice
    (a layer used twice, or weights shared between layers, would be updated before its
    second use reads it), or a prepared parameter no layer in ``layers`` owns.
    """
    entries = {id(param.value): (param, state) for param, state in prepared}
    if len(entries) != len(prepared):
        return None
    out: list[list[Any]] = []
    seen: set[int] = set()
    for layer in layers:
        own = []
        for param in layer.parameters():
            key = id(param.value)
            if key in seen or key not in entries:
                return None
            seen.add(key)
            own.append(entries[key])
        out.append(own)
    return out if len(seen) == len(entries) else None

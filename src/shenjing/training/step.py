"""One training step, bound once per ``fit``: :class:`StepPlan`.

The loop (:mod:`shenjing.training.loop`) asks the plan for a forward pass, a backward
pass and an update; how those run (which layers compute an input gradient, how the
optimizer's parameters were prepared) is decided here, once, before the first step.
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
    ``update`` the optimizer on the parameters it prepared (and checked) here.
    """

    def __init__(self, net: Any, opt: optim_mod.Optimizer) -> None:
        layers = list(net.layers)
        first = net.first_trainable()
        passes = [unchecked_passes(layer) for layer in layers]
        self._forwards = [forward for forward, _ in passes]
        self._backwards = [(passes[i][1], i > first) for i in range(len(layers) - 1, first - 1, -1)]
        self._prepared = opt.prepare(net.parameters())
        self._apply = opt.apply

    def forward(self, x: np.ndarray) -> np.ndarray:
        for forward in self._forwards:
            x = forward(x)
        return x

    def backward(self, dout: np.ndarray) -> None:
        for backward, need_dx in self._backwards:
            dout = backward(dout, need_dx)

    def update(self) -> None:
        self._apply(self._prepared)

"""Units that stop firing during training, and whether they fire again; init per activation.

The notes say leaky ReLU fixes dying ReLUs. A unit *dies* when it stops firing (its
input is ≤ 0, so a ReLU outputs 0) for every training input. A dead ReLU passes no
gradient to its own weights, so in the first hidden layer (whose inputs are the fixed
data) it can never fire again; deeper, only a change upstream can bring it back. A
leaky unit's gradient is ``slope ×`` what it would be, never 0, so it can recover.

:class:`UnitTracker` measures exactly that during a ``fit``: after every ``every``-th
step it runs the whole training set forward (:meth:`Sequential.forward_trace
<shenjing.Sequential.forward_trace>`) and marks, per ReLU-family unit (diagnostic kind
``relu`` or ``leaky_relu``), whether it fired (output > 0) for at least one input. A unit
*died* if at some check it fired for none; it *revived* if it fired again at a later
check. The check at step 0 (before training) counts: a unit silent from the start died
at step 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.registry import layer_kind

#: Kinds whose units "fire" when their output is positive.
FIRING_KINDS = ("relu", "leaky_relu")
#: Activations that get He initialisation under ``init="per_activation"``: the ReLU
#: family and maxout, whose slope is 1 over half the inputs or more. The others
#: (sigmoid, tanh, identity) get Xavier, as Glorot & Bengio (2010) derived it for them.
HE_ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "softplus", "maxout")
#: ``compare(init=...)``'s value for He or Xavier by activation.
PER_ACTIVATION = "per_activation"


def init_for(activation: str, init: str) -> str:
    """The initialiser a variant uses: ``init``, or He/Xavier by activation.

    Example:
        >>> init_for("relu", "per_activation"), init_for("tanh", "per_activation")
        ('he', 'xavier')
        >>> init_for("relu", "xavier")
        'xavier'
    """
    if init != PER_ACTIVATION:
        return init
    return "he" if activation in HE_ACTIVATIONS else "xavier"


class UnitTracker:
    """A ``fit`` callback: which ReLU-family units fire, every ``every`` steps.

    Args:
        x: (N, D) the training inputs (the whole set is run forward at each check).
        every: steps between checks.

    After training:
        units: ReLU-family hidden units tracked (0: nothing to track).
        steps: (C,) the step of each check (0 = before training).
        silent: (C,) fraction of the units that fired for no input at each check.
        died: (units,) bool, silent at some check.
        revived: (units,) bool, fired at a check after one where it was silent.
    """

    def __init__(self, x: np.ndarray, every: int = 1) -> None:
        self.x, self.every = x, max(1, int(every))
        self.units = 0
        self.steps: list[int] = []
        self.silent: list[float] = []
        self.died = np.zeros(0, dtype=bool)
        self.revived = np.zeros(0, dtype=bool)
        self._layers: list[int] = []

    def on_train_begin(self, state: Any) -> None:
        self._layers = [i for i, lay in enumerate(state.net.layers) if _fires(lay)]
        self._check(state.net, 0)

    def on_step_end(self, state: Any) -> None:
        if state.step % self.every == 0:
            self._check(state.net, state.step)

    def on_train_end(self, state: Any) -> None:
        if not self.steps or self.steps[-1] != state.step:
            self._check(state.net, state.step)

    def _check(self, net: Any, step: int) -> None:
        if not self._layers:
            return
        outputs = net.forward_trace(self.x)
        fired = np.concatenate([(outputs[i] > 0).any(axis=0) for i in self._layers])
        if not self.units:
            self.units = fired.size
            self.died = np.zeros(fired.size, dtype=bool)
            self.revived = np.zeros(fired.size, dtype=bool)
        self.revived |= self.died & fired
        self.died |= ~fired
        self.steps.append(step)
        self.silent.append(float(np.mean(~fired)))

    @property
    def died_fraction(self) -> float | None:
        """Share of the units that died at some check, ``None`` with no units."""
        return float(self.died.mean()) if self.units else None

    @property
    def revived_count(self) -> int:
        return int(self.revived.sum())


def _fires(layer: Any) -> bool:
    return layer_kind(layer) in FIRING_KINDS

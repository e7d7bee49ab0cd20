"""The one multi-layer perceptron builder: :func:`mlp`.

Everything in shenjing that makes a plain feed-forward network from a list of widths
(``sj.compare``, ``TabularModel``, the scikit-learn estimators, ``shenjing demo``) builds
it here, so one seed gives the same weights whichever door the network came in by.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..base.checks import as_dtype, positive_int
from ..base.errors import ConfigError
from ..nn import activations as activations_mod
from ..nn.initializers import INITIALIZERS, Seed, as_generator
from ..nn.layer import Layer
from ..nn.linear import Linear
from ..nn.maxout import Maxout
from .sequential import Sequential

#: The activation name that makes every hidden layer a :class:`~shenjing.Maxout`.
MAXOUT = "maxout"


def mlp(
    in_features: int,
    hidden: int | Sequence[int],
    out_features: int,
    *,
    activation: str | Layer | type[Layer] = "relu",
    init: Any = None,
    bias: bool = True,
    dtype: Any = "float32",
    seed: Seed = None,
    pieces: int = 2,
) -> Sequential:
    """A multi-layer perceptron: ``[Linear → activation] × len(hidden) → Linear``.

    With ``activation="maxout"`` each ``Linear → activation`` pair is one
    :class:`~shenjing.Maxout` layer of ``pieces`` pieces (its own non-linearity). The
    output layer is a plain :class:`~shenjing.Linear` of raw scores or values. Every
    layer draws its weights, first layer first, from one generator made from ``seed``,
    so a seed fixes the whole network.

    Args:
        in_features: D, the width of the input.
        hidden: the hidden layers' widths, e.g. ``(64, 32)``; an int is one hidden
            layer; ``()`` for none (a linear model).
        out_features: K, the width of the output.
        activation: the hidden activation: a name (``"relu"``, ``"tanh"``…, see
            :func:`shenjing.activations.names`), an activation class, an instance (copied
            for every hidden layer), or ``"maxout"``.
        init: the weight initialiser of every layer (a name or a callable); ``None``
            keeps each layer's default (``"xavier"``).
        bias: whether every layer has a bias.
        dtype: ``"float32"`` (default) or ``"float64"``.
        seed: ``None`` (fresh entropy), a non-negative int, or a ``np.random.Generator``
            (drawn from, layer after layer, and left advanced).
        pieces: affine pieces per Maxout unit (≥ 2); used with ``"maxout"`` only.

    Returns:
        A :class:`~shenjing.Sequential`.

    Raises:
        ConfigError: a bad argument, named in the message.

    Shape:
        x: (N, in_features) → y: (N, out_features).

    Example:
        >>> net = mlp(3, [8, 4], 2, activation="tanh", seed=0)
        >>> net
        Sequential(Linear(3 -> 8), Tanh(), Linear(8 -> 4), Tanh(), Linear(4 -> 2))
        >>> net.predict(np.ones((5, 3))).shape
        (5, 2)
        >>> type(mlp(2, 16, 1, activation="maxout", pieces=3, seed=0)[0]).__name__
        'Maxout'
    """
    widths = _widths(in_features, hidden, out_features)
    maxout = isinstance(activation, str) and activation.strip().lower() == MAXOUT
    # Checked whatever the activation: a wrong value is a mistake even where unused.
    if positive_int(pieces, "pieces") < 2:
        raise ConfigError(f"pieces must be an integer of at least 2, got {pieces!r:.60}")
    if not maxout:
        activations_mod.get(activation)  # fail now, naming the valid activations
    if init is not None and not callable(init):
        INITIALIZERS.get(init)  # ConfigError listing the valid initialisers
    if not isinstance(bias, bool):
        raise ConfigError(f"bias must be True or False, got {bias!r}")
    dtype = as_dtype(dtype, "dtype")
    rng = as_generator(seed, "seed")
    options: dict[str, Any] = {"bias": bias, "dtype": dtype}
    if init is not None:
        options["init"] = init
    layers: list[Layer] = []
    for width_in, width in itertools.pairwise(widths[:-1]):
        if maxout:
            layers.append(Maxout(width_in, width, pieces=int(pieces), seed=rng, **options))
        else:
            layers.append(Linear(width_in, width, seed=rng, **options))
            layers.append(_activation(activation))
    layers.append(Linear(widths[-2], widths[-1], seed=rng, **options))
    return Sequential(*layers)


def _widths(in_features: Any, hidden: Any, out_features: Any) -> list[int]:
    if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
        hidden = [hidden]
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (Sequence, np.ndarray)):
        raise ConfigError(f"hidden must be a width or a sequence of widths, got {hidden!r}")
    return [
        positive_int(in_features, "in_features"),
        *(positive_int(h, f"hidden[{i}]") for i, h in enumerate(hidden)),
        positive_int(out_features, "out_features"),
    ]


def _activation(activation: Any) -> Layer:
    """A fresh activation layer: a layer caches its input, so none may appear twice."""
    if isinstance(activation, Layer):
        return copy.deepcopy(activation)
    return activations_mod.get(activation)

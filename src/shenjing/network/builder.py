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

from ..base.checks import as_dtype, number, positive_int
from ..base.errors import ConfigError
from ..nn import activations as activations_mod
from ..nn.batchnorm import BatchNorm
from ..nn.dropout import Dropout
from ..nn.initializers import INITIALIZERS, Seed, as_generator
from ..nn.layer import Layer
from ..nn.layernorm import LayerNorm
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
    dropout: float = 0.0,
    norm: str | None = None,
) -> Sequential:
    """A multi-layer perceptron: ``[Linear → activation] × len(hidden) → Linear``.

    With ``norm``, each hidden ``Linear`` is followed by a :class:`~shenjing.BatchNorm`
    or :class:`~shenjing.LayerNorm` before its activation (as Ioffe and Szegedy place
    it); with ``dropout``, each hidden activation by a :class:`~shenjing.Dropout`:
    ``[Linear → norm → activation → Dropout] × len(hidden) → Linear``. A hidden
    ``Linear`` before a BatchNorm has no bias: the batch mean cancels it, and β
    takes its place.

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
        dropout: the probability ``p`` of every Dropout layer, in [0, 1); ``0`` (the
            default) adds none. Their seeds are drawn from ``seed`` after every weight,
            so the weights are those of the same network without dropout.
        norm: ``None`` (default), ``"batch"`` or ``"layer"``. Not with ``"maxout"``,
            whose units have no pre-activation to normalise.

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
        >>> [type(layer).__name__ for layer in mlp(3, 8, 2, norm="batch", dropout=0.2, seed=0)]
        ['Linear', 'BatchNorm', 'ReLU', 'Dropout', 'Linear']
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
    p = number(dropout, "dropout", low=0.0, high=1.0, high_open=True)
    if norm not in _NORMS:
        raise ConfigError(f'norm must be None, "batch" or "layer", got {norm!r}')
    if maxout and norm is not None:
        raise ConfigError("norm cannot be used with maxout: a Maxout unit has no pre-activation")
    rng = as_generator(seed, "seed")
    options: dict[str, Any] = {"bias": bias, "dtype": dtype}
    if init is not None:
        options["init"] = init
    layers: list[Layer] = []
    dropped: list[int] = []  # where Dropout layers go, once every weight is drawn
    for width_in, width in itertools.pairwise(widths[:-1]):
        if maxout:
            layers.append(Maxout(width_in, width, pieces=int(pieces), seed=rng, **options))
        else:
            # BatchNorm subtracts the batch mean, so a bias before it does nothing (its
            # gradient is exactly 0 while training); β takes its place.
            own = {**options, "bias": False} if norm == "batch" else options
            layers.append(Linear(width_in, width, seed=rng, **own))
            if norm is not None:
                layers.append(_NORMS[norm](width, dtype=dtype))
            layers.append(_activation(activation))
        if p > 0:
            dropped.append(len(layers))
    layers.append(Linear(widths[-2], widths[-1], seed=rng, **options))
    for at in reversed(dropped):  # from the back, so the earlier positions hold
        layers.insert(at, Dropout(p, seed=int(rng.integers(2**63))))
    return Sequential(*layers)


_NORMS: dict[str | None, Any] = {None: None, "batch": BatchNorm, "layer": LayerNorm}


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

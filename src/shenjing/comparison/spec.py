"""What :func:`~shenjing.comparison.compare` runs: the variants, seeds, data and networks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..base.checks import positive_int
from ..base.errors import ConfigError
from ..data import datasets as datasets_mod
from ..network.builder import mlp
from ..network.sequential import Sequential
from ..nn import activations as activations_mod
from ..nn.initializers import as_generator

#: Activations :func:`compare` accepts: the activation registry's names, plus "maxout"
#: (a two-piece Maxout layer in place of each Linear + activation).
MAXOUT = "maxout"
#: The notes' five, the default of :func:`compare`.
DEFAULT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "maxout")


@dataclass(frozen=True)
class Variant:
    """One network to compare: a hidden activation and the hidden layers' widths."""

    name: str
    activation: str
    hidden: tuple[int, ...]

    @property
    def hidden_text(self) -> str:
        return "-".join(str(h) for h in self.hidden)


def build_network(
    activation: str,
    hidden: Sequence[int],
    in_features: int,
    out_features: int,
    seed: int,
    init: str = "xavier",
    dtype: Any = "float64",
) -> Sequential:
    """The network one variant trains: ``[Linear → activation] × len(hidden) → Linear``.

    With ``activation="maxout"`` each ``Linear → activation`` pair is one two-piece
    :class:`~shenjing.Maxout` layer. Every layer's weights come from one generator
    seeded with ``seed``, so a seed fixes the whole network.
    """
    return mlp(
        in_features,
        hidden,
        out_features,
        activation=activation,
        init=init,
        dtype=dtype,
        seed=seed,
        pieces=2,
    )


def _load_dataset(dataset: Any, data_seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    if isinstance(dataset, str):
        x, y = datasets_mod.load(dataset, seed=data_seed)
        return np.asarray(x, dtype=np.float64), y, dataset
    if isinstance(dataset, tuple) and len(dataset) == 2:
        x, y = (np.asarray(a) for a in dataset)
        if x.ndim != 2 or x.shape[0] == 0 or len(y) != x.shape[0]:
            raise ConfigError(
                f"dataset=(x, y) needs x of shape (N, D) and y with N rows, got "
                f"{x.shape} and {y.shape}"
            )
        return x, y, "(x, y)"
    raise ConfigError(
        f"dataset must be a name ({', '.join(datasets_mod.NAMES)}) or a tuple (x, y), "
        f"got {dataset!r}"
    )


def _task(y: np.ndarray) -> tuple[str, np.ndarray]:
    y = np.asarray(y)
    if y.dtype.kind in "biu":
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ConfigError(f"class labels must be of shape (N,) or (N, 1), got {y.shape}")
        return "classification", y.astype(np.int64)
    return "regression", (y[:, None] if y.ndim == 1 else y).astype(np.float64)


def _variants(activations: Iterable[str], hidden: Any) -> list[Variant]:
    if isinstance(activations, str):
        activations = [activations]
    acts = [str(a).strip().lower().replace("-", "_") for a in activations]
    if not acts:
        raise ConfigError("activations must name at least one activation")
    for a in acts:
        if a != MAXOUT:
            activations_mod.ACTIVATIONS.get(a)  # ConfigError listing the valid names
    archs = _architectures(hidden)
    variants = []
    for arch in archs:
        for a in acts:
            # "relu", or "relu 8-8-8-8" when several architectures are compared.
            name = f"{a} {'-'.join(map(str, arch))}" if len(archs) > 1 else a
            variants.append(Variant(name, a, arch))
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ConfigError(f"variants must differ; got {', '.join(names)}")
    return variants


def _architectures(hidden: Any) -> list[tuple[int, ...]]:
    items = list(hidden)
    if not items:
        raise ConfigError("hidden must give at least one hidden width")
    if all(isinstance(h, (int, np.integer)) and not isinstance(h, bool) for h in items):
        items = [items]
    archs = []
    for arch in items:
        widths = tuple(positive_int(h, "hidden width") for h in arch)
        if not widths:
            raise ConfigError("each architecture in hidden needs at least one width")
        archs.append(widths)
    return archs


def _seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return list(range(positive_int(seeds, "seeds")))
    values = list(seeds)
    if not values or len(set(values)) != len(values):
        raise ConfigError(f"seeds must be a count or distinct seeds, got {seeds!r}")
    for s in values:
        as_generator(s, "seeds")  # a non-negative int
    return [int(s) for s in values]

"""What the page can ask for, and the bounds on every size it can ask for.

A :class:`Config` is the whole run: data, features, network, training. The page keeps
it in its URL; the server checks every field with :func:`parse_config`, which refuses
anything unknown or out of bounds with a :class:`~shenjing.ConfigError` naming the field
and what it accepts.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..base.errors import ConfigError
from ..nn import activations as activations_mod
from ..training import optim as optim_mod
from . import data

#: Bounds on what a request may ask for.
MAX_LAYERS = 6
MAX_NEURONS = 8
MAX_BATCH = 30
MIN_RESOLUTION, MAX_RESOLUTION = 10, 100
MAX_SEED = 2**31 - 1
MAX_LEARNING_RATE = 10.0
MAX_REG_RATE = 1.0

PROBLEMS = ("classification", "regression")
#: The network's hidden activations: every registered one but the identity, then maxout.
_FIRST = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu")
ACTIVATIONS = (
    *(n for n in _FIRST if n in activations_mod.names()),
    *(n for n in activations_mod.names() if n not in (*_FIRST, "identity")),
    "maxout",
)
OPTIMIZERS = tuple(
    n for n in ("sgd", "adam", "adamw", "rmsprop", "adagrad") if n in optim_mod.names()
)
#: The losses that fit each task (registry names).
LOSSES = {
    "classification": ("binary_cross_entropy", "softmax_cross_entropy", "mse"),
    "regression": ("mse", "huber", "sse"),
}
REGULARIZATIONS = ("none", "l1", "l2")
#: Where the points come from: a generator of :mod:`.data`, or the uploaded CSV.
UPLOAD = "upload"


@dataclass(frozen=True)
class Config:
    """One playground run. Every field is bounded as :func:`parse_config` checks."""

    problem: str = "classification"
    dataset: str = "circle"
    noise: int = 0  # percent, 0–50
    train_percent: int = 50  # 10–90
    seed: int = 0
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    loss: str = "binary_cross_entropy"
    optimizer: str = "sgd"
    lr: float = 0.03
    momentum: float = 0.0
    batch: int = 10
    regularization: str = "none"
    reg_rate: float = 0.0
    resolution: int = 50

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["features"], out["hidden"] = list(self.features), list(self.hidden)
        return out

    @property
    def neuron_resolution(self) -> int:
        """The grid of each neuron's small heat map: half the output's, at least 10."""
        return max(MIN_RESOLUTION, self.resolution // 2)


def parse_config(raw: Any, base: Config | None = None) -> Config:
    """Check a configuration sent by the page; fields left out keep ``base``'s values.

    Raises:
        ConfigError: an unknown field, a wrong type, or a value out of bounds.
    """
    if not isinstance(raw, dict):
        raise ConfigError("config must be a JSON object")
    base = base or Config()
    known = set(Config.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"unknown config field {unknown[0]!r}; the fields are {sorted(known)}")
    values = {**base.to_dict(), **raw}
    problem = _choice(values["problem"], "problem", PROBLEMS)
    names = (*(data.CLASSIFICATION if problem == "classification" else data.REGRESSION), UPLOAD)
    dataset = _choice(values["dataset"], "dataset", names)
    features = values["features"]
    if not isinstance(features, (list, tuple)) or not features:
        raise ConfigError("features must be a non-empty list of feature names")
    seen: list[str] = []
    for name in features:
        name = _choice(name, "features", tuple(data.FEATURES))
        if name not in seen:
            seen.append(name)
    hidden = values["hidden"]
    if not isinstance(hidden, (list, tuple)) or len(hidden) > MAX_LAYERS:
        raise ConfigError(f"hidden must be a list of at most {MAX_LAYERS} layer widths")
    widths = tuple(_int(h, "hidden[i]", 1, MAX_NEURONS) for h in hidden)
    regularization = _choice(values["regularization"], "regularization", REGULARIZATIONS)
    return replace(
        base,
        problem=problem,
        dataset=dataset,
        noise=_int(values["noise"], "noise", 0, 50),
        train_percent=_int(values["train_percent"], "train_percent", 10, 90),
        seed=_int(values["seed"], "seed", 0, MAX_SEED),
        features=tuple(seen),
        hidden=widths,
        activation=_choice(values["activation"], "activation", ACTIVATIONS),
        loss=_choice(values["loss"], "loss", LOSSES[problem]),
        optimizer=_choice(values["optimizer"], "optimizer", OPTIMIZERS),
        lr=_float(values["lr"], "lr", 0.0, MAX_LEARNING_RATE, low_open=True),
        momentum=_float(values["momentum"], "momentum", 0.0, 0.99),
        batch=_int(values["batch"], "batch", 1, MAX_BATCH),
        regularization=regularization,
        reg_rate=_float(values["reg_rate"], "reg_rate", 0.0, MAX_REG_RATE),
        resolution=_int(values["resolution"], "resolution", MIN_RESOLUTION, MAX_RESOLUTION),
    )


def limits() -> dict[str, Any]:
    """The bounds and choices, for the page's controls."""
    return {
        "max_layers": MAX_LAYERS,
        "max_neurons": MAX_NEURONS,
        "max_batch": MAX_BATCH,
        "resolution": [MIN_RESOLUTION, MAX_RESOLUTION],
        "max_seed": MAX_SEED,
        "max_lr": MAX_LEARNING_RATE,
        "max_reg_rate": MAX_REG_RATE,
        "activations": list(ACTIVATIONS),
        "optimizers": list(OPTIMIZERS),
        "losses": {k: list(v) for k, v in LOSSES.items()},
        "datasets": {
            "classification": list(data.CLASSIFICATION),
            "regression": list(data.REGRESSION),
        },
        "features": {name: label for name, (label, _) in data.FEATURES.items()},
        "regularizations": list(REGULARIZATIONS),
    }


def onnx_available() -> bool:
    """Whether ``onnx`` can be imported, for the ONNX download."""
    return importlib.util.find_spec("onnx") is not None


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _float(value: Any, name: str, low: float, high: float, low_open: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = "above" if low_open else "from"
        raise ConfigError(f"{name} must be a number {bound} {low:g} up to {high:g}, got {value!r}")
    return float(value)

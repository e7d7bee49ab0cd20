"""shenjing (神经, "nerve"): neural networks on NumPy, with backpropagation written out.

Everything a user needs is here at the top level::

    import shenjing as sj
    net = sj.Sequential(sj.Linear(2, 30), sj.ReLU(), sj.Linear(30, 1))
    history = net.fit(x, y, loss="sse", optimizer=sj.SGD(lr=0.002), epochs=200)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from . import activations, datasets, initializers, losses, metrics, optim
from .activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .callbacks import Callback, EarlyStopping, History, TrainState
from .errors import (
    ConfigError,
    DataError,
    DivergenceError,
    DTypeError,
    ModelFileError,
    ShapeError,
    ShenjingError,
    StateError,
)
from .gradcheck import GradCheckResult, gradcheck
from .io import load, save
from .layer import Layer, Parameter
from .linear import Linear
from .losses import (
    BinaryCrossEntropy,
    Huber,
    Loss,
    MeanSquaredError,
    SoftmaxCrossEntropy,
    SumSquaredError,
)
from .maxout import Maxout
from .neuron import Neuron
from .optim import SGD, AdaGrad, Adam, Optimizer, RMSprop
from .sequential import Sequential
from .train import fit

__version__ = "0.1.0"

# The features beyond the core load on first use: ``import shenjing`` stays fast and
# needs NumPy only. Modules that import an optional dependency: ``sj.plot``
# (matplotlib), ``sj.sklearn`` (scikit-learn), ``sj.cli``. Names from feature modules,
# each found in the module that defines it:
_LAZY_MODULES = ("cli", "plot", "sklearn")
_LAZY_NAMES = {
    "compare": "comparison",
    "CompareResult": "comparison",
    "read_csv": "csvdata",
    "diagnose": "diagnostics",
    "DiagnosticReport": "diagnostics",
    "Finding": "diagnostics",
    "LayerReport": "diagnostics",
    "Monitor": "monitor",
    "TrainingDiagnostics": "monitor",
    "export_onnx": "onnx_export",
    "Preprocessor": "preprocess",
    "sanity_check": "sanity",
    "SanityReport": "sanity",
    "TabularModel": "tabular",
}

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from .comparison import CompareResult, compare
    from .csvdata import read_csv
    from .diagnostics import DiagnosticReport, Finding, LayerReport, diagnose
    from .monitor import Monitor, TrainingDiagnostics
    from .onnx_export import export_onnx
    from .preprocess import Preprocessor
    from .sanity import SanityReport, sanity_check
    from .tabular import TabularModel


def __getattr__(name: str):
    if name in _LAZY_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
        globals()[name] = value  # found once; later lookups do not come here
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_LAZY_MODULES))


__all__ = [
    "ELU",
    "GELU",
    "SGD",
    "AdaGrad",
    "Adam",
    "BinaryCrossEntropy",
    "Callback",
    "CompareResult",
    "ConfigError",
    "DTypeError",
    "DataError",
    "DiagnosticReport",
    "DivergenceError",
    "EarlyStopping",
    "Finding",
    "GradCheckResult",
    "History",
    "Huber",
    "Identity",
    "Layer",
    "LayerReport",
    "LeakyReLU",
    "Linear",
    "Loss",
    "Maxout",
    "MeanSquaredError",
    "ModelFileError",
    "Monitor",
    "Neuron",
    "Optimizer",
    "Parameter",
    "Preprocessor",
    "RMSprop",
    "ReLU",
    "SanityReport",
    "Sequential",
    "ShapeError",
    "ShenjingError",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "Softplus",
    "StateError",
    "SumSquaredError",
    "TabularModel",
    "Tanh",
    "TrainState",
    "TrainingDiagnostics",
    "__version__",
    "activations",
    "compare",
    "datasets",
    "diagnose",
    "export_onnx",
    "fit",
    "gradcheck",
    "initializers",
    "load",
    "losses",
    "metrics",
    "optim",
    "read_csv",
    "sanity_check",
    "save",
]

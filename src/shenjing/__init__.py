"""shenjing (神经, "nerve"): neural networks on NumPy, with backpropagation written out.

Everything a user needs is here at the top level::

    import shenjing as sj
    net = sj.Sequential(sj.Linear(2, 30), sj.ReLU(), sj.Linear(30, 1))
    history = net.fit(x, y, loss="sse", optimizer=sj.SGD(lr=0.002), epochs=200)
"""

from __future__ import annotations

from . import activations, datasets, initializers, losses, metrics, optim
from .activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .callbacks import Callback, EarlyStopping, History, TrainState
from .compare import CompareResult, compare
from .csvdata import read_csv
from .diagnostics import DiagnosticReport, Finding, LayerReport, diagnose
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
from .monitor import Monitor, TrainingDiagnostics
from .neuron import Neuron
from .onnx_export import export_onnx
from .optim import SGD, AdaGrad, Adam, Optimizer, RMSprop
from .preprocess import Preprocessor
from .sanity import SanityReport, sanity_check
from .sequential import Sequential
from .tabular import TabularModel
from .train import fit

__version__ = "0.1.0"

# Modules that import an optional dependency load on first use, so that
# ``import shenjing`` needs NumPy only: ``sj.plot`` (matplotlib), ``sj.cli``,
# ``sj.sklearn`` (scikit-learn).
_LAZY_MODULES = ("cli", "plot", "sklearn")


def __getattr__(name: str):
    if name in _LAZY_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

"""shenjing (神经, "nerve"): neural networks on NumPy, with backpropagation written out.

Everything a user needs is here at the top level::

    import shenjing as sj
    net = sj.Sequential(sj.Linear(2, 30), sj.ReLU(), sj.Linear(30, 1))
    history = net.fit(x, y, loss="sse", optimizer=sj.SGD(lr=0.002), epochs=200)
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from .base.errors import (
    ConfigError,
    DataError,
    DivergenceError,
    DTypeError,
    ModelFileError,
    ShapeError,
    ShenjingError,
    StateError,
)
from .base.version import __version__
from .data import datasets
from .diagnosis.gradcheck import GradCheckResult, gradcheck
from .interop import checkpoint as _checkpoint  # noqa: F401  (registers the checkpoint file)
from .interop.modelfile import load, save
from .network.builder import mlp
from .network.fit import fit
from .network.sequential import Sequential
from .nn import activations, initializers
from .nn.activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .nn.batchnorm import BatchNorm
from .nn.dropout import Dropout
from .nn.layer import Layer, Parameter
from .nn.layernorm import LayerNorm
from .nn.linear import Linear
from .nn.maxout import Maxout
from .nn.neuron import Neuron
from .nn.softmax import Softmax
from .training import callbacks, losses, metrics, optim, schedules
from .training.callbacks import Callback, EarlyStopping, History, TrainState
from .training.losses import (
    BinaryCrossEntropy,
    Huber,
    Loss,
    MeanSquaredError,
    PoissonLoss,
    SoftmaxCrossEntropy,
    SumSquaredError,
)
from .training.optim import SGD, AdaGrad, Adam, AdamW, Optimizer, RMSprop
from .training.schedules import (
    CosineDecay,
    ExponentialDecay,
    OneCycle,
    ReduceOnPlateau,
    Schedule,
    StepDecay,
)

# The public modules keep the import paths of the flat layout they were first published
# in (``import shenjing.losses``, ``from shenjing.datasets import spiral``); each now lives
# in the folder of its layer of the package.
_PUBLIC_MODULES = {
    "activations": activations,
    "callbacks": callbacks,
    "datasets": datasets,
    "initializers": initializers,
    "losses": losses,
    "metrics": metrics,
    "optim": optim,
    "schedules": schedules,
}
for _name, _module in _PUBLIC_MODULES.items():
    sys.modules[f"{__name__}.{_name}"] = _module
del _name, _module

# The features beyond the core load on first use: ``import shenjing`` stays fast and
# needs NumPy only. Modules that import an optional dependency: ``sj.plot``
# (matplotlib), ``sj.sklearn`` (scikit-learn), ``sj.cli``. Names from feature modules,
# each found in the module that defines it:
_LAZY_MODULES = ("cli", "plot", "sklearn")
_LAZY_NAMES = {
    "compare": "comparison",
    "lr_find": "lrfind",
    "LRFindResult": "lrfind",
    "CompareResult": "comparison",
    "on_cluster": "comparison.cluster",
    "read_csv": "data.csvdata",
    "diagnose": "diagnosis.diagnostics",
    "DiagnosticReport": "diagnosis.report",
    "Finding": "diagnosis.report",
    "LayerReport": "diagnosis.report",
    "Monitor": "diagnosis.monitor",
    "TrainingDiagnostics": "diagnosis.monitor",
    "export_onnx": "interop.onnx_export",
    "Preprocessor": "data.preprocess",
    "sanity_check": "diagnosis.sanity",
    "SanityReport": "diagnosis.sanity",
    "TabularModel": "tabular",
}

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from .comparison import CompareResult, compare
    from .comparison.cluster import on_cluster
    from .data.csvdata import read_csv
    from .data.preprocess import Preprocessor
    from .diagnosis.diagnostics import DiagnosticReport, Finding, LayerReport, diagnose
    from .diagnosis.monitor import Monitor, TrainingDiagnostics
    from .diagnosis.sanity import SanityReport, sanity_check
    from .interop.onnx_export import export_onnx
    from .lrfind import LRFindResult, lr_find
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
    "AdamW",
    "BatchNorm",
    "BinaryCrossEntropy",
    "Callback",
    "CompareResult",
    "ConfigError",
    "CosineDecay",
    "DTypeError",
    "DataError",
    "DiagnosticReport",
    "DivergenceError",
    "Dropout",
    "EarlyStopping",
    "ExponentialDecay",
    "Finding",
    "GradCheckResult",
    "History",
    "Huber",
    "Identity",
    "LRFindResult",
    "Layer",
    "LayerNorm",
    "LayerReport",
    "LeakyReLU",
    "Linear",
    "Loss",
    "Maxout",
    "MeanSquaredError",
    "ModelFileError",
    "Monitor",
    "Neuron",
    "OneCycle",
    "Optimizer",
    "Parameter",
    "PoissonLoss",
    "Preprocessor",
    "RMSprop",
    "ReLU",
    "ReduceOnPlateau",
    "SanityReport",
    "Schedule",
    "Sequential",
    "ShapeError",
    "ShenjingError",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Softplus",
    "StateError",
    "StepDecay",
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
    "lr_find",
    "metrics",
    "mlp",
    "on_cluster",
    "optim",
    "read_csv",
    "sanity_check",
    "save",
    "schedules",
]

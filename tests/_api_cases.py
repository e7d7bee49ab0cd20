"""Bad arguments for the public API: the table the argument probe and its tests share.

Each case is a public callable with one valid set of arguments and, for each argument,
the *kind* of value it takes. :func:`bad_values` gives, for each kind, values that are
wrong for it (a wrong type, NaN, inf, an integer too large for a float, a string where
a boolean or a list of names belongs…). :func:`probe` calls every case once per bad value
of each argument and sorts the outcomes:

* ``library``: a :class:`shenjing.ShenjingError` (the goal);
* ``raw``: any other exception (a NumPy or Python error leaking out);
* ``accepted``: the call returned (a bad value silently used);
* ``nonfinite``: the call returned NaN or inf without a word.

Run ``python tests/_api_cases.py`` for the counts (``-v`` lists every non-library outcome).
"""

from __future__ import annotations

import math
import os
import signal
import sys
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import shenjing as sj

_HUGE = 10**400  # an int no float can hold


def _values(kind: str) -> list[Any]:
    """Values that are wrong for an argument of ``kind``."""
    common = [object(), 1j]
    if kind == "real":
        return [None, "0.1", _HUGE, -_HUGE, math.nan, math.inf, -math.inf, [0.1], True, *common]
    if kind == "int":
        return [None, "3", 1.5, math.nan, _HUGE, True, [3], *common]
    if kind == "int?":  # an int or None
        return ["3", 1.5, math.nan, _HUGE, True, [3], *common]
    if kind == "seed":  # None, an int >= 0 (any size: NumPy's seeds) or a Generator
        return ["3", 1.5, -1, math.nan, True, [1.5], *common]
    if kind == "widths":  # layer widths: a list of positive ints
        return [None, "64", 1.5, [0], [-1], [1.5], [True], ["a"], [_HUGE], *common]
    if kind == "real?":  # a real number or None
        return ["0.1", _HUGE, math.nan, math.inf, [0.1], True, *common]
    if kind == "dtype":  # float32 or float64 (None is NumPy's float64)
        return [3, "float16", "int64", np.int32, ["float32"], True, *common]
    if kind == "values":  # an array of any shape, empty included (elementwise layers)
        return [
            None,
            "abc",
            [["a", "b"]],
            np.array([[1 + 1j, 2]]),
            [[math.nan, 1.0]],
            [[math.inf, 1.0]],
            *common,
        ]
    if kind == "array?":  # an array or None
        return [
            "abc",
            [["a", "b"]],
            np.array([[1 + 1j, 2]]),
            [[math.nan, 1.0]],
            [[math.inf, 1.0]],
            *common,
        ]
    if kind == "dict?":  # a JSON object or None
        return [3, "x", [1], {"x": math.nan}, {"x": object()}, *common]
    if kind == "bool":
        return [None, "False", "no", "", 0.5, 2, [True], *common]
    if kind == "name":  # a registered name or an instance
        return [None, 3, b"relu", ["relu"], "no-such-name", True, *common]
    if kind == "name?":  # a registered name, an instance or None
        return [3, b"relu", ["relu"], "no-such-name", True, *common]
    if kind == "text":  # any string
        return [None, 3, b"x", ["x"], *common]
    if kind == "names":  # a sequence of strings
        return ["age", b"age", None, 3, [1, 2], [None], *common]
    if kind == "array":
        return [
            None,
            "abc",
            [["a", "b"]],
            np.array([[1 + 1j, 2]]),
            np.zeros((0, 2)),
            np.zeros((1, 2, 2, 2)),
            [[math.nan, 1.0]],
            [[math.inf, 1.0]],
            *common,
        ]
    if kind == "object":  # a network, optimizer, loss… of shenjing's own
        return [None, 3, "x", [1], *common]
    raise KeyError(kind)


def bad_values(kind: str) -> list[Any]:
    return _values(kind)


# -- the cases ------------------------------------------------------------------------
_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_Y = np.array([0, 1, 1, 0])
_Y1 = np.array([[0.0], [1.0], [1.0], [0.0]])


def _net() -> sj.Sequential:
    return sj.Sequential(sj.Linear(2, 3, seed=0), sj.Tanh(), sj.Linear(3, 2, seed=1))


def _ran(net: sj.Sequential) -> sj.Sequential:
    net.forward(_X)
    return net


def _frame() -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "age": [str(v) for v in (20, 30, 40, 50, 60, 70, 25, 35)],
            "city": ["a", "b", "a", "b", "a", "b", "a", "b"],
            "y": ["no", "yes", "no", "yes", "no", "yes", "no", "yes"],
        }
    )


def _csv_path() -> str:
    path = os.path.join(tempfile.mkdtemp(prefix="sj-probe-"), "t.csv")
    _frame().to_csv(path, index=False)
    return path


@dataclass
class Case:
    """``call(**kwargs)`` with ``valid`` kwargs; ``kinds`` says what each argument takes."""

    name: str
    call: Callable[..., Any]
    valid: dict[str, Any]
    kinds: dict[str, str]

    def run(self, **overrides: Any) -> Any:
        return self.call(**{**self.valid, **overrides})


def _method(make: Callable[[], Any], method: str) -> Callable[..., Any]:
    return lambda **kw: getattr(make(), method)(**kw)


def cases() -> list[Case]:
    opt_common = {"lr": "real", "weight_decay": "real"}
    layers = [
        Case("ELU", sj.ELU, {"alpha": 1.0}, {"alpha": "real"}),
        Case("LeakyReLU", sj.LeakyReLU, {"negative_slope": 0.1}, {"negative_slope": "real"}),
        Case("Huber", sj.Huber, {"delta": 1.0}, {"delta": "real"}),
        Case(
            "Linear",
            sj.Linear,
            {"in_features": 2, "out_features": 3, "bias": True, "init": "he", "seed": 0},
            {
                "in_features": "int",
                "out_features": "int",
                "bias": "bool",
                "init": "name",
                "dtype": "dtype",
                "seed": "seed",
            },
        ),
        Case(
            "Maxout",
            sj.Maxout,
            {"in_features": 2, "out_features": 3, "pieces": 2, "seed": 0},
            {
                "in_features": "int",
                "out_features": "int",
                "pieces": "int",
                "bias": "bool",
                "init": "name",
                "dtype": "dtype",
                "seed": "seed",
            },
        ),
        Case(
            "Neuron",
            sj.Neuron,
            {"weights": [0.5, -0.5], "bias": 0.1, "activation": "sigmoid"},
            {"weights": "array", "bias": "real", "activation": "name"},
        ),
        Case(
            "Neuron.forward",
            _method(lambda: sj.Neuron([0.5, -0.5]), "forward"),
            {"inputs": [1.0, 2.0]},
            {"inputs": "array"},
        ),
        Case(
            "SoftmaxCrossEntropy",
            sj.SoftmaxCrossEntropy,
            {"class_weight": [1.0, 2.0]},
            {"class_weight": "array?"},
        ),
        Case(
            "SGD",
            sj.SGD,
            {"lr": 0.1, "momentum": 0.9, "nesterov": True},
            {**opt_common, "momentum": "real", "nesterov": "bool"},
        ),
        Case("AdaGrad", sj.AdaGrad, {"lr": 0.1}, {**opt_common, "eps": "real"}),
        Case("Adam", sj.Adam, {"lr": 0.1}, {**opt_common, "eps": "real", "betas": "array"}),
        Case("RMSprop", sj.RMSprop, {"lr": 0.1}, {**opt_common, "eps": "real", "alpha": "real"}),
        Case("SGD.step", _method(sj.SGD, "step"), {"model": _net()}, {"model": "object"}),
        Case("Adam.step", _method(sj.Adam, "step"), {"model": _net()}, {"model": "object"}),
        Case("optim.get", sj.optim.get, {"optimizer": "adam"}, {"optimizer": "name"}),
        Case("losses.get", sj.losses.get, {"loss": "mse"}, {"loss": "name"}),
        Case("activations.get", sj.activations.get, {"activation": "relu"}, {"activation": "name"}),
        Case("metrics.get", sj.metrics.get, {"metric": "accuracy"}, {"metric": "name"}),
        Case(
            "EarlyStopping",
            sj.EarlyStopping,
            {"monitor": "loss", "patience": 2},
            {
                "monitor": "text",
                "patience": "int",
                "min_delta": "real",
                "mode": "name",
                "restore_best": "bool",
            },
        ),
        Case("Monitor", sj.Monitor, {"every": 2}, {"every": "int", "saturation_threshold": "real"}),
        Case("Sequential.forward", _method(_net, "forward"), {"x": _X}, {"x": "array"}),
        Case(
            "Sequential.predict",
            _method(_net, "predict"),
            {"x": _X},
            {"x": "array", "batch_size": "int?"},
        ),
        Case(
            "Sequential.predict_proba",
            _method(_net, "predict_proba"),
            {"x": _X},
            {"x": "array", "batch_size": "int?"},
        ),
        Case(
            "Sequential.predict_classes",
            _method(_net, "predict_classes"),
            {"x": _X},
            {"x": "array", "batch_size": "int?"},
        ),
        Case(
            "Sequential.evaluate",
            _method(_net, "evaluate"),
            {"x": _X, "y": _Y, "loss": "softmax_cross_entropy"},
            {"x": "array", "y": "array", "loss": "name?", "metrics": "names", "batch_size": "int?"},
        ),
        Case(
            "Sequential.backward",
            _method(lambda: _ran(_net()), "backward"),
            {"dout": np.ones((4, 2))},
            {"dout": "array", "need_dx": "bool"},
        ),
        Case(
            "Sequential.astype", _method(_net, "astype"), {"dtype": "float64"}, {"dtype": "dtype"}
        ),
        Case(
            "Sequential.reset_parameters",
            _method(_net, "reset_parameters"),
            {"seed": 0},
            {"seed": "seed"},
        ),
        Case(
            "Sequential.summary",
            _method(_net, "summary"),
            {"input_features": 2},
            {"input_features": "int?"},
        ),
        Case(
            "fit",
            lambda **kw: sj.fit(_net(), **kw),
            {
                "x": _X,
                "y": _Y,
                "loss": "softmax_cross_entropy",
                "epochs": 1,
                "batch_size": 2,
                "seed": 0,
            },
            {
                "x": "array",
                "y": "array",
                "loss": "name",
                "optimizer": "name?",
                "epochs": "int",
                "batch_size": "int?",
                "shuffle": "bool",
                "seed": "seed",
                "validation_split": "real?",
                "metrics": "names",
                "progress": "bool",
            },
        ),
        Case(
            "mlp",
            sj.mlp,
            {"in_features": 2, "hidden": [3], "out_features": 2, "seed": 0},
            {
                "in_features": "int",
                "hidden": "widths",
                "out_features": "int",
                "activation": "name",
                "init": "name?",
                "bias": "bool",
                "dtype": "dtype",
                "seed": "seed",
                "pieces": "int",
            },
        ),
        Case(
            "gradcheck",
            lambda **kw: sj.gradcheck(sj.Linear(2, 2, dtype="float64", seed=0), **kw),
            {"x": _X, "loss": "mse", "target": np.ones((4, 2))},
            {
                "x": "array",
                "loss": "name?",
                "eps": "real",
                "seed": "seed",
                "tolerance": "real",
                "check_input": "bool",
                "directions": "int?",
            },
        ),
        Case(
            "diagnose",
            lambda **kw: sj.diagnose(_net(), **kw),
            {"x": _X, "y": _Y, "loss": "softmax_cross_entropy"},
            {
                "x": "array",
                "y": "array",
                "loss": "name?",
                "batch_size": "int?",
                "saturation_threshold": "real",
            },
        ),
        Case(
            "sanity_check",
            lambda **kw: sj.sanity_check(_net(), **kw),
            {"x": _X, "y": _Y, "loss": "softmax_cross_entropy"},
            {"x": "array", "y": "array", "loss": "name?", "seed": "seed"},
        ),
        Case(
            "save",
            lambda **kw: sj.save(_net(), os.path.join(tempfile.mkdtemp(), "m.shj"), **kw),
            {"metadata": {}},
            {"metadata": "dict?"},
        ),
        Case("load", sj.load, {"path": "m.shj"}, {"path": "text"}),
        Case(
            "read_csv",
            lambda **kw: sj.read_csv(_csv_path(), **kw),
            {"sep": ","},
            {"sep": "text", "encoding": "text"},
        ),
        Case(
            "Preprocessor",
            sj.Preprocessor,
            {"numeric": ["age"]},
            {"numeric": "names", "categorical": "names", "missing": "name"},
        ),
        Case(
            "Preprocessor.fit",
            _method(sj.Preprocessor, "fit"),
            {"frame": _frame()},
            {"frame": "object", "source": "text"},
        ),
        Case(
            "TabularModel.fit",
            sj.TabularModel.fit,
            {"frame": _frame(), "target": "y", "hidden": [3], "epochs": 1, "batch_size": 4},
            {
                "target": "text",
                "task": "name?",
                "hidden": "widths",
                "activation": "name",
                "optimizer": "name",
                "lr": "real",
                "epochs": "int",
                "batch_size": "int",
                "validation": "real",
                "seed": "seed",
                "class_weight": "name?",
                "numeric": "names",
                "categorical": "names",
                "missing": "name",
                "progress": "bool",
            },
        ),
        Case(
            "datasets.spiral",
            sj.datasets.spiral,
            {"points_per_class": 5},
            {"points_per_class": "int", "classes": "int", "seed": "seed"},
        ),
        Case(
            "datasets.moons",
            sj.datasets.moons,
            {"n_samples": 10},
            {"n_samples": "int", "noise": "real", "seed": "seed"},
        ),
        Case(
            "datasets.circles",
            sj.datasets.circles,
            {"n_samples": 10},
            {"n_samples": "int", "noise": "real", "factor": "real", "seed": "seed"},
        ),
        Case(
            "datasets.blobs",
            sj.datasets.blobs,
            {"n_samples": 10},
            {
                "n_samples": "int",
                "centers": "int",
                "features": "int",
                "std": "real",
                "box": "real",
                "seed": "seed",
            },
        ),
        Case(
            "datasets.sine",
            sj.datasets.sine,
            {"n_samples": 10},
            {"n_samples": "int", "noise": "real", "low": "real", "high": "real", "seed": "seed"},
        ),
        Case("datasets.load", sj.datasets.load, {"name": "xor"}, {"name": "name"}),
        Case(
            "metrics.rmse",
            sj.metrics.rmse,
            {"y": [1.0, 2.0], "pred": [1.0, 2.5]},
            {"y": "array", "pred": "array"},
        ),
        Case(
            "metrics.r2",
            sj.metrics.r2,
            {"y": [1.0, 2.0], "pred": [1.0, 2.5]},
            {"y": "array", "pred": "array"},
        ),
        Case(
            "metrics.macro_f1",
            sj.metrics.macro_f1,
            {"y": [0, 1], "pred": [0, 0]},
            {"y": "array", "pred": "array"},
        ),
    ]
    layers += _cases_of_later_features()
    for loss in ("MeanSquaredError", "SumSquaredError", "BinaryCrossEntropy", "Huber"):
        layers.append(
            Case(
                f"{loss}.forward",
                _method(getattr(sj, loss), "forward"),
                {"pred": np.full((4, 1), 0.5), "target": _Y1},
                {"pred": "array", "target": "array"},
            )
        )
    layers.append(
        Case(
            "SoftmaxCrossEntropy.forward",
            _method(sj.SoftmaxCrossEntropy, "forward"),
            {"pred": np.zeros((4, 2)), "target": _Y},
            {"pred": "array", "target": "array"},
        )
    )
    for layer in ("ReLU", "Tanh", "Sigmoid", "Softplus", "GELU", "Identity"):
        layers.append(
            Case(
                f"{layer}.forward",
                _method(getattr(sj, layer), "forward"),
                {"x": _X},
                {"x": "values"},
            )
        )
    layers.append(
        Case(
            "Linear.forward",
            _method(lambda: sj.Linear(2, 3, seed=0), "forward"),
            {"x": _X},
            {"x": "values"},
        )
    )
    return layers


def _cases_of_later_features() -> list[Case]:
    """Normalisation, dropout, schedules, AdamW, lr_find and fit's newer options."""
    found = []
    if hasattr(sj, "AdamW"):
        found.append(
            Case(
                "AdamW",
                sj.AdamW,
                {"lr": 0.1},
                {"lr": "real", "weight_decay": "real", "eps": "real", "betas": "array"},
            )
        )
    if hasattr(sj, "Dropout"):
        found.append(Case("Dropout", sj.Dropout, {"p": 0.5}, {"p": "real", "seed": "seed"}))
    for norm in ("BatchNorm", "LayerNorm"):
        if hasattr(sj, norm):
            kinds = {"features": "int", "eps": "real", "affine": "bool", "dtype": "dtype"}
            if norm == "BatchNorm":
                kinds["momentum"] = "real"
            found.append(Case(norm, getattr(sj, norm), {"features": 2}, kinds))
    schedules = {
        "CosineDecay": {"warmup_steps": "int?", "min_lr": "real"},
        "ExponentialDecay": {"gamma": "real"},
        "OneCycle": {
            "max_lr": "real?",
            "pct_start": "real",
            "div_factor": "real",
            "final_div_factor": "real",
        },
        "ReduceOnPlateau": {
            "monitor": "text",
            "factor": "real",
            "patience": "int",
            "min_delta": "real",
            "mode": "name",
            "min_lr": "real",
            "cooldown": "int?",
        },
        "StepDecay": {"every": "int", "gamma": "real"},
    }
    for name, kinds in schedules.items():
        if hasattr(sj, name):
            found.append(Case(name, getattr(sj, name), {}, kinds))
    if hasattr(sj, "lr_find"):
        found.append(
            Case(
                "lr_find",
                lambda **kw: sj.lr_find(_net(), **kw),
                {"x": _X, "y": _Y, "loss": "softmax_cross_entropy", "steps": 5, "seed": 0},
                {
                    "x": "array",
                    "y": "array",
                    "loss": "name",
                    "optimizer": "name?",
                    "min_lr": "real",
                    "max_lr": "real",
                    "steps": "int",
                    "batch_size": "int?",
                    "seed": "seed",
                    "smoothing": "real",
                    "stop_factor": "real",
                },
            )
        )
    import inspect

    newer = {
        "clip_norm": "real?",
        "clip_value": "real?",
        "divergence": "real?",
        "checkpoint_every": "int?",
        "schedule": "name?",
    }
    accepted = inspect.signature(sj.fit).parameters
    kinds = {k: v for k, v in newer.items() if k in accepted}
    if kinds:
        found.append(
            Case(
                "fit (newer options)",
                lambda **kw: sj.fit(_net(), **kw),
                {
                    "x": _X,
                    "y": _Y,
                    "loss": "softmax_cross_entropy",
                    "epochs": 1,
                    "batch_size": 2,
                    "seed": 0,
                },
                kinds,
            )
        )
    return found


# -- the probe ------------------------------------------------------------------------
def _nonfinite(result: Any) -> bool:
    if isinstance(result, (float, np.floating)):
        return not math.isfinite(float(result))
    if isinstance(result, np.ndarray) and result.dtype.kind == "f":
        return not bool(np.isfinite(result).all())
    if isinstance(result, (tuple, list)):
        return any(_nonfinite(r) for r in result)
    return False


def attempts() -> Iterator[tuple[Case, str, Any]]:
    for case in cases():
        for arg, kind in case.kinds.items():
            for value in bad_values(kind):
                yield case, arg, value


class _Hang(BaseException):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Hang


def outcome(case: Case, arg: str, value: Any, limit: float = 5.0) -> tuple[str, str]:
    """(``library`` | ``raw`` | ``accepted`` | ``nonfinite`` | ``hang``, detail).

    A call still running after ``limit`` seconds is stopped and counted as ``hang``.
    """
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                result = case.run(**{arg: value})
    except _Hang:
        return "hang", f"still running after {limit:g} s"
    except sj.ShenjingError as exc:
        return "library", f"{type(exc).__name__}: {str(exc)[:80]}"
    except Exception as exc:
        return "raw", f"{type(exc).__name__}: {str(exc)[:80]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if _nonfinite(result):
        return "nonfinite", ""
    return "accepted", ""


def probe(verbose: bool = False) -> Counter[str]:
    counts: Counter[str] = Counter()
    for case, arg, value in attempts():
        kind, detail = outcome(case, arg, value)
        counts[kind] += 1
        if verbose and kind != "library":
            shown = repr(value)[:40]
            print(f"{kind:9} {case.name}({arg}={shown}) {detail}")
    return counts


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        counts = probe(verbose="-v" in sys.argv)
    n_cases = len(cases())
    print(f"{sum(counts.values())} bad arguments across {n_cases} callables: {dict(counts)}")

"""The package as a user meets it: light import, public API, error hierarchy."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib import resources

import pytest

import shenjing as sj


def test_import_needs_numpy_only():
    code = (
        "import sys, shenjing\n"
        "heavy = {'tqdm', 'matplotlib', 'scipy', 'sklearn', 'torch', 'pandas', 'pickle',\n"
        "         'starlette', 'uvicorn', 'websockets', 'anyio'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # pickle may be pulled in by the standard library itself; shenjing must not need
    # the others.
    loaded = set(ast.literal_eval(out.stdout))
    assert loaded <= {"pickle"}, loaded


def test_public_api_is_re_exported():
    for name in sj.__all__:
        assert hasattr(sj, name), name
    for name in [
        "Sequential",
        "Linear",
        "ReLU",
        "Maxout",
        "Neuron",
        "SGD",
        "Adam",
        "save",
        "load",
        "gradcheck",
        "ModelFileError",
        "ShenjingError",
        "datasets",
    ]:
        assert name in sj.__all__


def test_typed_marker_is_shipped():
    assert resources.files("shenjing").joinpath("py.typed").is_file()


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (sj.ShapeError, ValueError),
        (sj.DataError, ValueError),
        (sj.ConfigError, ValueError),
        (sj.ModelFileError, ValueError),
        (sj.DivergenceError, ValueError),
        (sj.StateError, ValueError),
        (sj.StateError, RuntimeError),
        (sj.DTypeError, TypeError),
    ],
)
def test_every_error_is_a_shenjing_error_and_a_builtin(error, builtin):
    assert issubclass(error, sj.ShenjingError)
    assert issubclass(error, builtin)


def test_repr_of_every_public_object_is_one_line():
    objects = [
        sj.Linear(2, 3, seed=0),
        sj.Maxout(2, 3, seed=0),
        sj.ReLU(),
        sj.Adam(),
        sj.SGD(lr=0.1, momentum=0.9),
        sj.SoftmaxCrossEntropy(),
        sj.Huber(0.5),
        sj.EarlyStopping(),
        sj.Neuron([1.0, 2.0]),
    ]
    for obj in objects:
        text = repr(obj)
        assert "\n" not in text and type(obj).__name__ in text


def test_feature_modules_load_on_first_use():
    # Keeps `import shenjing` fast (the benchmark times it); each name still resolves.
    code = (
        "import sys, shenjing as sj\n"
        "features = ['comparison', 'data.csvdata', 'diagnosis.diagnostics',\n"
        "            'interop.onnx_export', 'data.preprocess', 'diagnosis.sanity', 'tabular',\n"
        "            'plot', 'cli', 'sklearn']\n"
        "print([f for f in features if 'shenjing.' + f in sys.modules])\n"
        "from shenjing import diagnose, TabularModel\n"
        "print(sj.compare.__module__, sj.compare is sj.comparison.compare, diagnose.__name__)\n"
        "loaded = sorted(f for f in features if 'shenjing.' + f in sys.modules)\n"
        "print('diagnose' in dir(sj), loaded)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, second, third = out.stdout.splitlines()
    assert first == "[]"
    assert second == "shenjing.comparison.runner True diagnose"
    assert third == (
        "True ['comparison', 'data.csvdata', 'data.preprocess', 'diagnosis.diagnostics', 'tabular']"
    )


def test_the_published_module_paths_still_import():
    # The flat layout's public modules, as README and user code import them.
    code = (
        "import shenjing.losses, shenjing.optim, shenjing.metrics, shenjing.activations\n"
        "import shenjing.initializers, shenjing.callbacks, shenjing.datasets\n"
        "from shenjing.datasets import spiral\n"
        "from shenjing.losses import SoftmaxCrossEntropy\n"
        "import shenjing as sj\n"
        "print(shenjing.losses is sj.training.losses, shenjing.datasets is sj.data.datasets,\n"
        "      spiral is sj.datasets.spiral, SoftmaxCrossEntropy is sj.SoftmaxCrossEntropy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True"] * 4

"""ONNX export: onnxruntime gives shenjing's predictions for every layer type.

Parity is asserted element by element as ``|ort - predict| <= rtol·|predict| + rtol·max|predict|``
with rtol = 1e-6 for float32 and 1e-12 for float64: relative to each value, and, for
outputs that cancel to near zero, relative to the output's scale (a relative error of a
value that is itself rounding noise means nothing).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import shenjing as sj  # noqa: E402
from shenjing.interop.onnx_export import DEFAULT_OPSET, MIN_OPSET  # noqa: E402

RTOL = {"float32": 1e-6, "float64": 1e-12}
NEWEST = onnx.defs.onnx_opset_version()


def run_onnx(path, x):
    session = ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": x})[0]


def assert_parity(net, path, rng, rows=64):
    dtype = net.compute_dtype
    x = rng.standard_normal((rows, net.input_features)) * 3
    x[:4] *= 30  # saturating and large inputs too
    x = x.astype(dtype)
    got = run_onnx(path, x)
    want = net.predict(x)
    assert got.dtype == want.dtype and got.shape == want.shape
    rtol = RTOL[dtype.name]
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())


def randomised(net, rng):
    """Weights of unit scale (and non-zero biases), so every layer's part shows.

    BatchNorm's running statistics too: evaluation mode (what predict and the graph
    compute) reads them.
    """
    for p in net.parameters():
        p.value[...] = rng.standard_normal(p.value.shape)
    for layer in net.layers:
        if isinstance(layer, sj.BatchNorm):
            layer.running_mean[...] = rng.standard_normal(layer.features)
            layer.running_var[...] = rng.uniform(0.2, 3.0, layer.features)
    return net


# Fresh instances per test, with non-default arguments where a layer has any.
ACTIVATIONS = {
    "Sigmoid": sj.Sigmoid,
    "Tanh": sj.Tanh,
    "ReLU": sj.ReLU,
    "LeakyReLU": lambda: sj.LeakyReLU(0.1),
    "ELU": lambda: sj.ELU(0.7),
    "Softplus": sj.Softplus,
    "GELU": sj.GELU,
    "Identity": sj.Identity,
}


def network(kind: str, dtype: str) -> sj.Sequential:
    kw = dict(dtype=dtype)
    if kind == "linear":
        return sj.Sequential(sj.Linear(5, 7, seed=0, **kw))
    if kind == "linear_no_bias":
        return sj.Sequential(sj.Linear(5, 7, bias=False, seed=0, **kw))
    if kind == "maxout":
        return sj.Sequential(sj.Maxout(5, 7, pieces=3, seed=0, **kw))
    if kind == "maxout_no_bias":
        return sj.Sequential(sj.Maxout(5, 7, pieces=2, bias=False, seed=0, **kw))
    act = ACTIVATIONS[kind]()
    return sj.Sequential(sj.Linear(5, 16, seed=0, **kw), act, sj.Linear(16, 3, seed=1, **kw))


# The layers that are not activations, each between two Linear layers (train=True:
# the network is left in training mode, which the export must ignore).
OTHER_LAYERS = {
    "Dropout": lambda dt: sj.Dropout(0.5, seed=0),
    "BatchNorm": lambda dt: sj.BatchNorm(16, momentum=0.3, eps=1e-3, dtype=dt),
    "BatchNorm_no_affine": lambda dt: sj.BatchNorm(16, affine=False, dtype=dt),
    "LayerNorm": lambda dt: sj.LayerNorm(16, eps=1e-4, dtype=dt),
    "LayerNorm_no_affine": lambda dt: sj.LayerNorm(16, affine=False, dtype=dt),
    "Softmax": lambda dt: sj.Softmax(),
}


def network_with(kind: str, dtype: str) -> sj.Sequential:
    kw = dict(dtype=dtype)
    middle = OTHER_LAYERS[kind](dtype)
    return sj.Sequential(sj.Linear(5, 16, seed=0, **kw), middle, sj.Linear(16, 3, seed=1, **kw))


KINDS = ["linear", "linear_no_bias", "maxout", "maxout_no_bias", *ACTIVATIONS]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", KINDS)
def test_onnxruntime_matches_predict_for_every_layer_type(kind, dtype, tmp_path, rng):
    net = randomised(network(kind, dtype), rng)
    path = tmp_path / "net.onnx"
    model = sj.export_onnx(net, path)
    onnx.checker.check_model(onnx.load(os.fspath(path)), full_check=True)
    assert model.opset_import[0].version == DEFAULT_OPSET
    assert_parity(net, path, rng)


@pytest.mark.parametrize("opset", sorted({MIN_OPSET, 16, DEFAULT_OPSET, 18, NEWEST}))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", list(OTHER_LAYERS))
def test_onnxruntime_matches_predict_for_the_other_layers(kind, dtype, opset, tmp_path, rng):
    net = randomised(network_with(kind, dtype), rng)
    assert net.training  # export and predict both use evaluation mode regardless
    path = tmp_path / "net.onnx"
    sj.export_onnx(net, path, opset=opset)
    onnx.checker.check_model(onnx.load(os.fspath(path)), full_check=True)
    assert_parity(net, path, rng)
    assert net.training and all(layer.training for layer in net)


def test_a_softmax_network_outputs_probabilities(tmp_path, rng):
    net = randomised(network_with("Softmax", "float32"), rng)
    net = sj.Sequential(*net.layers, sj.Softmax())
    sj.export_onnx(net, tmp_path / "p.onnx")
    p = run_onnx(tmp_path / "p.onnx", rng.standard_normal((10, 5)).astype(np.float32))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)


def test_every_layer_type_is_covered():
    from shenjing.nn.registry import LAYER_TYPES

    covered = {type(network(k, "float32")[1 if k in ACTIVATIONS else 0]).__name__ for k in KINDS}
    covered |= {type(network_with(k, "float32")[1]).__name__ for k in OTHER_LAYERS}
    ours = {n for n, cls in LAYER_TYPES.items() if cls.__module__.startswith("shenjing.")}
    assert covered == ours


def test_every_activation_is_covered():
    exported = {type(make()).__name__ for make in ACTIVATIONS.values()}
    assert exported == {type(sj.activations.get(n)).__name__ for n in sj.activations.names()}


@pytest.mark.parametrize("opset", sorted({MIN_OPSET, DEFAULT_OPSET, 18, NEWEST}))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_opset_runs_a_deep_mixed_network(opset, dtype, tmp_path, rng):
    kw = dict(dtype=dtype)
    net = sj.Sequential(
        sj.Linear(6, 12, seed=0, **kw),
        sj.GELU(),
        sj.Maxout(12, 10, pieces=4, seed=1, **kw),
        sj.LeakyReLU(0.05),
        sj.Linear(10, 8, seed=2, **kw),
        sj.ELU(),
        sj.Linear(8, 8, bias=False, seed=3, **kw),
        sj.Softplus(),
        sj.Linear(8, 4, seed=4, **kw),
    )
    randomised(net, rng)
    path = tmp_path / f"net{opset}.onnx"
    sj.export_onnx(net, path, opset=opset)
    model = onnx.load(os.fspath(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == opset
    assert_parity(net, path, rng)


def test_graph_interface_names_dtype_and_symbolic_batch(tmp_path, rng):
    net = randomised(sj.Sequential(sj.Linear(3, 4, seed=0), sj.Tanh()), rng)
    model = sj.export_onnx(net, tmp_path / "m.onnx")
    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, out.name) == ("input", "output")
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    dims = [(d.dim_param, d.dim_value) for d in inp.type.tensor_type.shape.dim]
    assert dims == [("N", 0), ("", 3)]
    assert [d.dim_value for d in out.type.tensor_type.shape.dim] == [0, 4]
    assert model.producer_name == "shenjing"
    for rows in (1, 3, 1000):  # any batch size runs
        x = rng.standard_normal((rows, 3)).astype(np.float32)
        assert run_onnx(tmp_path / "m.onnx", x).shape == (rows, 4)


def test_a_trained_classifier_exports_its_scores(tmp_path):
    X, y = sj.datasets.spiral(points_per_class=30, classes=3, seed=0)
    net = sj.Sequential(sj.Linear(2, 16, seed=0), sj.ReLU(), sj.Linear(16, 3, seed=1))
    net.fit(X, y, loss="softmax_cross_entropy", epochs=5, seed=0)
    sj.export_onnx(net, tmp_path / "clf.onnx")
    scores = run_onnx(tmp_path / "clf.onnx", X.astype(np.float32))
    np.testing.assert_array_equal(scores.argmax(axis=1), net.predict_classes(X))


def test_a_model_file_and_a_single_layer_are_accepted(tmp_path, rng):
    net = randomised(sj.Sequential(sj.Maxout(4, 3, seed=0), sj.Sigmoid()), rng)
    net.metadata = {"preprocessing": {"note": "kept in the model file only"}}
    sj.save(net, tmp_path / "model.shj")
    model = sj.export_onnx(str(tmp_path / "model.shj"), tmp_path / "from_file.onnx")
    assert len(model.graph.node) > 0
    assert_parity(net, tmp_path / "from_file.onnx", rng)
    layer = randomised(sj.Sequential(sj.Linear(4, 2, seed=0)), rng)[0]
    sj.export_onnx(layer, tmp_path / "layer.onnx")
    assert_parity(sj.Sequential(layer), tmp_path / "layer.onnx", rng)


class Doubler(sj.Layer):
    """A user's own layer: shenjing cannot know its ONNX form."""

    def forward(self, x):
        return 2 * np.asarray(x)

    def backward(self, dout, need_dx=True):
        return 2 * np.asarray(dout)


class MyReLU(sj.ReLU):
    """A subclass may change the formula, so it is not exported as its base."""


@pytest.mark.parametrize("layer", [Doubler(), MyReLU()])
def test_unsupported_layer_is_refused_and_nothing_is_written(layer, tmp_path):
    net = sj.Sequential(sj.Linear(2, 2, seed=0), layer)
    target = tmp_path / "out.onnx"
    target.write_bytes(b"old")
    with pytest.raises(sj.ConfigError, match=r"layer 1 .* has no ONNX form; exportable.*Maxout"):
        sj.export_onnx(net, target)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.onnx"]  # no temporary file left behind


@pytest.mark.parametrize("opset", [MIN_OPSET - 1, NEWEST + 1, "17", 17.0, True])
def test_bad_opset(opset, tmp_path):
    with pytest.raises(sj.ConfigError, match="opset must be"):
        sj.export_onnx(sj.Sequential(sj.ReLU()), tmp_path / "x.onnx", opset=opset)
    assert not (tmp_path / "x.onnx").exists()


def test_bad_paths(tmp_path):
    net = sj.Sequential(sj.Linear(2, 2, seed=0))
    with pytest.raises(sj.ModelFileError, match="does not exist"):
        sj.export_onnx(net, tmp_path / "missing" / "x.onnx")
    with pytest.raises(sj.ModelFileError, match="is a folder"):
        sj.export_onnx(net, tmp_path)
    with pytest.raises(sj.ModelFileError):
        sj.export_onnx(tmp_path / "no-such-model.shj", tmp_path / "x.onnx")
    with pytest.raises(sj.DTypeError, match="net must be"):
        sj.export_onnx({"W": 1}, tmp_path / "x.onnx")


def test_replacing_a_file_is_atomic(tmp_path, rng):
    target = tmp_path / "net.onnx"
    target.write_bytes(b"previous")
    net = randomised(sj.Sequential(sj.Linear(3, 2, seed=0)), rng)
    sj.export_onnx(net, target)
    assert onnx.load(os.fspath(target)).graph.node
    assert sorted(os.listdir(tmp_path)) == ["net.onnx"]


def test_missing_onnx_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'shenjing\[onnx\]'"):
        sj.export_onnx(sj.Sequential(sj.ReLU()), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_import_shenjing_does_not_import_onnx():
    import subprocess

    code = "import sys, shenjing; print('onnx' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_estimator_network_exports(tmp_path):
    pytest.importorskip("sklearn")
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from shenjing.sklearn import MLPClassifier

    X, y = sj.datasets.spiral(points_per_class=20, classes=3, seed=1)
    clf = MLPClassifier((8,), activation="maxout", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    sj.export_onnx(clf.net_, tmp_path / "clf.onnx")
    scores = run_onnx(tmp_path / "clf.onnx", X.astype(np.float64))
    np.testing.assert_array_equal(clf.classes_[scores.argmax(axis=1)], clf.predict(X))


def test_a_tabular_model_file_exports_its_network(tmp_path):
    pytest.importorskip("pandas")
    import csv

    path = tmp_path / "shop.csv"
    with open(path, "w", newline="") as f:
        rows = [["visits", "country", "bought"]]
        rows += [[v, c, "yes" if v > 5 else "no"] for v in range(12) for c in ("fr", "jp")]
        csv.writer(f).writerows(rows)
    shop = sj.read_csv(path)
    model = sj.TabularModel.fit(shop, "bought", hidden=[8], epochs=5, seed=0)
    model.save(tmp_path / "shop.shj")
    sj.export_onnx(tmp_path / "shop.shj", tmp_path / "shop.onnx")
    # The graph takes the encoded features: the preprocessing stays outside it.
    features = model.transform(shop).astype(model.net.compute_dtype)
    scores = run_onnx(tmp_path / "shop.onnx", features)
    want = model.net.predict(features)
    np.testing.assert_allclose(scores, want, rtol=1e-6, atol=1e-6 * np.abs(want).max())
    assert list(np.asarray(model.classes)[scores.argmax(axis=1)]) == list(model.predict(shop))

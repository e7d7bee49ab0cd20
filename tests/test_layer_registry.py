"""The layer registry: a new layer type is one class and one decorator, nothing else.

``RegistryTestScale`` below is registered once, when pytest imports this module, and
stays registered for the whole test process: its name is unique to this file, and tests
that check shenjing's own table leave out the layers test modules register.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import shenjing as sj
from shenjing.interop.modelfile import LAYER_TYPES
from shenjing.nn.registry import KINDS, LAYERS, layer_kind, layer_type, register_layer


@register_layer
class RegistryTestScale(sj.Layer):
    """y = x · s, one learnt scale per feature.

    Forward:  y[n, j] = x[n, j] · s[j]
    Backward: ds[j] = Σ_n dout[n, j] · x[n, j],   dx = dout · s
    """

    def __init__(self, features: int = 1, dtype: str = "float64") -> None:
        super().__init__()
        self.features = features
        self.params["s"] = np.ones(features, dtype)
        self.grads["s"] = np.zeros(features, dtype)
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = np.asarray(x, dtype=self.params["s"].dtype)
        return self._x * self.params["s"]

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        self._require_forward(self._x)
        self.grads["s"][...] = (dout * self._x).sum(axis=0)
        return dout * self.params["s"] if need_dx else None

    @property
    def input_features(self) -> int:
        return self.features

    def get_config(self) -> dict[str, Any]:
        return {"features": self.features, "dtype": self.params["s"].dtype.name}


class RegistryTestUnregisteredReLU(sj.ReLU):
    """Not registered: a subclass may change the function."""


@register_layer
class RegistryTestOwnReLU(sj.ReLU):
    """Registered without a kind: its own entry, kind "other", not ReLU's."""


@register_layer(kind="relu")
class RegistryTestReLUKind(sj.ReLU):
    """Registered with ReLU's kind."""


def make_net(dtype: str = "float64") -> sj.Sequential:
    scale = RegistryTestScale(3, dtype=dtype)
    scale.params["s"][...] = [0.5, -2.0, 3.0]
    return sj.Sequential(scale, sj.Linear(3, 2, seed=0, dtype=dtype))


@pytest.fixture
def data(rng):
    return rng.standard_normal((16, 3)), rng.standard_normal((16, 2))


def test_the_decorator_registers_the_class_under_its_name():
    entry = layer_type(RegistryTestScale)
    assert entry is not None and entry == layer_type(RegistryTestScale(2))
    assert (entry.name, entry.cls, entry.kind) == ("RegistryTestScale", RegistryTestScale, "other")
    assert LAYERS.get("registrytestscale") is entry
    assert LAYER_TYPES["RegistryTestScale"] is RegistryTestScale  # the live view sees it
    assert "RegistryTestScale" in LAYER_TYPES and len(LAYER_TYPES) == len(list(LAYER_TYPES))


def test_the_built_in_layers_are_registered_with_their_kinds():
    kinds = {
        sj.Linear: "other",
        sj.Maxout: "maxout",
        sj.ReLU: "relu",
        sj.LeakyReLU: "leaky_relu",
        sj.Sigmoid: "sigmoid",
        sj.Tanh: "tanh",
        sj.ELU: "other",
        sj.Softplus: "other",
        sj.GELU: "other",
        sj.Identity: "other",
        # Statistics only: a BatchNorm output at 0 is the batch mean, not a dead unit.
        sj.Dropout: "other",
        sj.BatchNorm: "other",
        sj.LayerNorm: "other",
        sj.Softmax: "other",
    }
    for cls, kind in kinds.items():
        assert layer_kind(cls) == kind, cls
        assert LAYER_TYPES[cls.__name__] is cls
    assert layer_type(sj.Neuron) is None  # a neuron is not a network layer
    assert "Neuron" not in LAYER_TYPES
    assert set(KINDS) == {"relu", "leaky_relu", "sigmoid", "tanh", "maxout", "other"}


def test_gradcheck_in_float64(rng):
    layer = RegistryTestScale(4)
    layer.params["s"][...] = rng.standard_normal(4)
    assert sj.gradcheck(layer, rng.standard_normal((5, 4)))


def test_save_and_load_round_trip(tmp_path, data):
    x, _ = data
    net = make_net()
    sj.save(net, tmp_path / "m.shj")
    back = sj.load(tmp_path / "m.shj")
    assert [type(layer) for layer in back.layers] == [RegistryTestScale, sj.Linear]
    assert back[0].get_config() == {"features": 3, "dtype": "float64"}
    np.testing.assert_array_equal(back[0].params["s"], [0.5, -2.0, 3.0])
    np.testing.assert_array_equal(back[1].W, net[1].W)
    np.testing.assert_array_equal(back.predict(x), net.predict(x))


def test_it_appears_in_the_summary():
    summary = make_net().summary()
    assert "RegistryTestScale(features=3, dtype='float64')" in summary
    assert "(N, 3)" in summary
    assert "Total parameters: 11" in summary  # 3 scales + 3 × 2 weights + 2 biases


def test_it_is_diagnosed_as_other(data):
    x, y = data
    net = make_net()
    assert layer_kind(net[0]) == "other"  # what diagnose measures by
    report = sj.diagnose(net, x, y, loss="mse")
    layer = report.layers[0]
    assert (layer.index, layer.name, layer.units, layer.rows) == (0, "RegistryTestScale", 3, 16)
    assert layer.dead_fraction is None and layer.saturated_fraction is None  # kind "other"
    assert layer.active_fraction is None
    assert layer.grad_rms is not None and layer.grad_rms > 0
    assert layer.param_norms == {"s": pytest.approx(np.linalg.norm([0.5, -2.0, 3.0]))}
    assert "RegistryTestScale" in str(report)


def test_a_registered_subclass_gets_its_own_kind_and_an_unregistered_one_none():
    assert layer_kind(RegistryTestUnregisteredReLU()) == "other"
    assert layer_type(RegistryTestUnregisteredReLU) is None
    assert layer_kind(RegistryTestOwnReLU()) == "other"  # the default, not ReLU's
    assert layer_kind(RegistryTestReLUKind()) == "relu"
    assert layer_kind(sj.ReLU()) == "relu"


def test_registering_a_name_twice_is_refused():
    n = len(LAYER_TYPES)
    with pytest.raises(ValueError, match="registered twice"):
        register_layer(RegistryTestScale)  # the same class again
    same_name = type("RegistryTestScale", (sj.Layer,), {})  # another class of that name
    with pytest.raises(ValueError, match="layer type name 'registrytestscale' registered twice"):
        register_layer(same_name)

    with pytest.raises(ValueError, match="layer type name 'linear' registered twice"):

        @register_layer
        class LINEAR(sj.Linear):  # names differing in case only would make files ambiguous
            pass

    assert len(LAYER_TYPES) == n
    assert LAYER_TYPES["Linear"] is sj.Linear


def test_bad_registrations_are_refused():
    with pytest.raises(ValueError, match="layer kind must be one of relu, leaky_relu"):
        register_layer(kind="dead")
    with pytest.raises(TypeError, match="decorates a layer class"):
        register_layer(lambda x: x)
    with pytest.raises(TypeError, match="decorates a layer class"):
        register_layer(int)


def test_an_unregistered_subclass_of_linear_is_refused_by_save(tmp_path):
    class RegistryTestMyLinear(sj.Linear):
        pass

    net = sj.Sequential(sj.Linear(2, 3, seed=0), RegistryTestMyLinear(3, 1, seed=1))
    with pytest.raises(sj.ConfigError, match="layer 1 is a RegistryTestMyLinear, which a model"):
        sj.save(net, tmp_path / "m.shj")
    assert list(tmp_path.iterdir()) == []


def test_onnx_refuses_a_registered_layer_it_cannot_lower(tmp_path):
    pytest.importorskip("onnx")
    target = tmp_path / "m.onnx"
    with pytest.raises(sj.ConfigError) as info:
        sj.export_onnx(make_net(), target)
    message = str(info.value)
    assert message.startswith("layer 0 (RegistryTestScale(features=3, dtype='float64'))")
    assert "RegistryTestScale is a registered layer type, but ONNX cannot lower it" in message
    exportable = "BatchNorm, Dropout, ELU, GELU, Identity, LayerNorm, LeakyReLU, Linear, Maxout"
    assert f"exportable layers: {exportable}" in message
    assert not target.exists()


def test_the_lowering_lookup_refuses_without_onnx():
    from shenjing.interop.onnx_export import _layer

    # The lookup comes before any node is made, so no graph (and no onnx) is needed.
    with pytest.raises(sj.ConfigError, match="ONNX cannot lower it"):
        _layer(None, RegistryTestScale(2), 3, "input")  # type: ignore[arg-type]
    with pytest.raises(sj.ConfigError, match="Doubled is not a registered layer type"):
        _layer(None, type("Doubled", (sj.Identity,), {})(), 0, "input")  # type: ignore[arg-type]

"""A playground session without the web: configuration bounds, training with fit, the
state it streams, weight edits, the model files and the Python snippet."""

from __future__ import annotations

import base64
import contextlib
import io
import json

import numpy as np
import pytest

import shenjing as sj
from shenjing.playground import config as cfg
from shenjing.playground import encode
from shenjing.playground.config import Config, parse_config
from shenjing.playground.session import Session
from shenjing.playground.snippet import snippet
from shenjing.playground.train import Regularization
from shenjing.playground.upload import read_points


def test_defaults_round_trip_and_partial_updates():
    base = Config()
    assert parse_config(base.to_dict()) == base
    changed = parse_config({"activation": "relu", "hidden": [3, 3, 3]}, base)
    assert changed.activation == "relu" and changed.hidden == (3, 3, 3)
    assert changed.lr == base.lr


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("nope", "JSON object"),
        ({"colour": "red"}, "unknown config field 'colour'"),
        ({"hidden": [8] * (cfg.MAX_LAYERS + 1)}, "at most 6"),
        ({"hidden": [cfg.MAX_NEURONS + 1]}, "from 1 to 8"),
        ({"hidden": [0]}, "from 1 to 8"),
        ({"batch": cfg.MAX_BATCH + 1}, "batch must be a whole number from 1 to 30"),
        ({"batch": 2.5}, "batch"),
        ({"resolution": 10_000}, "resolution"),
        ({"lr": 0}, "lr must be a number above 0"),
        ({"lr": 1e9}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"noise": 51}, "noise"),
        ({"train_percent": 95}, "train_percent"),
        ({"seed": -1}, "seed"),
        ({"seed": True}, "seed"),
        ({"features": []}, "features"),
        ({"features": ["x9"]}, "features must be one of"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"dataset": "plane"}, "dataset must be one of circle"),  # a regression set
        ({"loss": "huber"}, "loss must be one of"),  # a regression loss
        ({"reg_rate": 5}, "reg_rate"),
    ],
)
def test_every_size_and_choice_is_bounded(raw, message):
    with pytest.raises(sj.ConfigError, match=message):
        parse_config(raw)


def test_every_activation_loss_and_optimizer_trains():
    for activation in cfg.ACTIVATIONS:
        for optimizer in cfg.OPTIMIZERS:
            s = Session(Config(hidden=(3,), activation=activation, optimizer=optimizer, lr=0.01))
            s.train_epoch()
            assert s.epoch == 1 and s.step == 25  # 250 training points, batch 10
    for problem, losses in cfg.LOSSES.items():
        dataset = "circle" if problem == "classification" else "bump"
        for loss in losses:
            s = Session()
            s.configure({"problem": problem, "dataset": dataset, "loss": loss})
            s.train_epoch()
            _, train, test = s.measure()
            assert np.isfinite([train, test]).all()


def test_training_lowers_the_loss_and_the_state_has_every_map():
    s = Session(Config(dataset="gauss", hidden=(8, 8), activation="tanh", lr=0.1))
    first = s.measure()[1]
    for _ in range(5):
        s.train_epoch()
    state = encode.state_message(s)
    json.dumps(state, allow_nan=False)
    assert state["train_loss"] < first and state["step"] == 125
    assert [len(layer["units"]) for layer in state["hidden"]] == [8, 8]
    size = s.config.neuron_resolution
    for layer in state["hidden"]:
        for unit in layer["units"]:
            assert len(base64.b64decode(unit["map"])) == size * size and unit["scale"] > 0
    assert len(base64.b64decode(state["output"]["map"])) == s.config.resolution**2
    assert [w["layer"] for w in state["weights"]] == [0, 2, 4]
    assert np.array(state["weights"][1]["W"]).shape == (8, 8)
    assert [row["layer"] for row in state["layers"]] == [0, 2, 4]
    assert all(row["update_ratio"] > 0 for row in state["layers"])


def test_a_dead_relu_case_is_shown_dead():
    s = Session(Config(hidden=(8, 8), activation="relu", lr=3.0))
    s.train_epoch()
    state = encode.state_message(s)
    last = state["hidden"][1]
    assert last["dead"] >= 4
    assert last["dead"] == sum(u["dead"] for u in last["units"])
    # Dead: 0 on every training point (the plane beyond the points may differ).
    outputs = s.net.forward_trace(s.inputs(s.data.x_train))[last["layer"]]
    for u, unit in enumerate(last["units"]):
        assert unit["dead"] == bool((outputs[:, u] == 0).all())
    assert "dead_units" in [f["code"] for f in state["findings"]]


def test_saturated_tanh_units_are_marked():
    s = Session(Config(hidden=(4,), activation="tanh"))
    s.net.layers[0].params["W"][...] *= 50  # big weights push tanh into its flat parts
    state = encode.state_message(s)
    assert state["hidden"][0]["saturated"] >= 3
    assert "saturated_units" in [f["code"] for f in state["findings"]]


def test_training_changes_keep_the_network_other_changes_reset_it():
    s = Session()
    s.train_epoch()
    before = [p.value.copy() for p in s.net.parameters()]
    s.configure({"lr": 0.5, "batch": 5, "regularization": "l1", "reg_rate": 0.001})
    assert s.epoch == 1 and s.optimizer.lr == 0.5
    assert all(np.array_equal(a, p.value) for a, p in zip(before, s.net.parameters(), strict=True))
    s.configure({"activation": "relu"})
    assert s.epoch == 0 and s.step == 0
    old = s.data.x_train.copy()
    s.configure({"noise": 30})
    assert not np.array_equal(old, s.data.x_train)


def test_a_refused_configuration_changes_nothing():
    s = Session()
    s.train_epoch()
    with pytest.raises(sj.ConfigError):
        s.configure({"activation": "relu", "hidden": [99]})
    assert s.config == Config() and s.epoch == 1
    with pytest.raises(sj.ConfigError, match="upload a CSV file first"):
        s.configure({"dataset": "upload"})


def test_regularization_adds_its_gradient():
    rng = np.random.default_rng(0)
    net = sj.mlp(2, [3], 1, seed=0, dtype="float64")
    x, y = rng.standard_normal((8, 2)), rng.standard_normal((8, 1))

    def grads(callbacks):
        probe = _Probe()
        sj.fit(
            net,
            x,
            y,
            loss="mse",
            optimizer=sj.SGD(lr=1e-12),
            epochs=1,
            batch_size=None,
            shuffle=False,
            callbacks=[*callbacks, probe],
        )
        return probe.grads

    plain = grads([])
    w = [layer.params["W"].copy() for layer in net.layers if "W" in layer.params]
    l2 = grads([Regularization("l2", 0.5)])
    l1 = grads([Regularization("l1", 0.5)])
    for i, weights in enumerate(w):
        np.testing.assert_allclose(l2[i], plain[i] + 0.5 * weights, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(l1[i], plain[i] + 0.5 * np.sign(weights), rtol=1e-6, atol=1e-9)
    with pytest.raises(sj.ConfigError):
        Regularization("l3", 1.0)


class _Probe(sj.Callback):
    def on_backward_end(self, state):
        self.grads = [layer.grads["W"].copy() for layer in state.net.layers if "W" in layer.grads]


def test_weight_edits_are_bounded():
    s = Session()
    s.set_parameter(0, "W", [1, 2], 1.5)
    assert s.net.layers[0].params["W"][1, 2] == 1.5
    s.set_parameter(2, "b", [0], -0.25)
    assert s.net.layers[2].params["b"][0] == -0.25
    for args in [
        (9, "W", [0, 0], 1.0),
        (1, "W", [0, 0], 1.0),  # an activation has no weights
        (0, "V", [0, 0], 1.0),
        (0, "W", [5, 0], 1.0),
        (0, "W", [0], 1.0),
        (0, "W", [0, 0], 1e6),
        (0, "W", [0, 0], float("inf")),
        (0, "W", [0, 0], "1"),
    ]:
        with pytest.raises(sj.ConfigError):
            s.set_parameter(*args)


def test_snippet_retrains_the_same_network_bit_for_bit():
    s = Session(
        Config(
            dataset="xor",
            noise=20,
            hidden=(5, 3),
            activation="relu",
            optimizer="adam",
            lr=0.01,
            batch=7,
            regularization="l2",
            reg_rate=0.01,
            features=("x1", "x2", "x1x2"),
            seed=3,
        )
    )
    for _ in range(3):
        s.train_epoch()
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        exec(snippet(s), namespace)
    assert "test loss" in out.getvalue()
    for mine, theirs in zip(s.net.parameters(), namespace["net"].parameters(), strict=True):
        np.testing.assert_array_equal(mine.value, theirs.value)


def test_uploaded_points_train_and_switch_the_loss_for_three_classes(tmp_path):
    rows = "".join(f"{i % 7},{i % 5},{'abc'[i % 3]}\n" for i in range(60))
    s = Session()
    notices = s.use_points(read_points("u,v,k\n" + rows))
    assert s.config.dataset == "upload" and s.config.loss == "softmax_cross_entropy"
    assert any("3 classes" in n for n in notices)
    assert s.net.output_features(2) == 3
    s.train_epoch()
    state = encode.state_message(s)
    assert "confidence" in state["output"]
    assert "read_points" in snippet(s)


def test_model_files_load_back():
    s = Session(Config(hidden=(3,), activation="maxout"))
    s.train_epoch()
    path = _write(s.model_file(), "m.shj")
    net = sj.load(path)
    x = s.inputs(s.data.x_test)
    np.testing.assert_array_equal(net.predict(x), s.net.predict(x))
    assert net.metadata["playground"]["activation"] == "maxout"
    pytest.importorskip("onnx")
    import onnx

    model = onnx.load_from_string(s.onnx_file())
    assert model.graph.input[0].name


def _write(content: bytes, name: str) -> str:
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / name
    path.write_bytes(content)
    return str(path)


def test_a_regression_upload_switches_the_problem_and_its_loss():
    s = Session()  # classification, binary cross-entropy
    rows = "".join(f"{i % 7},{i % 5},{(i % 7) * 0.37 - (i % 5) * 0.21}\n" for i in range(30))
    s.use_points(read_points("u,v,y\n" + rows))
    assert s.config.problem == "regression" and s.config.loss == "mse"
    s.train_epoch()
    assert encode.state_message(s)["output"]["map"]

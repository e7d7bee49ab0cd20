"""Model files, version 2: running statistics and random state stored, damaged ones refused."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import shenjing as sj


def stateful_net():
    net = sj.Sequential(
        sj.Linear(3, 4, bias=False, seed=0),
        sj.BatchNorm(4),
        sj.ReLU(),
        sj.Dropout(0.5, seed=1),
        sj.Linear(4, 2, seed=2),
    )
    net.forward(np.random.default_rng(0).standard_normal((8, 3)))  # move the state
    return net


def members(path):
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def rewrite(path, change_doc=None, drop=(), add=None):
    old = members(path)
    doc = json.loads(old["shenjing.json"])
    if change_doc is not None:
        change_doc(doc)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("shenjing.json", json.dumps(doc))
        for name, data in old.items():
            if name != "shenjing.json" and name not in drop:
                zf.writestr(name, data)
        for name, data in (add or {}).items():
            zf.writestr(name, data)


def test_a_stateful_network_is_version_2_and_round_trips(tmp_path):
    net = stateful_net()
    sj.save(net, tmp_path / "m.shj")
    found = members(tmp_path / "m.shj")
    doc = json.loads(found["shenjing.json"])
    assert doc["version"] == 2
    assert list(found) == [  # the parameters, then the persistent arrays
        "shenjing.json",
        "params/0.W.npy",
        "params/1.gamma.npy",
        "params/1.beta.npy",
        "params/4.W.npy",
        "params/4.b.npy",
        "state/1.running_mean.npy",
        "state/1.running_var.npy",
    ]
    assert doc["layers"][3]["rng_state"] == net[3].rng_state
    loaded = sj.load(tmp_path / "m.shj")
    assert loaded[1].running_var.tobytes() == net[1].running_var.tobytes()
    assert loaded.rng_state == net.rng_state
    x = np.ones((3, 3))
    assert loaded.predict(x).tobytes() == net.predict(x).tobytes()


def test_a_network_without_state_is_still_version_1(tmp_path):
    sj.save(sj.mlp(2, 3, 1, seed=0), tmp_path / "m.shj")
    doc = json.loads(members(tmp_path / "m.shj")["shenjing.json"])
    assert doc["version"] == 1
    assert all(set(spec) == {"type", "config", "params"} for spec in doc["layers"])


def _set(i, key, value):
    def change(doc):
        doc["layers"][i][key] = value

    return change


def _version(value):
    def change(doc):
        doc["version"] = value

    return change


def _delete(i, key):
    def change(doc):
        del doc["layers"][i][key]

    return change


@pytest.mark.parametrize(
    ("change", "drop", "match"),
    [
        (_version(1), (), "unexpected keys"),  # version 1 has no state keys
        (None, ("state/1.running_var.npy",), "missing members"),
        (_delete(1, "state"), (), "unexpected members"),
        (_set(1, "state", []), (), "must be an object"),
        (_set(3, "rng_state", {"bit_generator": "MT19937"}), (), "rng_state"),
        (_set(3, "rng_state", "PCG64"), (), "must be an object"),
        (_set(2, "rng_state", {"bit_generator": "PCG64"}), (), "no random numbers"),
    ],
)
def test_damaged_state_is_refused(tmp_path, change, drop, match):
    path = tmp_path / "m.shj"
    sj.save(stateful_net(), path)
    rewrite(path, change, drop)
    with pytest.raises(sj.ModelFileError, match=match):
        sj.load(path)


def test_state_arrays_of_the_wrong_shape_or_names_are_refused(tmp_path):
    path = tmp_path / "m.shj"
    sj.save(stateful_net(), path)

    def rename(doc):
        state = doc["layers"][1]["state"]
        state["running_std"] = state.pop("running_var")

    buf = members(path)["state/1.running_var.npy"]
    rewrite(path, rename, ("state/1.running_var.npy",), {"state/1.running_std.npy": buf})
    with pytest.raises(sj.ModelFileError, match="keeps the arrays"):
        sj.load(path)

    sj.save(stateful_net(), path)

    def reshape(doc):
        doc["layers"][1]["state"]["running_var"]["shape"] = [5]

    rewrite(path, reshape)
    with pytest.raises(sj.ModelFileError):
        sj.load(path)


def test_layernorm_without_parameters_loads(tmp_path):
    net = sj.Sequential(sj.Linear(3, 300, seed=0), sj.LayerNorm(300, affine=False))
    sj.save(net, tmp_path / "m.shj")
    assert sj.load(tmp_path / "m.shj")[1].features == 300


@pytest.mark.parametrize("norm", [None, "batch", "layer"])
def test_mlp_with_dropout_and_norm_round_trips(tmp_path, norm):
    # mlp draws each Dropout's seed as a 63-bit integer: a file must load it back.
    net = sj.mlp(3, [6, 5], 2, dropout=0.3, norm=norm, seed=0)
    assert net[-2].seed is not None and net[-2].seed > 2**32
    sj.save(net, tmp_path / "m.shj")
    loaded = sj.load(tmp_path / "m.shj")
    assert [layer.get_config() for layer in loaded] == [layer.get_config() for layer in net]
    assert loaded.rng_state == net.rng_state
    x = np.ones((4, 3))
    assert loaded.predict(x).tobytes() == net.predict(x).tobytes()

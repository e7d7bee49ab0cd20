"""Checkpoints in one process: resume bit for bit, optimizer state in model files,
damaged or foreign checkpoints refused with nothing changed, layer RNG and state kept."""

from __future__ import annotations

import json
import signal
import zipfile
from typing import Any

import numpy as np
import pytest

import shenjing as sj
from shenjing.nn.registry import register_layer


@register_layer
class CheckpointTestNoise(sj.Layer):
    """y = x + σ·z, z ~ N(0, 1) from the layer's own generator; counts its forwards.

    Backward: dx = dout. A stand-in for Dropout: randomness with an ``rng_state``, and a
    non-trainable array in ``persistent_state()``.
    """

    def __init__(self, sigma: float = 0.1, dtype: str = "float64") -> None:
        super().__init__()
        self.sigma = sigma
        self.rng = np.random.default_rng(3)
        self.calls = np.zeros(1, dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        return x + self.sigma * self.rng.standard_normal(x.shape).astype(x.dtype)

    def backward(self, dout: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        return dout

    @property
    def rng_state(self) -> dict[str, Any]:
        return self.rng.bit_generator.state

    @rng_state.setter
    def rng_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state

    def persistent_state(self) -> dict[str, np.ndarray]:
        return {"calls": self.calls}

    def load_persistent_state(self, state: dict[str, np.ndarray]) -> None:
        self.calls[...] = state["calls"]

    def get_config(self) -> dict[str, Any]:
        return {"sigma": self.sigma, "dtype": self.calls.dtype.name}


class Crash(sj.Callback):
    """Raise after step ``at`` (a crash the loop does not catch)."""

    def __init__(self, at: int | None):
        self.at = at

    def on_step_end(self, state):
        if state.step == self.at:
            raise RuntimeError("crash")


def make(dtype="float64", noise=False):
    layers = [sj.Linear(2, 16, seed=1, dtype=dtype), sj.Tanh()]
    if noise:
        layers.append(CheckpointTestNoise(0.05, dtype))
    layers.append(sj.Linear(16, 3, seed=2, dtype=dtype))
    return sj.Sequential(*layers)


DATA = sj.datasets.spiral(seed=0)
KW = dict(
    loss="softmax_cross_entropy",
    epochs=4,
    batch_size=32,
    seed=9,
    validation_split=0.25,
    metrics=["accuracy", "r2"] if False else ["accuracy"],
)


def _fit(net, opt, crash=None, **kw):
    return net.fit(*DATA, optimizer=opt, callbacks=[Crash(crash)], **{**KW, **kw})


def _same(a, b):
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert p.value.dtype == q.value.dtype and np.array_equal(p.value, q.value), p.name


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "make_opt", [lambda: sj.SGD(lr=0.1, momentum=0.9), lambda: sj.Adam(lr=0.01)]
)
@pytest.mark.parametrize("crash", [1, 13, 24, 30])  # first step, mid-epoch, an epoch's end, late
def test_a_crashed_fit_resumes_bit_for_bit(tmp_path, dtype, make_opt, crash):
    ref = make(dtype, noise=True)
    h_ref = _fit(ref, make_opt())
    path = tmp_path / "run.ckpt"
    net = make(dtype, noise=True)
    with pytest.raises(RuntimeError, match="crash"):
        _fit(net, make_opt(), crash, checkpoint=path, checkpoint_every=5)
    again = make(dtype, noise=True)  # a new process would build the network anew
    h = _fit(again, make_opt(), checkpoint=path, checkpoint_every=5)
    _same(ref, again)
    assert h == h_ref  # every field: per-step losses and rates, per-epoch records, flags
    assert again[2].calls[0] == ref[2].calls[0]


def test_a_finished_checkpoint_resumes_to_its_end(tmp_path):
    path = tmp_path / "run.ckpt"
    net = make()
    h1 = _fit(net, sj.Adam(lr=0.01), checkpoint=path)
    other = make()
    h2 = _fit(other, sj.Adam(lr=0.01), checkpoint=path)
    assert h1 == h2
    _same(net, other)


def test_early_stopping_is_resumed(tmp_path):
    stopper = dict(callbacks=[sj.EarlyStopping(monitor="loss", patience=2, min_delta=10.0)])
    ref = make()
    h_ref = ref.fit(*DATA, optimizer=sj.Adam(lr=0.01), **{**KW, "epochs": 8}, **stopper)
    assert h_ref.stopped_early
    path = tmp_path / "run.ckpt"

    class Die(sj.Callback):
        def on_epoch_end(self, state):
            if state.epoch == 1:
                raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        make().fit(
            *DATA,
            optimizer=sj.Adam(lr=0.01),
            **{**KW, "epochs": 8},
            checkpoint=path,
            callbacks=[sj.EarlyStopping(monitor="loss", patience=2, min_delta=10.0), Die()],
        )

    # Die is a callback of the checkpointed fit: give one of the same type, inert now.
    class Die(sj.Callback):
        pass

    net = make()
    h = net.fit(
        *DATA,
        optimizer=sj.Adam(lr=0.01),
        **{**KW, "epochs": 8},
        checkpoint=path,
        callbacks=[sj.EarlyStopping(monitor="loss", patience=2, min_delta=10.0), Die()],
    )
    assert h == h_ref and h.best_epoch == h_ref.best_epoch
    _same(ref, net)


def test_ctrl_c_saves_a_checkpoint_that_resumes(tmp_path):
    ref = make()
    h_ref = _fit(ref, sj.Adam(lr=0.01))
    path = tmp_path / "run.ckpt"

    class CtrlC(sj.Callback):
        def on_backward_end(self, state):
            if state.step == 17:
                signal.raise_signal(signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        make().fit(*DATA, optimizer=sj.Adam(lr=0.01), callbacks=[CtrlC()], checkpoint=path, **KW)

    class CtrlC(sj.Callback):
        pass

    net = make()
    h = net.fit(*DATA, optimizer=sj.Adam(lr=0.01), callbacks=[CtrlC()], checkpoint=path, **KW)
    assert len(h.loss) == len(h_ref.loss) and h == h_ref
    _same(ref, net)


def test_save_with_optimizer_and_load_it_back(tmp_path):
    net = make()
    opt = sj.Adam(lr=0.02, betas=(0.8, 0.99))
    _fit(net, opt)
    path = tmp_path / "m.shj"
    sj.save(net, path, optimizer=opt)
    loaded = sj.load(path)
    _same(net, loaded)
    got = loaded.optimizer
    assert isinstance(got, sj.Adam) and got.get_config() == opt.get_config()
    assert set(got.state) == set(opt.state)
    for name, state in opt.state.items():
        assert got.state[name]["t"] == state["t"]
        for key in ("m", "v"):
            assert np.array_equal(got.state[name][key], state[key])
    # training goes on identically from either
    for n, o in ((net, opt), (loaded, got)):
        n.fit(*DATA, optimizer=o, loss="softmax_cross_entropy", epochs=1, seed=1)
    _same(net, loaded)
    # without optimizer=: a version-1 file, and no optimizer on loading
    sj.save(net, tmp_path / "plain.shj")
    with zipfile.ZipFile(tmp_path / "plain.shj") as zf:
        assert json.loads(zf.read("shenjing.json"))["version"] == 1
        assert zf.namelist()[0] == "shenjing.json" and not any(
            "optimizer" in n for n in zf.namelist()
        )
    assert sj.load(tmp_path / "plain.shj").optimizer is None


def test_a_checkpoint_loads_as_a_model(tmp_path):
    path = tmp_path / "run.ckpt"
    net = make()
    _fit(net, sj.SGD(lr=0.1, momentum=0.5), checkpoint=path)
    loaded = sj.load(path)
    _same(net, loaded)
    assert isinstance(loaded.optimizer, sj.SGD) and loaded.optimizer.momentum == 0.5


def _snapshot(net, opt):
    return [p.value.copy() for p in net.parameters()], {
        k: {kk: np.copy(vv) for kk, vv in v.items() if kk != "scratch"}
        for k, v in opt.state.items()
    }


def _unchanged(before, net, opt):
    params, state = before
    assert all(np.array_equal(a, p.value) for a, p in zip(params, net.parameters(), strict=True))
    assert state.keys() == {k for k in opt.state}
    for k, v in state.items():
        assert all(np.array_equal(vv, opt.state[k][kk]) for kk, vv in v.items())


def _rewrite(path, edit):
    """Rewrite one member of the zip through ``edit(name, bytes) -> bytes``."""
    with zipfile.ZipFile(path) as zf:
        members = [(i, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in members:
            zf.writestr(info, edit(info.filename, data))


def _training_json(change):
    def edit(name, data):
        if name != "training.json":
            return data
        doc = json.loads(data)
        change(doc)
        return json.dumps(doc).encode()

    return edit


DAMAGE = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "bit-flip": lambda p: p.write_bytes(
        (lambda b: b[:300] + bytes([b[300] ^ 0x10]) + b[301:])(p.read_bytes())
    ),
    "empty": lambda p: p.write_bytes(b""),
    "position-past-the-end": lambda p: _rewrite(
        p, _training_json(lambda d: d["position"].update(batch=10**6))
    ),
    "history-shorter": lambda p: _rewrite(
        p, _training_json(lambda d: d["position"].update(step=d["position"]["step"] + 1))
    ),
    "rng-garbage": lambda p: _rewrite(p, _training_json(lambda d: d.update(rng={"x": 1}))),
    "bad-order": lambda p: _rewrite(
        p,
        lambda name, data: (
            data.replace(b"\x01\x00\x00\x00\x00\x00\x00\x00", b"\x00" * 8, 1)
            if name == "training/order.npy"
            else data
        ),
    ),
    "no-training-section": lambda p: _rewrite(
        p,
        lambda name, data: (
            data.replace(b'"version": 2', b'"version": 1') if name == "shenjing.json" else data
        ),
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_checkpoint_is_refused_and_nothing_changes(tmp_path, damage):
    path = tmp_path / "run.ckpt"
    with pytest.raises(RuntimeError):
        _fit(make(), sj.Adam(lr=0.01), crash=13, checkpoint=path, checkpoint_every=5)
    DAMAGE[damage](path)
    net, opt = make(), sj.Adam(lr=0.01)
    _fit(net, opt, epochs=1)  # some state to keep
    before = _snapshot(net, opt)
    history = net.history
    with pytest.raises(sj.ModelFileError):
        _fit(net, opt, checkpoint=path, checkpoint_every=5)
    _unchanged(before, net, opt)
    assert net.history is history  # not even the History was replaced


def test_another_fit_or_network_is_refused(tmp_path):
    path = tmp_path / "run.ckpt"
    _fit(make(), sj.Adam(lr=0.01), checkpoint=path)
    with pytest.raises(sj.ConfigError, match="batch_size: 32 there, 64 here"):
        _fit(make(), sj.Adam(lr=0.01), checkpoint=path, batch_size=64)
    with pytest.raises(sj.ConfigError, match="optimizer"):
        _fit(make(), sj.SGD(lr=0.01), checkpoint=path)
    wider = sj.Sequential(
        sj.Linear(2, 8, dtype="float64"), sj.Tanh(), sj.Linear(8, 3, dtype="float64")
    )
    with pytest.raises(sj.ModelFileError, match="another network"):
        _fit(wider, sj.Adam(lr=0.01), checkpoint=path)
    with pytest.raises(sj.ConfigError, match="checkpoint_every needs"):
        _fit(make(), sj.Adam(lr=0.01), checkpoint_every=3)
    with pytest.raises(sj.ConfigError, match="checkpoint must be"):
        _fit(make(), sj.Adam(lr=0.01), checkpoint=3)


def test_a_seeded_dropout_network_saves_and_loads(tmp_path):
    """mlp(dropout=..., seed=...) gives Dropout a 63-bit seed, which is no size."""
    net = sj.mlp(2, [8], 3, dropout=0.2, seed=1)
    assert net[2].get_config()["seed"] > 2**40
    sj.save(net, tmp_path / "d.shj")
    assert sj.load(tmp_path / "d.shj")[2].get_config() == net[2].get_config()


def _rng_start(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("training.json"))["rng_start"]


def test_an_unseeded_fit_keeps_its_first_rng_state_across_resumes(tmp_path):
    """With seed=None, the split is redrawn on resume from the first run's state."""
    path = tmp_path / "run.ckpt"
    kw = {**KW, "seed": None}
    with pytest.raises(RuntimeError):
        make().fit(
            *DATA,
            optimizer=sj.Adam(),
            callbacks=[Crash(5)],
            checkpoint=path,
            checkpoint_every=2,
            **kw,
        )
    first = _rng_start(path)
    with pytest.raises(RuntimeError):
        make().fit(
            *DATA,
            optimizer=sj.Adam(),
            callbacks=[Crash(20)],
            checkpoint=path,
            checkpoint_every=2,
            **kw,
        )
    assert _rng_start(path) == first
    h = make().fit(*DATA, optimizer=sj.Adam(), callbacks=[Crash(None)], checkpoint=path, **kw)
    assert len(h.loss) == 4 * 8 and _rng_start(path) == first


class StopAt(sj.Callback):
    def __init__(self, at):
        self.at = at

    def on_step_end(self, state):
        if state.step == self.at:
            state.stop = True


def test_a_mid_epoch_stop_checkpointed_at_that_step_resumes_to_the_same_end(tmp_path):
    ref = make()
    h_ref = ref.fit(*DATA, optimizer=sj.Adam(), callbacks=[StopAt(10), Crash(None)], **KW)
    assert h_ref.stopped_early and len(h_ref.loss) == 10
    path = tmp_path / "run.ckpt"

    class Die(sj.Callback):
        def on_epoch_end(self, state):
            if state.epoch == 1:
                raise RuntimeError("crash")

    with pytest.raises(RuntimeError):  # checkpointed at step 10, then dies at the epoch's end
        make().fit(
            *DATA,
            optimizer=sj.Adam(),
            callbacks=[StopAt(10), Die()],
            checkpoint=path,
            checkpoint_every=5,
            **KW,
        )

    class Die(sj.Callback):  # the same callback types, inert now
        pass

    net = make()
    h = net.fit(
        *DATA,
        optimizer=sj.Adam(),
        callbacks=[StopAt(10), Die()],
        checkpoint=path,
        checkpoint_every=5,
        **KW,
    )
    assert h == h_ref
    _same(ref, net)

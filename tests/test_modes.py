"""Training and evaluation mode: which paths use which, and that callers' modes survive."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import shenjing as sj
from shenjing.nn.modes import capture_state, in_mode, restore_state


def regularised_net(dtype="float64", seed=0):
    """Every layer with a mode or a state: BatchNorm, Dropout, LayerNorm.

    No bias before BatchNorm: in training mode its gradient is exactly 0 (the batch
    mean removes it), which a finite difference can only measure as rounding noise.
    """
    net = sj.Sequential(
        sj.Linear(4, 16, bias=False, seed=seed, dtype=dtype),
        sj.BatchNorm(16, dtype=dtype),
        sj.ReLU(),
        sj.Dropout(0.3, seed=seed + 1),
        sj.Linear(16, 8, seed=seed + 2, dtype=dtype),
        sj.LayerNorm(8, dtype=dtype),
        sj.Tanh(),
        sj.Linear(8, 3, seed=seed + 3, dtype=dtype),
    )
    net[-1].W[...] *= 0.1  # small initial scores: the loss starts near log K
    return net


@pytest.fixture
def data(rng):
    x = rng.standard_normal((60, 4))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    return x, y


def snapshot(net):
    """Everything a pass could change: parameters, running statistics, random state."""
    return (
        [p.value.copy() for p in net.parameters()],
        net.persistent_state(),
        json.dumps(net.rng_state),
    )


def assert_unchanged(net, before):
    params, state, rng_state = snapshot(net)
    for a, b in zip(params, before[0], strict=True):
        assert a.tobytes() == b.tobytes()
    assert state.keys() == before[1].keys()
    assert all(state[k].tobytes() == before[1][k].tobytes() for k in state)
    assert rng_state == before[2]


def test_train_and_eval_return_the_net_and_set_every_flag():
    net = regularised_net()
    assert net.training and all(layer.training for layer in net)
    assert net.eval() is net
    assert not net.training and not any(layer.training for layer in net)
    assert net.train() is net and all(layer.training for layer in net)
    assert net.train(False) is net and not net[3].training
    with pytest.raises(sj.ConfigError, match="True or False"):
        net.train("yes")


def test_in_mode_restores_each_layers_own_flag_even_on_error():
    net = regularised_net()
    net[3].eval()  # a caller's mixed modes
    flags = [layer.training for layer in net]
    with pytest.raises(RuntimeError), in_mode(net, training=True):
        assert all(layer.training for layer in net)
        raise RuntimeError
    assert [layer.training for layer in net] == flags


def test_predict_runs_in_evaluation_mode_and_changes_nothing(data):
    x, _ = data
    net = regularised_net()
    before = snapshot(net)
    a = net.predict(x)
    b = net.predict(x[:7])  # row by row the same: no batch statistics, no mask
    np.testing.assert_array_equal(a[:7], b)
    assert net.training  # the caller's mode is kept
    assert_unchanged(net, before)
    np.testing.assert_array_equal(net.eval().forward(x), a)
    trained = net.train().forward(x)  # forward runs in the layers' mode
    assert not np.allclose(trained, a)


def test_fit_trains_in_training_mode_and_restores_the_callers_mode(data):
    x, y = data
    seen = []

    class Probe(sj.Callback):
        def on_backward_end(self, state):
            seen.append([layer.training for layer in state.net])

    net = regularised_net().eval()
    hist = net.fit(x, y, loss="ce", epochs=2, batch_size=20, seed=0, callbacks=[Probe()])
    assert seen and all(all(flags) for flags in seen)
    assert not net.training and not any(layer.training for layer in net)
    assert net[1].running_mean.any()  # the running statistics were updated while training
    assert len(hist.loss) == 6


def test_fit_restores_the_mode_when_training_diverges(data):
    x, y = data
    net = sj.Sequential(sj.Linear(4, 3, seed=0, dtype="float64"), sj.Dropout(0.5, seed=0)).eval()
    with pytest.raises(sj.DivergenceError):
        net.fit(x * 1e200, y, loss="ce", optimizer=sj.SGD(lr=1e10), epochs=3, seed=0)
    assert not net.training and not net[1].training


def test_validation_during_fit_uses_evaluation_mode(data):
    x, y = data
    net = regularised_net()
    hist = net.fit(x, y, loss="ce", epochs=3, seed=0, validation_data=(x[:20], y[:20]))
    # The last epoch's validation loss is evaluate's (evaluation mode, deterministic),
    # not a training-mode pass with a fresh dropout mask and batch statistics.
    assert hist.per_epoch["val_loss"][-1] == net.evaluate(x[:20], y[:20])["loss"]
    with in_mode(net, training=True):
        noisy = sj.losses.get("ce").forward(net.forward(x[:20]), y[:20])
    assert noisy != hist.per_epoch["val_loss"][-1]


def test_diagnose_runs_in_evaluation_mode_and_changes_no_state(data):
    x, y = data
    net = regularised_net()
    net.fit(x, y, loss="ce", epochs=1, seed=0)
    before = snapshot(net)
    report = sj.diagnose(net, x, y)
    assert_unchanged(net, before)
    assert net.training
    np.testing.assert_allclose(report.loss, net.evaluate(x, y)["loss"], rtol=1e-12)
    # No dead or saturated verdicts on layers where the words mean nothing.
    for index in (1, 3, 5):
        lay = report.layers[index]
        assert lay.dead_fraction is None and lay.saturated_fraction is None
    assert not [f for f in report.findings if f.layer in (1, 3, 5) and "dead" in f.code]


def test_sanity_check_passes_and_leaves_the_network_alone(data):
    x, y = data
    net = regularised_net("float32")
    before = snapshot(net)
    report = sj.sanity_check(net, x, y, loss="ce")
    assert report.passed, str(report)
    assert_unchanged(net, before)
    assert net.training


def test_gradcheck_of_a_network_in_both_modes(data):
    x, y = data
    net = regularised_net()
    before = snapshot(net)
    rows = x[:6]
    for training in (False, True):
        result = sj.gradcheck(net, rows, y[:6], loss="ce", training=training)
        assert result.ok and result.max_error < 1e-7, str(result)
    assert_unchanged(net, before)


def test_a_monitor_leaves_training_bit_for_bit_unchanged(data):
    x, y = data
    plain, watched = regularised_net("float32"), regularised_net("float32")
    h1 = plain.fit(x, y, loss="ce", epochs=3, batch_size=16, seed=1)
    h2 = watched.fit(x, y, loss="ce", epochs=3, batch_size=16, seed=1, monitor=2)
    assert h1.loss == h2.loss
    assert_unchanged(watched, snapshot(plain))
    assert h2.diagnostics.steps == list(range(0, len(h2.loss), 2))


def test_captured_state_replays_training_bit_for_bit(data):
    x, y = data
    net = regularised_net("float32")
    net.fit(x, y, loss="ce", epochs=1, seed=0)
    # What a checkpoint keeps: parameters, persistent arrays, the random state as JSON.
    params = [p.value.copy() for p in net.parameters()]
    state = {k: v.copy() for k, v in net.persistent_state().items()}
    rng_state = json.loads(json.dumps(net.rng_state))
    twin = copy.deepcopy(net)
    net.fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.1), epochs=2, seed=5)
    for p, value in zip(twin.parameters(), params, strict=True):
        p.value[...] = value
    twin.load_persistent_state(state)
    twin.rng_state = rng_state
    twin[3].rng_state = json.loads(json.dumps(twin[3].rng_state))
    twin.fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.1), epochs=2, seed=5)
    assert_unchanged(twin, snapshot(net))


def test_capture_and_restore_state():
    net = regularised_net()
    saved = capture_state(net)
    net.forward(np.ones((5, 4)))
    moved = net[1].running_mean.copy()
    restore_state(net, saved)
    assert not net[1].running_mean.any() and moved.any()
    first = net.forward(np.ones((5, 4))).copy()
    restore_state(net, saved)
    np.testing.assert_array_equal(net.forward(np.ones((5, 4))), first)  # the same mask


def test_a_networks_state_names_its_layers():
    net = regularised_net()
    assert set(net.persistent_state()) == {"1.running_mean", "1.running_var"}
    assert set(net.rng_state) == {"3"}
    assert sj.Sequential(sj.Linear(2, 2, seed=0)).rng_state is None
    with pytest.raises(sj.ConfigError, match="persistent state"):
        net.load_persistent_state({"1.running_mean": np.zeros(16)})
    with pytest.raises(sj.ConfigError, match="rng_state"):
        net.rng_state = {"9": {}}


def test_mlp_places_norm_and_dropout():
    net = sj.mlp(3, [8, 4], 2, norm="layer", dropout=0.25, seed=0)
    names = [type(layer).__name__ for layer in net]
    assert names == ["Linear", "LayerNorm", "ReLU", "Dropout"] * 2 + ["Linear"]
    plain = sj.mlp(3, [8, 4], 2, seed=0)
    linears = [layer for layer in net if isinstance(layer, sj.Linear)]
    assert [layer.W.tobytes() for layer in linears] == [  # the weights of the plain net
        layer.W.tobytes() for layer in plain if isinstance(layer, sj.Linear)
    ]
    batch = sj.mlp(3, 8, 2, norm="batch", seed=0)
    assert type(batch[1]) is sj.BatchNorm
    assert not batch[0].bias and batch[-1].bias  # the batch mean cancels a bias before it
    assert net[0].bias  # LayerNorm does not
    for bad in ({"norm": "group"}, {"dropout": 1.0}, {"activation": "maxout", "norm": "batch"}):
        with pytest.raises(sj.ConfigError):
            sj.mlp(3, 8, 2, seed=0, **bad)
    maxout = sj.mlp(3, 8, 2, activation="maxout", dropout=0.1, seed=0)
    assert [type(layer).__name__ for layer in maxout] == ["Maxout", "Dropout", "Linear"]


def test_summary_shows_the_new_layers_and_their_parameters():
    text = regularised_net("float32").summary()
    assert "BatchNorm(16, momentum=0.1, eps=1e-05)" in text and "Dropout(p=0.3)" in text
    assert "LayerNorm(8, eps=1e-05)" in text
    rows = {line.split()[1].split("(")[0]: line.split()[-1] for line in text.splitlines()[4:12]}
    assert rows["BatchNorm"] == "32" and rows["Dropout"] == "0" and rows["LayerNorm"] == "16"


def test_dropout_does_not_repeat_the_finding_of_the_layer_before_it():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [64], 3, activation="sigmoid", dropout=0.3, seed=0)
    found = [(f.code, f.layer) for f in sj.diagnose(net, x, y, loss="ce").findings]
    assert ("not_zero_centred", 1) in found  # the sigmoid's
    assert ("not_zero_centred", 2) not in found  # not again for the dropout after it

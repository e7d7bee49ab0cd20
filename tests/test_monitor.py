"""``fit(..., monitor=...)``: what is recorded, when, and that training is unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing.diagnosis import findings as fd
from shenjing.diagnosis.monitor import DEFAULT_EVERY, Monitor, TrainingDiagnostics


@pytest.fixture(scope="module")
def spiral():
    return sj.datasets.spiral(seed=0)


def net64(seed: int = 0) -> sj.Sequential:
    return sj.Sequential(sj.Linear(2, 64, seed=seed), sj.ReLU(), sj.Linear(64, 3, seed=seed + 1))


def test_monitoring_does_not_change_training_bit_for_bit(spiral):
    x, y = spiral
    runs = []
    for monitor in (False, 3):
        net = sj.Sequential(
            sj.Linear(2, 32, seed=0), sj.Tanh(), sj.Linear(32, 32, seed=1), sj.ReLU(),
            sj.Linear(32, 3, seed=2),
        )  # fmt: skip
        hist = net.fit(x, y, loss="ce", optimizer=sj.Adam(lr=0.01), epochs=3, batch_size=32,
                       seed=0, monitor=monitor)  # fmt: skip
        runs.append((net, hist))
    (a, ha), (b, hb) = runs
    assert ha.loss == hb.loss
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert np.array_equal(p.value, q.value)
    assert ha.diagnostics is None and isinstance(hb.diagnostics, TrainingDiagnostics)


def test_records_every_n_steps_from_the_first(spiral):
    x, y = spiral
    hist = net64().fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.1), epochs=2, batch_size=32,
                       seed=0, monitor=4)  # fmt: skip
    rec = hist.diagnostics
    assert len(hist.loss) == 20
    assert rec.steps == [0, 4, 8, 12, 16]
    assert rec.epochs == [0, 0, 0, 1, 1]
    assert rec.every == 4 and len(rec.reports) == 5
    # Each record's loss is that step's loss.
    assert [r.loss for r in rec.reports] == [hist.loss[s] for s in rec.steps]
    assert rec.reports[0].rows == 32
    # Only the first and the last record keep histogram samples.
    assert [r.layers[1].values is not None for r in rec.reports] == [1, 0, 0, 0, 1]


def test_monitor_argument_forms(spiral):
    x, y = spiral
    hist = net64().fit(x, y, loss="ce", epochs=1, batch_size=300, monitor=True)
    assert hist.diagnostics.every == DEFAULT_EVERY and hist.diagnostics.steps == [0]
    mon = Monitor(every=2)
    hist = net64().fit(x, y, loss="ce", epochs=4, batch_size=300, monitor=mon)
    assert hist.diagnostics is mon.record and mon.record.steps == [0, 2]
    for bad in ("yes", 0, -3, 1.5):
        with pytest.raises(sj.ConfigError, match=r"monitor|every"):
            net64().fit(x, y, loss="ce", epochs=1, monitor=bad)


def test_update_ratio_is_the_sgd_step_over_the_weights(spiral):
    x, y = spiral
    net = net64()
    w0 = net[0].W.copy()
    hist = net.fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.1), epochs=1, batch_size=300,
                   monitor=1)  # fmt: skip
    first = hist.diagnostics.reports[0].layers[0]
    # Plain SGD: ΔW = -lr · dW, so the ratio is lr ‖dW‖ / ‖W‖.
    assert first.update_ratios["W"] == pytest.approx(
        0.1 * first.grad_norms["W"] / np.linalg.norm(w0), rel=1e-5
    )
    assert np.linalg.norm(net[0].W - w0) / np.linalg.norm(w0) == pytest.approx(
        first.update_ratios["W"], rel=1e-5
    )


def test_learning_rate_far_too_high_is_flagged_a_sane_one_is_not(spiral):
    x, y = spiral
    sane = net64().fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.1), epochs=10, seed=0,
                       monitor=10)  # fmt: skip
    high = net64().fit(x, y, loss="ce", optimizer=sj.SGD(lr=10.0), epochs=10, seed=0,
                       monitor=10)  # fmt: skip
    sane_ratio = sane.diagnostics.summary().layers[0].update_ratios["W"]
    high_ratio = high.diagnostics.summary().layers[0].update_ratios["W"]
    assert 1e-4 < sane_ratio < fd.UPDATE_RATIO_HIGH
    assert high_ratio > 10 * fd.UPDATE_RATIO_HIGH
    assert not any(c.startswith("update_ratio") for c in sane.diagnostics.summary().codes)
    flagged = [f for f in high.diagnostics.findings if f.code == "update_ratio_high"]
    assert {f.layer for f in flagged} == {0, 2}
    assert "lower the learning rate" in str(high.diagnostics)


def test_huge_learning_rate_kills_units_and_the_record_shows_it(spiral):
    x, y = spiral
    hist = net64().fit(x, y, loss="ce", optimizer=sj.SGD(lr=10.0), epochs=10, seed=0,
                       monitor=5)  # fmt: skip
    dead = hist.diagnostics.series("dead_fraction", 1)
    assert dead[0] == 0.0
    assert dead[-1] > 0.5
    assert np.all(np.diff(dead[: len(dead) // 2]) >= -0.2)  # rises, never recovers much
    assert "dead_units" in hist.diagnostics.summary().codes


def test_series_and_errors(spiral):
    x, y = spiral
    hist = net64().fit(x, y, loss="ce", epochs=1, batch_size=100, monitor=1)
    rec = hist.diagnostics
    assert rec.series("grad_rms", 0).shape == (3,)
    assert np.isnan(rec.series("dead_fraction", 0)).all()  # a Linear layer has none
    assert np.isnan(rec.series("update_ratio", 1)).all()  # ReLU has no weights
    with pytest.raises(sj.ConfigError, match="statistic"):
        rec.series("nonsense", 0)
    with pytest.raises(sj.ConfigError, match="layer"):
        rec.series("mean", 7)
    with pytest.raises(sj.ConfigError, match="a number"):
        rec.series("dead_units", 1)
    assert "Recorded every 1 steps: 3 records" in str(rec)
    assert repr(rec) == "TrainingDiagnostics(every=1, 3 records)"
    with pytest.raises(sj.ConfigError, match="nothing was recorded"):
        _ = TrainingDiagnostics(5).last


def test_on_backward_end_is_a_callback_hook(spiral):
    x, y = spiral

    class Probe(sj.Callback):
        def __init__(self):
            self.seen = []

        def on_backward_end(self, state):
            # Gradients are filled, the update not yet applied.
            self.seen.append((state.step, float(np.abs(state.net[0].dW).sum()),
                              state.net[0].W.copy()))  # fmt: skip

        def on_step_end(self, state):
            assert not np.array_equal(self.seen[-1][2], state.net[0].W)

    probe = Probe()
    net64().fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.1), epochs=1, batch_size=100,
                callbacks=[probe])  # fmt: skip
    assert [s for s, _, _ in probe.seen] == [0, 1, 2]
    assert all(g > 0 for _, g, _ in probe.seen)


def test_on_backward_end_sees_this_steps_batch_and_loss(spiral):
    x, y = spiral

    class Probe(sj.Callback):
        seen: list

        def on_train_begin(self, state):
            self.seen = []

        def on_backward_end(self, state):
            self.seen.append((state.batch, state.step_loss))

    probe = Probe()
    hist = net64().fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.1), epochs=1, batch_size=100,
                       shuffle=False, callbacks=[probe])  # fmt: skip
    assert probe.seen == list(enumerate(hist.loss))


def test_monitoring_keeps_a_callbacks_change_to_the_gradients(spiral):
    x, y = spiral

    class Clip(sj.Callback):  # gradient clipping, written as a user would
        def on_backward_end(self, state):
            for layer in state.net.layers:
                for g in layer.grads.values():
                    np.clip(g, -1e-3, 1e-3, out=g)

    weights = []
    for monitor in (False, 1):
        net = net64()
        net.fit(x, y, loss="ce", optimizer=sj.SGD(lr=0.5), epochs=1, batch_size=None,
                callbacks=[Clip()], monitor=monitor)  # fmt: skip
        weights.append(net[0].W.copy())
    assert np.array_equal(weights[0], weights[1])

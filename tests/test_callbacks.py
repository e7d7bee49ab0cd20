"""Callbacks: when each hook runs, stopping from a hook, and EarlyStopping."""

from __future__ import annotations

import numpy as np
import pytest
from shenjing.callbacks import HOOKS

import shenjing as sj


def regression(n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    return x, x @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.standard_normal((n, 1))


def small_net(seed=0):
    return sj.Sequential(
        sj.Linear(3, 6, dtype="float64", seed=seed),
        sj.Tanh(),
        sj.Linear(6, 1, dtype="float64", seed=seed + 1),
    )


class Events(sj.Callback):
    """Records (hook, epoch, step, batch) for every hook, into a list it may share."""

    def __init__(self, log=None, name="") -> None:
        self.log = [] if log is None else log
        self.name = name

    def _record(self, hook, state):
        self.log.append((self.name + hook, state.epoch, state.step, state.batch))

    def on_train_begin(self, state):
        self._record("train_begin", state)

    def on_epoch_begin(self, state):
        self._record("epoch_begin", state)

    def on_step_end(self, state):
        self._record("step_end", state)

    def on_epoch_end(self, state):
        self._record("epoch_end", state)

    def on_train_end(self, state):
        self._record("train_end", state)


class Snapshots(sj.Callback):
    """Copies of the parameters at the end of every epoch."""

    def __init__(self) -> None:
        self.epochs = []

    def on_epoch_end(self, state):
        self.epochs.append([p.value.copy() for p in state.net.parameters()])


class Script(sj.Callback):
    """Writes ``values[epoch]`` into the epoch's logs under ``key``: a monitor we control.

    It must come before EarlyStopping in ``callbacks``, which reads the logs after it.
    """

    def __init__(self, key, values) -> None:
        self.key, self.values = key, values

    def on_epoch_end(self, state):
        state.logs[self.key] = self.values[state.epoch]


def params(net):
    return [p.value for p in net.parameters()]


def assert_params_equal(got, expected):
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


# -- 15. the hooks --------------------------------------------------------------------------


def test_hooks_run_in_order_with_the_right_counts():
    x, y = regression(10)
    events = Events()
    history = small_net().fit(
        x,
        y,
        loss="mse",
        optimizer=sj.SGD(lr=0.01),
        epochs=3,
        batch_size=4,
        seed=0,
        callbacks=[events],
    )
    expected = [("train_begin", 0, 0, 0)]
    step = 0
    for epoch in range(3):
        expected.append(("epoch_begin", epoch, step, 0 if epoch == 0 else 2))
        for batch in range(3):  # 4 + 4 + 2 rows
            step += 1
            expected.append(("step_end", epoch, step, batch))
        expected.append(("epoch_end", epoch, step, 2))
    expected.append(("train_end", 2, 9, 2))
    assert events.log == expected
    assert len(history.loss) == 9
    assert history.stopped_early is False


def test_state_carries_the_run():
    x, y = regression(10)
    opt, loss_fn = sj.SGD(lr=0.01), sj.MeanSquaredError()
    net = small_net()
    seen = []

    class Check(sj.Callback):
        def on_step_end(self, state):
            assert state.net is net and state.optimizer is opt and state.loss_fn is loss_fn
            assert state.step_loss == state.history.loss[-1]
            assert len(state.history.loss) == state.step
            seen.append("step")

        def on_epoch_end(self, state):
            # the epoch's records are in the logs and already in the history
            assert state.logs["loss"] == state.history.per_epoch["loss"][-1]
            assert state.logs["val_loss"] == state.history.per_epoch["val_loss"][-1]
            assert state.history.epochs_run == state.epoch + 1
            seen.append("epoch")

    net.fit(
        x,
        y,
        loss=loss_fn,
        optimizer=opt,
        epochs=2,
        batch_size=5,
        seed=0,
        validation_data=regression(4, seed=1),
        callbacks=[Check()],
    )
    assert seen == ["step", "step", "epoch"] * 2


def test_callbacks_run_in_list_order_and_need_not_subclass_callback():
    x, y = regression(6)
    log = []

    class OnlyEpochEnd:  # duck-typed: one hook, no base class
        def on_epoch_end(self, state):
            log.append(("plain epoch_end", state.epoch))

    callbacks = [Events(log, "a "), OnlyEpochEnd(), Events(log, "b ")]
    small_net().fit(x, y, loss="mse", epochs=2, batch_size=None, callbacks=callbacks)
    hooks = [e[0] for e in log]
    assert hooks == [
        "a train_begin", "b train_begin",
        "a epoch_begin", "b epoch_begin", "a step_end", "b step_end",
        "a epoch_end", "plain epoch_end", "b epoch_end",
        "a epoch_begin", "b epoch_begin", "a step_end", "b step_end",
        "a epoch_end", "plain epoch_end", "b epoch_end",
        "a train_end", "b train_end",
    ]  # fmt: skip


def test_base_callback_has_every_hook_doing_nothing():
    cb = sj.Callback()
    for hook in HOOKS:
        assert getattr(cb, hook)(None) is None


@pytest.mark.parametrize(
    "stop_at",
    [1, 5, 8],  # 8: a stop within the last epoch still skips steps
)
def test_stop_in_on_step_end_ends_training_after_that_step(stop_at):
    x, y = regression(10)
    events = Events()

    class StopAt(sj.Callback):
        def on_step_end(self, state):
            if state.step == stop_at:
                state.stop = True

    net = small_net()
    snapshot = []

    class Keep(sj.Callback):
        def on_step_end(self, state):
            snapshot[:] = [p.value.copy() for p in state.net.parameters()]

    history = net.fit(
        x,
        y,
        loss="mse",
        optimizer=sj.SGD(lr=0.01),
        epochs=3,
        batch_size=4,
        seed=0,
        callbacks=[events, StopAt(), Keep()],
    )
    assert len(history.loss) == stop_at
    assert history.stopped_early is True
    steps = [e for e in events.log if e[0] == "step_end"]
    assert [e[2] for e in steps] == list(range(1, stop_at + 1))
    assert [e[0] for e in events.log].count("train_end") == 1
    assert events.log[-1][0] == "train_end"
    assert history.epochs_run == len(history.per_epoch["loss"])
    assert_params_equal(params(net), snapshot)  # no update after the stopping step


@pytest.mark.parametrize("stop_epoch, epochs, early", [(0, 5, True), (2, 5, True), (4, 5, False)])
def test_stop_in_on_epoch_end_ends_training_after_that_epoch(stop_epoch, epochs, early):
    x, y = regression(10)

    class StopAfter(sj.Callback):
        def on_epoch_end(self, state):
            if state.epoch == stop_epoch:
                state.stop = True

    history = small_net().fit(
        x, y, loss="mse", epochs=epochs, batch_size=4, seed=0, callbacks=[StopAfter()]
    )
    assert history.epochs_run == stop_epoch + 1
    assert len(history.loss) == 3 * (stop_epoch + 1)
    assert len(history.per_epoch["loss"]) == stop_epoch + 1
    assert history.stopped_early is early


# -- 16. EarlyStopping ----------------------------------------------------------------------


def fit_scripted(values, es, key="score", epochs=None, snapshots=None):
    """Train a small net for len(values) epochs with ``key`` scripted, under ``es``."""
    x, y = regression(10)
    net = small_net()
    callbacks = [Script(key, values), es] + ([snapshots] if snapshots else [])
    history = net.fit(
        x,
        y,
        loss="mse",
        optimizer=sj.SGD(lr=0.05),
        epochs=epochs or len(values),
        batch_size=5,
        seed=0,
        callbacks=callbacks,
    )
    return net, history


SCORES = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0, 1.0]


@pytest.mark.parametrize(
    "patience, epochs_run, best_epoch, stopped",
    [(1, 4, 2, True), (2, 5, 2, True), (3, 6, 2, True), (4, 8, 7, False)],
)
def test_early_stopping_waits_patience_epochs_without_improvement(
    patience, epochs_run, best_epoch, stopped
):
    es = sj.EarlyStopping(monitor="score", patience=patience, mode="min", restore_best=False)
    _, history = fit_scripted(SCORES, es)
    assert history.epochs_run == epochs_run
    assert history.stopped_early is stopped
    assert history.best_epoch == best_epoch == es.best_epoch
    assert es.best == SCORES[best_epoch]


@pytest.mark.parametrize("min_delta, epochs_run, best_epoch", [(0.0, 6, 5), (0.5, 3, 0)])
def test_min_delta_is_the_improvement_that_counts(min_delta, epochs_run, best_epoch):
    values = [5.0, 4.8, 4.6, 4.4, 4.2, 4.0]
    es = sj.EarlyStopping(monitor="score", patience=2, min_delta=min_delta, mode="min")
    _, history = fit_scripted(values, es)
    assert (history.epochs_run, history.best_epoch) == (epochs_run, best_epoch)


@pytest.mark.parametrize(
    "monitor, mode",
    [
        ("val_accuracy", "max"),
        ("accuracy", "max"),
        ("val_r2", "max"),
        ("r2", "max"),
        ("val_loss", "min"),
        ("loss", "min"),
        ("val_rmse", "min"),
        ("mae", "min"),
    ],
)
def test_mode_auto_maximises_accuracy_and_r2(monitor, mode):
    assert sj.EarlyStopping(monitor=monitor).mode == mode
    assert sj.EarlyStopping(monitor=monitor, mode="min").mode == "min"


def test_mode_auto_follows_a_rising_val_accuracy():
    values = [0.5, 0.6, 0.7, 0.65, 0.66, 0.69, 0.8, 0.9]
    es = sj.EarlyStopping(monitor="val_accuracy", patience=3)
    _, history = fit_scripted(values, es, key="val_accuracy")
    assert es.mode == "max"
    assert history.best_epoch == 2  # minimising would keep epoch 0 and stop after epoch 3
    assert history.epochs_run == 6


@pytest.mark.parametrize("restore_best", [True, False])
def test_restore_best_puts_back_the_best_epochs_parameters(restore_best):
    snapshots = Snapshots()
    es = sj.EarlyStopping(monitor="score", patience=3, mode="min", restore_best=restore_best)
    net, history = fit_scripted(SCORES, es, snapshots=snapshots)
    assert history.best_epoch == 2 and history.epochs_run == 6
    assert len(snapshots.epochs) == 6
    # training moved the weights after the best epoch, so the two states differ
    assert not np.array_equal(snapshots.epochs[2][0], snapshots.epochs[-1][0])
    kept = snapshots.epochs[2] if restore_best else snapshots.epochs[-1]
    assert_params_equal(params(net), kept)


def test_restored_best_also_holds_for_the_best_epoch_being_the_last():
    snapshots = Snapshots()
    es = sj.EarlyStopping(monitor="score", patience=2, mode="min")
    net, history = fit_scripted([3.0, 2.0, 1.0], es, snapshots=snapshots)
    assert history.best_epoch == 2 and history.stopped_early is False
    assert_params_equal(params(net), snapshots.epochs[-1])


def test_early_stopping_on_a_real_overfitting_run():
    """20 noisy points, a 64-64 tanh net: the validation loss falls, then rises."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (20, 1))
    y = np.sin(x) + 0.5 * rng.standard_normal((20, 1))
    xv = np.linspace(-3, 3, 100)[:, None]
    yv = np.sin(xv)
    net = sj.Sequential(
        sj.Linear(1, 64, dtype="float64", seed=0),
        sj.Tanh(),
        sj.Linear(64, 64, dtype="float64", seed=1),
        sj.Tanh(),
        sj.Linear(64, 1, dtype="float64", seed=2),
    )
    snapshots = Snapshots()
    es = sj.EarlyStopping(patience=25)  # monitors val_loss, minimising
    history = net.fit(
        x,
        y,
        loss="mse",
        optimizer=sj.Adam(lr=0.01),
        epochs=1500,
        batch_size=None,
        validation_data=(xv, yv),
        callbacks=[es, snapshots],
    )
    val = history["val_loss"]
    assert history.stopped_early is True
    assert history.epochs_run < 1000
    best = history.best_epoch
    assert best == int(np.argmin(val))
    assert history.epochs_run == best + 1 + 25
    assert val[-1] > val[best]
    assert history["loss"][-1] < history["loss"][best]  # training loss still falling
    assert_params_equal(params(net), snapshots.epochs[best])
    # fit validated in chunks of the batch (20 rows): evaluate the same way, bit for bit
    assert net.evaluate(xv, yv, batch_size=20)["loss"] == val[best]


def test_unrecorded_monitor_is_a_config_error_listing_the_records():
    x, y = regression(10)
    with pytest.raises(sj.ConfigError) as info:
        small_net().fit(x, y, loss="mse", epochs=3, metrics=["mae"], callbacks=[sj.EarlyStopping()])
    message = str(info.value)
    assert "'val_loss'" in message
    assert "['loss', 'mae']" in message


def test_one_early_stopping_serves_two_fits():
    es = sj.EarlyStopping(monitor="score", patience=2, mode="min")
    _, first = fit_scripted(SCORES, es)
    _, second = fit_scripted(SCORES, es)
    assert (first.epochs_run, first.best_epoch) == (second.epochs_run, second.best_epoch) == (5, 2)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"patience": 0}, "patience"),
        ({"patience": -1}, "patience"),
        ({"patience": 1.5}, "patience"),
        ({"min_delta": -0.1}, "min_delta"),
        ({"min_delta": float("nan")}, "min_delta"),
        ({"mode": "bigger"}, "mode"),
    ],
)
def test_early_stopping_arguments_are_checked(kwargs, word):
    with pytest.raises(sj.ConfigError, match=word):
        sj.EarlyStopping(**kwargs)


def test_early_stopping_repr():
    assert repr(sj.EarlyStopping(monitor="val_accuracy", patience=3)) == (
        "EarlyStopping(monitor='val_accuracy', patience=3, min_delta=0.0, mode='max', "
        "restore_best=True)"
    )

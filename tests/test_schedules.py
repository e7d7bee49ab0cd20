"""Learning-rate schedules: each against the PyTorch scheduler it follows, and in fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shenjing as sj

torch = pytest.importorskip("torch")

BASE, SPE, EPOCHS = 0.1, 7, 12  # base rate, steps per epoch, epochs


def _ours(schedule, logs=None):
    schedule.start(BASE, SPE, EPOCHS)
    rates = []
    for epoch in range(EPOCHS):
        rates += [schedule.rate(epoch * SPE + b, epoch) for b in range(SPE)]
        schedule.on_epoch_end(epoch, {"val_loss": logs[epoch]} if logs else {})
    return rates


def _torch(make, per_step, metric=None):
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=BASE)
    sched = make(opt)
    rates = []
    for epoch in range(EPOCHS):
        for _ in range(SPE):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            if per_step:
                sched.step()
        if not per_step:
            sched.step(metric[epoch]) if metric else sched.step()
    return rates


def test_step_decay_is_torch_step_lr():
    ours = _ours(sj.StepDecay(every=3, gamma=0.5))
    theirs = _torch(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), False)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    assert ours[0] == BASE and ours[3 * SPE] == BASE * 0.5


def test_exponential_decay_is_torch_exponential_lr():
    ours = _ours(sj.ExponentialDecay(gamma=0.8))
    theirs = _torch(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8), False)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_cosine_is_torch_cosine_annealing_after_warm_up():
    warm = 10
    ours = _ours(sj.CosineDecay(warmup_steps=warm, min_lr=1e-3))
    # The warm-up rises linearly to the base rate, reached at step W - 1.
    np.testing.assert_allclose(ours[:warm], BASE * np.arange(1, warm + 1) / warm, rtol=1e-15)
    theirs = _torch(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
            o, T_max=SPE * EPOCHS - warm, eta_min=1e-3
        ),
        True,
    )
    np.testing.assert_allclose(ours[warm:], theirs[: SPE * EPOCHS - warm], rtol=1e-12)
    assert min(ours[warm:]) > 1e-3  # the last step's rate is above min_lr, as torch's


def test_one_cycle_is_torch_one_cycle_bit_for_bit():
    ours = _ours(sj.OneCycle(max_lr=0.4, pct_start=0.25, div_factor=10, final_div_factor=100))
    theirs = _torch(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o,
            max_lr=0.4,
            total_steps=SPE * EPOCHS,
            pct_start=0.25,
            div_factor=10,
            final_div_factor=100,
            cycle_momentum=False,
        ),
        True,
    )
    assert ours == theirs
    assert max(ours) == pytest.approx(0.4) and ours[-1] == pytest.approx(0.4 / 10 / 100)


@pytest.mark.parametrize("patience,cooldown,min_lr", [(2, 0, 0.0), (0, 1, 0.002), (3, 2, 0.0)])
def test_reduce_on_plateau_is_torch_with_absolute_threshold(patience, cooldown, min_lr):
    logs = [1.0, 0.9, 0.95, 0.91, 0.9, 0.85, 0.86, 0.87, 0.88, 0.84, 0.9, 0.9]
    ours = _ours(
        sj.ReduceOnPlateau(
            patience=patience, factor=0.5, min_delta=0.01, cooldown=cooldown, min_lr=min_lr
        ),
        logs,
    )
    theirs = _torch(
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(
            o,
            patience=patience,
            factor=0.5,
            threshold=0.01,
            threshold_mode="abs",
            cooldown=cooldown,
            min_lr=min_lr,
        ),
        False,
        logs,
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    assert ours[-1] < BASE  # it did reduce


def test_fit_sets_and_records_every_rate():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [16], 3, seed=0, dtype="float64")
    schedule = sj.CosineDecay(warmup_steps=5)
    history = net.fit(
        x,
        y,
        loss="softmax_cross_entropy",
        optimizer=sj.SGD(lr=0.5),
        epochs=3,
        seed=0,
        batch_size=64,
        schedule=schedule,
    )
    steps = 3 * math.ceil(len(x) / 64)
    assert len(history.lr) == len(history.loss) == steps
    expected = [schedule.rate(s, s // math.ceil(len(x) / 64)) for s in range(steps)]
    assert history.lr == expected
    # and the rates were used: a hand-driven loop with the same rates ends at the same weights
    twin = sj.mlp(2, [16], 3, seed=0, dtype="float64")
    opt = sj.SGD(lr=0.5)

    class SetRate(sj.Callback):
        def on_backward_end(self, state):
            opt.lr = expected[state.step]

    twin.fit(
        x,
        y,
        loss="softmax_cross_entropy",
        optimizer=opt,
        epochs=3,
        seed=0,
        batch_size=64,
        callbacks=[SetRate()],
    )
    for a, b in zip(net.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(a.value, b.value)


def test_without_a_schedule_the_rate_is_recorded_constant():
    x, y = sj.datasets.spiral(seed=0)
    history = sj.mlp(2, [8], 3, seed=0).fit(
        x, y, loss="softmax_cross_entropy", optimizer=sj.SGD(lr=0.3), epochs=2, seed=0
    )
    assert history.lr == [0.3] * len(history.loss)


def test_plateau_in_fit_reduces_on_the_validation_loss():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [16], 3, seed=0)
    sched = sj.ReduceOnPlateau(patience=0, factor=0.5, min_delta=10.0)  # never "improves"
    history = net.fit(
        x,
        y,
        loss="softmax_cross_entropy",
        optimizer=sj.Adam(lr=0.01),
        epochs=4,
        seed=0,
        validation_split=0.2,
        schedule=sched,
    )
    per = len(history.lr) // 4
    # the first epoch sets best; each later epoch halves the rate for the next
    assert history.lr[0] == 0.01 and history.lr[per] == 0.01
    assert history.lr[2 * per] == 0.005 and history.lr[3 * per] == 0.0025


def test_schedule_by_name_and_bad_arguments():
    assert isinstance(sj.schedules.get("cosine"), sj.CosineDecay)
    assert isinstance(sj.schedules.get("one_cycle"), sj.OneCycle)
    with pytest.raises(sj.ConfigError, match="cosine"):
        sj.schedules.get("cosin")
    with pytest.raises(sj.ConfigError, match="gamma"):
        sj.StepDecay(gamma=0)
    with pytest.raises(sj.ConfigError, match="patience"):
        sj.ReduceOnPlateau(patience=-1)
    with pytest.raises(sj.ConfigError, match="monitor"):
        sj.ReduceOnPlateau(monitor=None)
    x, y = sj.datasets.spiral(seed=0)
    with pytest.raises(sj.ConfigError, match="warmup_steps=1000"):
        sj.mlp(2, [4], 3).fit(
            x, y, loss="softmax_cross_entropy", epochs=1, schedule=sj.CosineDecay(warmup_steps=1000)
        )
    with pytest.raises(sj.ConfigError, match="val_loss"):
        sj.mlp(2, [4], 3).fit(
            x, y, loss="softmax_cross_entropy", epochs=1, schedule=sj.ReduceOnPlateau()
        )

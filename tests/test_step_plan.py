"""The step plan: the update fused into backward gives the same weights as after it.

``StepPlan.backward_update`` updates each layer as soon as its backward has run; every
optimizer's update of a parameter reads only that parameter, its gradient and its state,
so the weights must equal, bit for bit, those of ``backward`` then ``update``.
"""

from __future__ import annotations

import numpy as np
import pytest

import shenjing as sj
from shenjing.training.step import StepPlan

OPTIMIZERS = [
    ("sgd", {"lr": 0.05}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"lr": 0.05, "weight_decay": 0.01}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "weight_decay": 0.01}),
    ("rmsprop", {"lr": 0.01}),
    ("adagrad", {"lr": 0.05}),
]


def _net(dtype: str = "float32", seed: int = 0) -> sj.Sequential:
    # A parameter-free layer first (backward stops before it), a Linear with and one
    # without bias, a Maxout, and activations between them.
    return sj.Sequential(
        [
            sj.activations.get("tanh"),
            sj.Linear(6, 8, seed=seed, dtype=dtype),
            sj.activations.get("relu"),
            sj.Maxout(8, 5, pieces=3, seed=seed + 1, dtype=dtype),
            sj.Linear(5, 3, bias=False, seed=seed + 2, dtype=dtype),
            sj.activations.get("sigmoid"),
        ]
    )


def _data(dtype: str = "float32"):
    rng = np.random.default_rng(3)
    return rng.standard_normal((16, 6)).astype(dtype), rng.standard_normal((16, 3)).astype(dtype)


def _train(fuse: bool, name: str, kwargs: dict, steps: int = 6, dtype: str = "float32"):
    net, (x, y) = _net(dtype), _data(dtype)
    loss = sj.losses.get("mse")
    opt = sj.optim.get(name, **kwargs)
    plan = StepPlan(net, opt, fuse=fuse)
    for _ in range(steps):
        loss.forward_unchecked(plan.forward(x), y)
        if fuse:
            plan.backward_update(loss.backward())
        else:
            plan.backward(loss.backward())
            plan.update()
    return net, opt, plan


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_update_gives_the_same_weights_bit_for_bit(name, kwargs, dtype):
    fused, fused_opt, plan = _train(True, name, kwargs, dtype=dtype)
    plain, plain_opt, _ = _train(False, name, kwargs, dtype=dtype)
    assert plan.fused
    for (pn, p, _), (qn, q, _) in zip(fused.parameters(), plain.parameters(), strict=True):
        assert pn == qn
        np.testing.assert_array_equal(p, q)
    # The optimizer's state (velocities, moments, step counts) too.
    for key, state in plain_opt.state.items():
        for field, value in state.items():
            if field != "scratch":
                np.testing.assert_array_equal(fused_opt.state[key][field], value)
    # The weights did move, so the comparison could fail.
    assert not np.array_equal(fused.parameters()[0].value, _net(dtype).parameters()[0].value)


def test_fused_leaves_the_gradients_of_the_last_step():
    fused, _, _ = _train(True, "sgd", {"lr": 0.05})
    plain, _, _ = _train(False, "sgd", {"lr": 0.05})
    for p, q in zip(fused.parameters(), plain.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad)


def test_weights_shared_between_layers_are_not_fused():
    a, b = sj.Linear(4, 4, seed=0), sj.Linear(4, 4, seed=1)
    b.params["W"] = a.params["W"]  # tied weights
    net = sj.Sequential([a, sj.activations.get("tanh"), b])
    plan = StepPlan(net, sj.SGD(lr=0.1), fuse=True)
    assert not plan.fused  # the first layer's backward would read weights already updated


def test_an_optimizer_that_reads_every_parameter_is_not_fused():
    class GlobalNorm(sj.SGD):
        per_parameter = False

    assert not StepPlan(_net(), GlobalNorm(lr=0.1), fuse=True).fused
    assert not StepPlan(_net(), sj.SGD(lr=0.1), fuse=False).fused
    assert StepPlan(_net(), sj.SGD(lr=0.1), fuse=True).fused


def test_unfused_backward_update_is_backward_then_update():
    net_a, net_b, (x, y) = _net(), _net(), _data()
    loss = sj.losses.get("mse")
    a = StepPlan(net_a, sj.Adam(lr=0.01), fuse=False)
    b = StepPlan(net_b, sj.Adam(lr=0.01), fuse=False)
    for _ in range(3):
        loss.forward_unchecked(a.forward(x), y)
        a.backward_update(loss.backward())
        loss.forward_unchecked(b.forward(x), y)
        b.backward(loss.backward())
        b.update()
    for p, q in zip(net_a.parameters(), net_b.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)


class _SeesGradients(sj.Callback):
    """Needs every gradient before any update: fit takes the unfused path."""

    def __init__(self) -> None:
        self.norms: list[float] = []

    def on_backward_end(self, state) -> None:
        self.norms.append(sum(float(np.abs(p.grad).sum()) for p in state.net.parameters()))


@pytest.mark.parametrize(("name", "kwargs"), [OPTIMIZERS[0], OPTIMIZERS[1], OPTIMIZERS[4]])
def test_fit_fused_and_unfused_give_the_same_weights(name, kwargs):
    x, y = _data()
    fused, plain = _net(), _net()
    common = {"loss": "mse", "epochs": 3, "batch_size": 5, "seed": 1}
    fused.fit(x, y, optimizer=sj.optim.get(name, **kwargs), **common)
    seer = _SeesGradients()
    plain.fit(x, y, optimizer=sj.optim.get(name, **kwargs), callbacks=[seer], **common)
    assert len(seer.norms) == 12 and all(n > 0 for n in seer.norms)
    for p, q in zip(fused.parameters(), plain.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)

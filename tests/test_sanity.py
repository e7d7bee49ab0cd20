"""``sj.sanity_check``: each check passes on a sound network, fails on a broken one with
the numbers, and the user's network is never modified."""

from __future__ import annotations

import math

import numpy as np
import pytest

import shenjing as sj
from shenjing.diagnosis import sanity


@pytest.fixture(scope="module")
def spiral():
    return sj.datasets.spiral(seed=0)


def small(outputs: int = 3, seed: int = 0) -> sj.Sequential:
    return sj.Sequential(
        sj.Linear(2, 32, seed=seed), sj.ReLU(), sj.Linear(32, outputs, seed=seed + 1)
    )


def test_sound_network_passes_every_check(spiral):
    x, y = spiral
    report = sj.sanity_check(small(), x, y, loss="softmax_cross_entropy")
    assert report.passed and bool(report)
    assert [c.passed for c in report.checks] == [True, True, True]
    init = report["loss at init"]
    assert init.expected == pytest.approx(math.log(3))
    assert abs(init.value - math.log(3)) < sanity.INIT_LOSS_TOLERANCE * math.log(3)
    assert "log K = log 3" in str(init)
    assert report["gradient check"].value < 1e-7
    assert report["overfit a tiny batch"].value < report["overfit a tiny batch"].expected
    assert str(report).startswith("Sanity checks passed\nPASS  loss at init")


def test_badly_scaled_output_layer_fails_the_initial_loss(spiral):
    x, y = spiral
    net = small()
    net[2].W[...] *= 30
    check = sj.sanity_check(net, x, y, loss="ce")["loss at init"]
    assert check.passed is False
    assert check.value > 2 * math.log(3)
    assert "FAIL  loss at init" in str(check)


def test_a_wrong_backward_pass_fails_the_gradient_check(spiral):
    x, y = spiral

    class WrongReLU(sj.ReLU):
        def _backward(self, dout, dx):
            super()._backward(dout, dx)
            dx *= 1.5  # the derivative is off by half

    net = sj.Sequential(sj.Linear(2, 16, seed=0), WrongReLU(), sj.Linear(16, 3, seed=1))
    report = sj.sanity_check(net, x, y, loss="ce")
    assert report["gradient check"].passed is False
    assert report["gradient check"].value > 1e-3
    assert not report.passed


def test_a_network_that_cannot_learn_fails_to_overfit(spiral):
    x, y = spiral
    net = small()
    net[0].b[...] = -100  # every hidden unit dead: the output is a constant
    check = sj.sanity_check(net, x, y, loss="ce")["overfit a tiny batch"]
    assert check.passed is False
    assert check.value > check.expected


def test_other_losses_state_what_is_expected(spiral):
    x, y = spiral
    binary = (y == 1).astype(float)
    bce = sj.sanity_check(small(1), x, binary, loss="bce")["loss at init"]
    assert bce.expected == pytest.approx(math.log(2)) and bce.passed
    mse = sj.sanity_check(small(1), x, binary, loss="mse")["loss at init"]
    assert mse.expected == pytest.approx(np.mean(binary**2)) and "predicting 0" in mse.message

    class Odd(sj.Loss):  # a loss with no known initial value
        def prepare_target(self, target, pred_shape, dtype):
            return sj.MeanSquaredError().prepare_target(target, pred_shape, dtype)

        def _forward(self, pred, target):
            self._pred, self._diff = pred, pred - target
            return float(np.abs(self._diff).mean())

        def _backward(self, grad):
            np.divide(np.sign(self._diff), self._diff.size, out=grad)

    skipped = sj.sanity_check(small(1), x, binary, loss=Odd())["loss at init"]
    assert skipped.passed is None and "no expected initial value" in skipped.message
    assert str(skipped).startswith("SKIP")


def test_the_users_network_is_not_modified(spiral):
    x, y = spiral
    net = small()
    before = [p.value.copy() for p in net.parameters()]
    sj.sanity_check(net, x, y, loss="ce")
    assert all(np.array_equal(p.value, b) for p, b in zip(net.parameters(), before, strict=True))
    assert net.dtype == np.float32 and net.loss is None


def test_overfit_rows_have_distinct_inputs():
    x = np.zeros((20, 2))
    x[10:] = 1.0  # two distinct inputs only
    rows = sanity._rows(x, 8, np.random.default_rng(0))
    assert len(rows) == 2 and len({tuple(r) for r in x[rows]}) == 2


def test_bad_arguments(spiral):
    x, y = spiral
    with pytest.raises(sj.ConfigError, match="loss"):
        sj.sanity_check(small(), x, y)
    with pytest.raises(sj.ShapeError):
        sj.sanity_check(small(), x, y[:5], loss="ce")
    with pytest.raises(sj.DTypeError, match="Sequential"):
        sj.sanity_check(sj.Linear(2, 3), x, y, loss="ce")


def test_regression_loss_at_init_allows_outputs_as_large_as_the_targets():
    x, y = sj.datasets.sine(seed=0)
    net = sj.Sequential(sj.Linear(1, 64, seed=0), sj.Tanh(), sj.Linear(64, 1, seed=1))
    healthy = sj.sanity_check(net, x, y, loss="mse")["loss at init"]
    assert healthy.passed, healthy.message
    net[2].W[...] *= 30  # initial outputs far larger than the targets
    blown = sj.sanity_check(net, x, y, loss="mse")["loss at init"]
    assert blown.passed is False and "above 2 ×" in blown.message
    assert blown.value > 2 * blown.expected


def test_gradient_check_avoids_kinks_even_when_few_rows_are_smooth():
    # The notes' XOR network has no biases: the input (0, 0) sits on every ReLU's kink,
    # and only the other three rows are smooth. They must be the ones checked.
    x, y = sj.datasets.xor()
    net = sj.Sequential(
        sj.Linear(2, 30, bias=False, init="normal", dtype="float64", seed=0),
        sj.ReLU(),
        sj.Linear(30, 1, bias=False, init="normal", dtype="float64", seed=1),
    )
    check = sj.sanity_check(net, x, y, loss="sse")["gradient check"]
    assert check.passed, check.message
    assert "on 3 rows" in check.message

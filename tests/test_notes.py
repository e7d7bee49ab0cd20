"""The notes' two programs, reproduced by shenjing to rounding (précis §3)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import shenjing as sj
from shenjing import notes


@pytest.mark.parametrize("name", notes.PROGRAMS)
@pytest.mark.parametrize("seed", [0, 1])
def test_fit_reproduces_the_notes_loop_at_every_step(name, seed):
    result = notes.run(name, seed=seed)
    assert len(result.losses) == len(result.reference) == result.setup.steps
    # The contract is 1e-12; shenjing evaluates the same formulas in the same order,
    # so in practice the two runs agree bit for bit.
    assert result.max_relative_difference < 1e-12
    # And training did something: the loss fell by orders of magnitude.
    assert result.losses[-1] < 1e-2 * result.losses[0]


def test_xor_program_as_the_issue_writes_it():
    """The issue's user code, verbatim, against the notes' loop on the same weights."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = np.array([[0], [1], [1], [0]])
    net = sj.Sequential(
        sj.Linear(2, 30, bias=False, dtype="float64"),
        sj.ReLU(),
        sj.Linear(30, 1, bias=False, dtype="float64"),
    )
    rng = np.random.default_rng(0)
    net[0].W[...] = rng.standard_normal((2, 30))
    net[2].W[...] = rng.standard_normal((30, 1))
    w1, w2 = net[0].W.copy(), net[2].W.copy()
    history = net.fit(
        x, y, loss="sse", optimizer=sj.SGD(lr=0.002), epochs=200, batch_size=None, shuffle=False
    )
    assert len(history.loss) == 200
    assert all(isinstance(v, float) for v in history.loss)

    # The same, written out by hand, continuing from where fit stopped.
    loss_fn, opt = sj.SumSquaredError(), sj.SGD(lr=0.002)
    hand = []
    for _t in range(200):
        pred = net.forward(x)
        loss = loss_fn(pred, y)
        hand.append(loss)
        net.backward(loss_fn.backward())
        opt.step(net)

    setup = notes.NotesSetup("xor", x, y, w1, w2, "relu", 0.002, 400)
    reference = notes.reference_losses(setup)
    got = np.array(history.loss + hand)
    np.testing.assert_allclose(got, reference, rtol=1e-12, atol=0)


def test_regression_program_with_a_hand_loop():
    s = notes.setup("regression", seed=3)
    s = notes.NotesSetup(s.name, s.x, s.y, s.w1, s.w2, s.hidden, s.learning_rate, 50)
    net = notes.network(s)
    loss_fn, opt = sj.SumSquaredError(), sj.SGD(lr=s.learning_rate)
    losses = []
    for _t in range(s.steps):
        losses.append(loss_fn(net.forward(s.x), s.y))
        net.backward(loss_fn.backward())
        opt.step(net)
    np.testing.assert_allclose(losses, notes.reference_losses(s), rtol=1e-12, atol=0)


def test_a_wrong_step_is_caught():
    """The comparison can fail: a slightly different learning rate shows up at once."""
    s = notes.setup("xor", seed=0)
    net = notes.network(s)
    history = net.fit(
        s.x,
        s.y,
        loss="sse",
        optimizer=sj.SGD(lr=0.0021),
        epochs=200,
        batch_size=None,
        shuffle=False,
    )
    diff = np.max(np.abs(np.array(history.loss) - notes.reference_losses(s)))
    assert diff > 1e-6


def test_setup_is_reproducible_and_leaves_the_global_rng_alone():
    state = np.random.get_state()[1].copy()
    a, b = notes.setup("regression", seed=7), notes.setup("regression", seed=7)
    assert np.array_equal(a.w1, b.w1) and np.array_equal(a.x, b.x)
    assert a.x.shape == (64, 1000) and a.y.shape == (64, 10)
    assert a.w1.shape == (1000, 100) and a.w2.shape == (100, 10)
    assert np.array_equal(np.random.get_state()[1], state)
    with pytest.raises(sj.ConfigError, match="xor"):
        notes.setup("spiral")


def test_the_notes_neuron():
    weights, bias, inputs = np.array([0.3, -0.2, 0.5]), 0.1, np.array([1.0, 2.0, -1.0])
    neuron = sj.Neuron(weights, bias)
    cell_body_sum = np.sum(inputs * weights) + bias
    assert neuron.forward(inputs) == pytest.approx(1.0 / (1.0 + np.exp(-cell_body_sum)), abs=0)


def test_python_dash_m_runs_both_programs(tmp_path):
    """The README's first command, as a user runs it: in the current folder."""
    out = subprocess.run(
        [sys.executable, "-m", "shenjing", "demo"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=tmp_path,
    ).stdout
    assert "regression" in out and "xor" in out
    diffs = [float(line.rsplit(":", 1)[1]) for line in out.splitlines() if "relative" in line]
    assert len(diffs) == 2 and max(diffs) < 1e-12
    written = sorted(p.name for p in (tmp_path / "shenjing-demo").iterdir())
    assert "regression-loss.png" in written and "activations.png" in written
    assert all(f"shenjing-demo/{name}" in out for name in written)

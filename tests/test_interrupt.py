"""Ctrl-C during fit takes effect between steps: SIGINT at random moments of a real
process leaves every parameter and the optimizer's state exactly as a reference run
has them after some whole number of steps, and keeps the History."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj
from shenjing.training.interrupts import DeferredInterrupt

WORKER = str(Path(__file__).with_name("_fit_worker.py"))
INTERRUPTS = int(os.environ.get("SHENJING_INTERRUPT_POINTS", "3"))


def _load(path) -> dict:
    with np.load(path) as data:  # closed here: an open NpzFile is a ResourceWarning
        return {key: data[key] for key in data.files}


def _run(*args: str, interrupt_after: float | None = None) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, WORKER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    if interrupt_after is not None:
        try:
            proc.wait(timeout=interrupt_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return proc.returncode


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
@pytest.mark.parametrize("config", ["adam32", "sgd64"])
def test_sigint_at_random_moments_leaves_one_whole_step(config, tmp_path):
    rng = np.random.default_rng()
    results = []
    for i in range(INTERRUPTS):
        out = tmp_path / f"int{i}.npz"
        _run(config, "interrupt", str(out), interrupt_after=float(rng.uniform(0.0, 0.3)))
        data = _load(out)
        assert bool(data["handler_restored"])  # fit put Python's handler back
        if int(data["interrupted"]):
            assert bool(data["same_history"])  # exc.history is net.history
            results.append(data)
    if not results:
        pytest.skip("every run finished before its interrupt (a very slow machine)")
    steps = sorted({int(d["steps"]) for d in results})
    ref_path = tmp_path / "ref.npz"
    _run(config, "steps:" + ",".join(map(str, steps)), str(ref_path))
    ref = _load(ref_path)
    for data in results:
        k = int(data["steps"])
        assert len(data["history.loss"]) == len(data["history.lr"]) == k
        state = [key for key in data if key.startswith(("param.", "opt."))]
        assert state and all(f"{k}.{key}" in ref for key in state)
        for key in state:
            assert np.array_equal(data[key], ref[f"{k}.{key}"]), (k, key)
        if config.startswith("adam"):
            counters = {int(data[key]) for key in state if key.endswith(".t")}
            assert counters == {k}  # every parameter's step count is the step reached
    print(f"{config}: {len(results)} of {INTERRUPTS} SIGINTs landed in fit, at steps {steps}")


def test_the_handler_is_only_installed_in_the_main_thread():
    seen = {}

    def worker():
        with DeferredInterrupt() as interrupt:
            seen["handler"] = signal.getsignal(signal.SIGINT)
            seen["pending"] = interrupt.pending

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen["handler"] is signal.default_int_handler
    with DeferredInterrupt() as interrupt:
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        signal.raise_signal(signal.SIGINT)  # held, not raised
        assert interrupt.pending
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_fit_in_a_thread_trains_without_a_handler():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [4], 3, seed=0)
    out = {}
    thread = threading.Thread(
        target=lambda: out.setdefault("h", net.fit(x, y, loss="softmax_cross_entropy", epochs=1))
    )
    thread.start()
    thread.join()
    assert out["h"].epochs_run == 1 and net.history is out["h"]


def test_an_interrupt_in_process_keeps_the_history():
    x, y = sj.datasets.spiral(seed=0)
    net = sj.mlp(2, [8], 3, seed=0)

    class CtrlC(sj.Callback):
        def on_backward_end(self, state):  # mid-step, between backward and update
            if state.step == 5:
                signal.raise_signal(signal.SIGINT)

    opt = sj.Adam()
    with pytest.raises(KeyboardInterrupt) as info:
        net.fit(x, y, loss="softmax_cross_entropy", optimizer=opt, epochs=3, callbacks=[CtrlC()])
    # the step under way completed: 6 steps, each with its loss and rate
    assert len(info.value.history.loss) == len(net.history.lr) == 6
    assert info.value.history is net.history
    assert {s["t"] for s in opt.state.values()} == {6}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

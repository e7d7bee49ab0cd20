"""A fit killed with SIGKILL at random moments and resumed ends bit for bit as one never
killed: weights, optimizer state and History (float64 SGD with momentum and
EarlyStopping; float32 Adam with a cosine schedule and clipping; shuffled mini-batches
and a validation split). Real processes, real kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

WORKER = str(Path(__file__).with_name("_fit_worker.py"))
#: Kills per configuration, each at a random moment of the run; raise it for a longer
#: search (the closing note's figure: SHENJING_KILL_POINTS=40).
KILLS = int(os.environ.get("SHENJING_KILL_POINTS", "3"))


def _load(path) -> dict:
    with np.load(path) as data:  # closed here: an open NpzFile is a ResourceWarning
        return {key: data[key] for key in data.files}


def _start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, WORKER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "ready": imports done, fit about to start
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line
    return proc


def _finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
@pytest.mark.parametrize("config", ["sgd64", "adam32"])
def test_killed_and_resumed_equals_uninterrupted(config, tmp_path):
    ref = tmp_path / "ref.npz"
    _finish(_start(config, "run", str(ref)))
    expected = _load(ref)
    rng = np.random.default_rng()
    kills, episodes = [], 0
    while len(kills) < KILLS:  # an episode: from no checkpoint, killed until it finishes
        episodes += 1
        out, ckpt = tmp_path / f"out{episodes}.npz", tmp_path / f"run{episodes}.ckpt"
        while True:
            proc = _start(config, "run", str(out), str(ckpt))
            delay = float(rng.uniform(0.0, 0.8))
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.communicate()
                kills.append(round(delay, 3))
                continue
            _finish(proc)  # finished before the kill
            break
        got = _load(out)
        assert sorted(got) == sorted(expected)
        for key, value in expected.items():
            assert value.dtype == got[key].dtype
            assert np.array_equal(value, got[key]), f"{key} differs after kills at {kills} s"
    print(f"{config}: {len(kills)} kills in {episodes} runs, all ended bit for bit equal")

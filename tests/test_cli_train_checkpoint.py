"""shenjing train --checkpoint (resume by running the same command) and --lr-find."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj
from shenjing.cli import main
from shenjing.training import resume

pytest.importorskip("pandas")

CUSTOMERS = Path(__file__).parent / "data" / "customers.csv"
FAST = ["--hidden", "16", "--epochs", "6", "--batch-size", "16", "--lr", "0.01", "--quiet"]


def _train(tmp_path, *options, out="model.shj"):
    data = tmp_path / "data.csv"
    data.write_bytes(CUSTOMERS.read_bytes())
    args = ["train", str(data), "--target", "churned", "--missing", "mean", "--out"]
    return main([*args, str(tmp_path / out), *FAST, *options])


def _weights(path):
    return [p.value for p in sj.load(path).parameters()]


def test_checkpoint_resumes_a_crashed_run_to_the_same_model(tmp_path, monkeypatch, capsys):
    assert _train(tmp_path, out="plain.shj") == 0
    ckpt = tmp_path / "run.ckpt"
    real, calls = resume.capture, []

    def crash_on_the_third(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return real(**kwargs)

    monkeypatch.setattr(resume, "capture", crash_on_the_third)
    assert _train(tmp_path, "--checkpoint", str(ckpt)) == 1
    assert "power cut" in capsys.readouterr().err
    assert not (tmp_path / "model.shj").exists() and ckpt.exists()
    monkeypatch.setattr(resume, "capture", real)
    assert _train(tmp_path, "--checkpoint", str(ckpt)) == 0  # the same command again
    for a, b in zip(
        _weights(tmp_path / "plain.shj"), _weights(tmp_path / "model.shj"), strict=True
    ):
        assert np.array_equal(a, b)
    capsys.readouterr()


def test_a_checkpoint_of_other_options_is_refused(tmp_path, capsys):
    ckpt = tmp_path / "run.ckpt"
    assert _train(tmp_path, "--checkpoint", str(ckpt)) == 0
    code = _train(tmp_path, "--checkpoint", str(ckpt), "--batch-size", "8", "--force")
    err = capsys.readouterr().err
    assert code == 2 and "batch_size: 16 there, 8 here" in err


def test_lr_find_prints_its_suggestion_and_trains_with_it(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert _train(tmp_path, "--lr-find") == 0
    out = capsys.readouterr().out
    assert "lr-find: trained with lr=" in out and "falls fastest" in out
    assert (tmp_path / "model-lr-find.png").stat().st_size > 1000
    with zipfile.ZipFile(tmp_path / "model.shj") as zf:
        training = json.loads(zf.read("shenjing.json"))["metadata"]["training"]
    found = training["lr_find"]
    assert training["lr"] == found["suggestion"] != 0.01
    assert f"lr={found['suggestion']:.3g}" in out

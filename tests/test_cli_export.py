"""``shenjing export MODEL OUT [--opset N]``."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import shenjing as sj  # noqa: E402
from shenjing.cli import main  # noqa: E402


@pytest.fixture
def model(tmp_path):
    net = sj.Sequential(sj.Linear(3, 5, seed=0), sj.GELU(), sj.Maxout(5, 2, seed=1))
    path = tmp_path / "model.shj"
    sj.save(net, path)
    return path, net


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_export_writes_a_model_that_runs(model, tmp_path, capsys, rng):
    path, net = model
    out = tmp_path / "model.onnx"
    assert main(["export", str(path), str(out), "--opset", "18"]) == 0
    printed = one_line(capsys.readouterr().out)
    assert "opset 18" in printed and "input 'input' (N, 3) float32" in printed
    assert "output 'output' (N, 2)" in printed
    model_proto = onnx.load(os.fspath(out))
    onnx.checker.check_model(model_proto, full_check=True)
    assert model_proto.opset_import[0].version == 18
    x = rng.standard_normal((10, 3)).astype(np.float32)
    session = ort.InferenceSession(os.fspath(out), providers=["CPUExecutionProvider"])
    want = net.predict(x)
    np.testing.assert_allclose(
        session.run(None, {"input": x})[0], want, rtol=1e-6, atol=1e-6 * np.abs(want).max()
    )


def test_a_model_with_preprocessing_gets_a_note(tmp_path, capsys):
    net = sj.Sequential(sj.Linear(2, 1, seed=0))
    sj.save(net, tmp_path / "m.shj", metadata={"preprocessing": {"numeric": ["a", "b"]}})
    assert main(["export", str(tmp_path / "m.shj"), str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out
    assert "note: the ONNX graph holds the network only" in out
    assert main(["export", str(tmp_path / "m.shj"), str(tmp_path / "m.onnx"), "--quiet"]) == 0
    assert "note" not in capsys.readouterr().out


@pytest.mark.parametrize("opset", ["5", "999"])
def test_bad_opset_exits_2(model, tmp_path, capsys, opset):
    path, _ = model
    out = tmp_path / "x.onnx"
    assert main(["export", str(path), str(out), "--opset", opset]) == 2
    err = one_line(capsys.readouterr().err)
    assert err.startswith("shenjing export: error: --opset must be from 13 to")
    assert not out.exists()


def test_non_integer_opset_is_a_usage_error(model, tmp_path, capsys):
    path, _ = model
    with pytest.raises(SystemExit) as exc:
        main(["export", str(path), str(tmp_path / "x.onnx"), "--opset", "x"])
    assert exc.value.code == 2
    assert "invalid int value" in one_line(capsys.readouterr().err)


def test_missing_model_exits_1(tmp_path, capsys):
    out = tmp_path / "x.onnx"
    assert main(["export", str(tmp_path / "nope.shj"), str(out)]) == 1
    err = one_line(capsys.readouterr().err)
    assert err.startswith("shenjing export: error:") and "nope.shj" in err
    assert not out.exists()


def test_not_a_model_file_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.shj"
    bad.write_text("not a model")
    assert main(["export", str(bad), str(tmp_path / "x.onnx")]) == 1
    assert "shenjing export: error:" in one_line(capsys.readouterr().err)
    assert sorted(os.listdir(tmp_path)) == ["bad.shj"]


def test_missing_output_folder_exits_1(model, tmp_path, capsys):
    path, _ = model
    assert main(["export", str(path), str(tmp_path / "no" / "x.onnx")]) == 1
    assert "does not exist" in one_line(capsys.readouterr().err)


def test_missing_onnx_names_the_extra(model, tmp_path, capsys, monkeypatch):
    path, _ = model
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert main(["export", str(path), str(tmp_path / "x.onnx")]) == 1
    assert "pip install 'shenjing[onnx]'" in one_line(capsys.readouterr().err)


def test_subprocess_smoke(model, tmp_path):
    path, _ = model
    out = tmp_path / "smoke.onnx"
    done = subprocess.run(
        [sys.executable, "-m", "shenjing", "export", str(path), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.is_file() and f"wrote {out}" in done.stdout

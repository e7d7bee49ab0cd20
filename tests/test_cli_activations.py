"""`shenjing activations`: the notes' activation figure, PNG by default, SVG/PDF by extension."""

from __future__ import annotations

import pytest

from _helpers import check_png, run_cli

pytest.importorskip("matplotlib")


def test_default_png_in_the_current_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["activations"], capsys)
    assert code == 0 and err == ""
    assert out.strip() == "wrote activations.png"
    check_png(tmp_path / "activations.png", size=(1440, 660), min_colours=50)


@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_svg_and_pdf_by_extension(suffix, magic, tmp_path, capsys):
    path = tmp_path / "sub" / f"act{suffix}"
    code, out, _ = run_cli(["activations", "--out", str(path), "--threshold", "0.05"], capsys)
    assert code == 0 and str(path) in out
    assert path.read_bytes().startswith(magic)


def test_threshold_changes_the_shaded_tails(tmp_path, capsys):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert run_cli(["activations", "--out", str(a), "--threshold", "0.01"], capsys)[0] == 0
    assert run_cli(["activations", "--out", str(b), "--threshold", "0.3"], capsys)[0] == 0
    assert a.read_bytes() != b.read_bytes()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "a.gif"], "--out must name a .png, .svg or .pdf file"),
        (["--threshold", "1.5"], "--threshold must be in (0, 1)"),
        (["--threshold", "none"], "argument --threshold"),
    ],
)
def test_bad_options_exit_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["activations", *argv], capsys)
    assert code == 2 and message in err and out == ""
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())

"""`shenjing compare`: a table with one row per variant, a figure, CSV and JSON."""

from __future__ import annotations

import csv
import json

import pytest

from _helpers import check_png, run_cli

pytest.importorskip("matplotlib")


def test_tiny_compare_writes_one_row_per_variant(tmp_path, capsys):
    out_dir = tmp_path / "cmp"
    argv = ["compare", "--dataset", "xor", "--activations", "relu,tanh,maxout", "--seeds", "2"]
    argv += ["--epochs", "20", "--lr", "0.05", "--out", str(out_dir)]
    code, out, err = run_cli(argv, capsys)
    assert code == 0 and err == ""  # stdout is not a terminal: no progress bar
    lines = out.splitlines()
    assert lines[0].startswith("compare on xor (4 samples, classification): 3 variants × 2 seeds")
    assert [line.split()[0] for line in lines[2:5]] == ["relu", "tanh", "maxout"]
    with open(out_dir / "compare.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["variant"] for row in rows] == ["relu", "tanh", "maxout"]
    assert all(row["seeds"] == "2" for row in rows)
    doc = json.loads((out_dir / "compare.json").read_text())
    assert [row["variant"] for row in doc["table"]] == ["relu", "tanh", "maxout"]
    assert doc["settings"]["epochs"] == 20 and doc["settings"]["lr"] == 0.05
    check_png(out_dir / "compare.png", size=(640, 440), min_colours=20)
    for name in ("compare.png", "compare.csv", "compare.json"):
        assert str(out_dir / name) in out


def test_several_architectures(tmp_path, capsys):
    argv = ["compare", "--dataset", "circles", "--activations", "relu", "--hidden", "16"]
    argv += ["--hidden", "4,4;2,2,2", "--seeds", "1", "--epochs", "5", "--out", str(tmp_path)]
    argv += ["--optimizer", "sgd", "--target", "0.9", "--quiet"]
    code, out, _ = run_cli(argv, capsys)
    assert code == 0
    with open(tmp_path / "compare.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["variant"] for row in rows] == ["relu 16", "relu 4-4", "relu 2-2-2"]
    doc = json.loads((tmp_path / "compare.json").read_text())
    assert doc["settings"]["optimizer"] == "sgd" and doc["settings"]["target_fraction"] == 0.9
    assert "0.9 × its first value" in out


def test_parallel_jobs_give_the_same_table(tmp_path, capsys):
    base = ["compare", "--dataset", "moons", "--activations", "relu,tanh", "--seeds", "2"]
    base += ["--epochs", "10"]
    assert run_cli([*base, "--out", str(tmp_path / "a")], capsys)[0] == 0
    assert run_cli([*base, "--out", str(tmp_path / "b"), "--jobs", "2"], capsys)[0] == 0
    a = (tmp_path / "a" / "compare.csv").read_text()
    assert a == (tmp_path / "b" / "compare.csv").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "mnist"], "argument --dataset: invalid choice: 'mnist'"),
        (["--activations", "relu,swish"], "unknown activation 'swish'"),
        (["--activations", ","], "argument --activations"),
        (["--hidden", "8,x"], "argument --hidden: expected widths"),
        (["--hidden", "0"], "argument --hidden"),
        (["--seeds", "0"], "argument --seeds: expected a positive number"),
        (["--epochs", "-3"], "argument --epochs"),
        (["--lr", "zero"], "argument --lr"),
        (["--optimizer", "lion"], "argument --optimizer: invalid choice"),  # adamw exists now
        (["--target", "1"], "argument --target: expected a fraction in (0, 1)"),
        (["--jobs", "0"], "argument --jobs"),
        (["--data-seed", "-1"], "--data-seed must be non-negative"),
    ],
)
def test_bad_options_exit_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["compare", *argv], capsys)
    assert code == 2 and message in err and out == ""
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_help_has_an_example(capsys):
    code, out, _ = run_cli(["compare", "--help"], capsys)
    assert code == 0 and "Example:" in out and "--hidden 64 --hidden 8,8,8,8" in out


@pytest.mark.parametrize(("quiet", "bar"), [(False, True), (True, False)])
def test_progress_bar_only_on_a_terminal_without_quiet(quiet, bar, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    argv = ["compare", "--dataset", "xor", "--activations", "relu", "--seeds", "2"]
    argv += ["--epochs", "3", "--out", str(tmp_path), *(["--quiet"] if quiet else [])]
    code, out, err = run_cli(argv, capsys)
    assert code == 0 and "relu" in out
    assert ("compare: 100%" in err) is bar


def test_an_out_that_is_a_file_is_refused_before_training(tmp_path, capsys):
    from shenjing.cli import main

    (tmp_path / "afile").write_text("x")
    assert main(["compare", "--out", str(tmp_path / "afile"), "--seeds", "1"]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err

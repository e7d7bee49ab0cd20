"""`shenjing demo`: the notes' two programs, checked against the notes' loop, and the figures."""

from __future__ import annotations

import contextlib
import csv
import io
import re

import pytest

from _helpers import check_png, run_cli
from shenjing.cli import main

pytest.importorskip("matplotlib")

FIGURES = {
    "regression-loss.png": (640, 440),
    "xor-loss.png": (640, 440),
    "activations.png": (1440, 660),
    "compare.png": (640, 440),
    "spiral-boundary.png": (640, 440),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One full demo (the README's first command), run in-process."""
    out = tmp_path_factory.mktemp("demo") / "figures"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["demo", "--out", str(out)])
    return code, stdout.getvalue(), stderr.getvalue(), out


def test_demo_runs_both_programs_at_rounding_level(demo):
    code, out, err, _ = demo
    assert code == 0 and err == ""
    diffs = re.findall(r"relative difference from the notes' own loop, over every step: (\S+)", out)
    assert len(diffs) == 2 and max(float(d) for d in diffs) < 1e-12
    first = [float(v) for v in re.findall(r"loss at step 1: +(\S+)", out)]
    last = [float(v) for v in re.findall(r"loss at step \d{3,4}: (\S+)", out)]
    assert len(first) == len(last) == 2
    assert all(b < 1e-2 * a for a, b in zip(first, last, strict=True))  # training worked


def test_demo_writes_every_figure_and_the_table(demo):
    _, out, _, folder = demo
    for name, size in FIGURES.items():
        check_png(folder / name, size=size, min_colours=20)
        assert str(folder / name) in out  # the paths written are printed
    with open(folder / "compare.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["variant"] for row in rows] == ["sigmoid", "tanh", "relu", "leaky_relu", "maxout"]
    assert (folder / "compare.json").is_file()
    assert "variant" in out and "relu" in out  # the comparison's table is printed


def test_one_program(tmp_path, capsys):
    assert main(["demo", "xor", "--out", str(tmp_path), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "xor:" in out and "regression:" not in out and "compare" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xor-loss.png"]
    check_png(tmp_path / "xor-loss.png", size=(640, 440))


def test_default_folder_is_in_the_current_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "xor", "--quiet"]) == 0
    assert (tmp_path / "shenjing-demo" / "xor-loss.png").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "spiral"], "invalid choice: 'spiral'"),
        (["demo", "--seed", "-1"], "--seed must be a non-negative integer"),
        (["demo", "--seed", "x"], "argument --seed"),
    ],
)
def test_bad_options_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(argv, capsys)
    assert code == 2 and message in err and out == ""
    assert len(err.strip().splitlines()) == 1  # one line, no traceback
    assert not list(tmp_path.iterdir())

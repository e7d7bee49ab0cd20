"""``shenjing diagnose`` and ``shenjing train --monitor``: the report, the figures, the
ways DATA is read, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import shenjing as sj
from _helpers import check_png, run_cli

pytest.importorskip("matplotlib")


@pytest.fixture
def spiral_files(tmp_path):
    x, y = sj.datasets.spiral(points_per_class=40, seed=0)
    net = sj.Sequential(sj.Linear(2, 32, seed=0), sj.ReLU(), sj.Linear(32, 3, seed=1))
    sj.save(net, tmp_path / "net.shj")
    np.savez(tmp_path / "data.npz", x=x, y=y)
    np.savez(tmp_path / "inputs.npz", x=x)
    return tmp_path, x, y


def test_report_and_figures_from_npz(spiral_files, capsys):
    folder, x, _ = spiral_files
    code, out, err = run_cli(
        ["diagnose", str(folder / "net.shj"), str(folder / "data.npz"), "--loss", "ce",
         "--out", str(folder / "figs")], capsys,
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"Diagnosis over {len(x)} rows, loss ")
    assert "  1  ReLU()" in out and "No findings" in out
    check_png(folder / "figs" / "activation_histograms.png")
    check_png(folder / "figs" / "gradient_flow.png")


def test_without_targets_only_forward_statistics(spiral_files, capsys):
    folder, _, _ = spiral_files
    code, out, err = run_cli(
        ["diagnose", str(folder / "net.shj"), str(folder / "inputs.npz"), "--out", str(folder)],
        capsys,
    )
    assert code == 0, err
    assert "gradient ratio" not in out
    assert (folder / "activation_histograms.png").is_file()
    assert not (folder / "gradient_flow.png").exists()


def test_a_dead_layer_is_reported(spiral_files, capsys):
    folder, _, _ = spiral_files
    net = sj.load(folder / "net.shj")
    net[0].b[...] = -10
    sj.save(net, folder / "dead.shj")
    code, out, _ = run_cli(
        ["diagnose", str(folder / "dead.shj"), str(folder / "data.npz"), "--loss", "ce",
         "--no-figures"], capsys,
    )  # fmt: skip
    assert code == 0
    assert "layer 1 (ReLU): 100% of units are dead" in out
    assert not list(folder.glob("*.png"))


def test_numeric_csv_with_a_target_column(spiral_files, capsys):
    folder, x, y = spiral_files
    rows = ["a,label,b"] + [
        f"{float(a)!r},{k},{float(b)!r}" for (a, b), k in zip(x, y, strict=True)
    ]
    (folder / "data.csv").write_text("\n".join(rows) + "\n")
    code, out, err = run_cli(
        ["diagnose", str(folder / "net.shj"), str(folder / "data.csv"), "--target", "label",
         "--loss", "ce", "--no-figures"], capsys,
    )  # fmt: skip
    assert code == 0, err
    expected = sj.diagnose(sj.load(folder / "net.shj"), x, y, loss="ce")
    assert f"loss {expected.loss:.4g}" in out.splitlines()[0]


def test_a_model_from_shenjing_train_reads_its_own_table(tmp_path, capsys):
    pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    lines = ["size,colour,label"]
    for _ in range(120):
        size, colour = rng.normal(), rng.choice(["red", "blue"])
        lines.append(f"{size:.3f},{colour},{'big' if size > 0 else 'small'}")
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    model = tmp_path / "t.shj"
    code, out, err = run_cli(
        ["train", str(tmp_path / "t.csv"), "--target", "label", "--epochs", "3", "--hidden", "16",
         "--out", str(model), "--monitor", "2", "--quiet"], capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "Recorded every 2 steps" in out
    check_png(tmp_path / "t-diagnostics.png", size=(1200, 880))
    # The diagnosis reads the CSV through the model's preprocessing; the loss is known.
    code, out, err = run_cli(
        ["diagnose", str(model), str(tmp_path / "t.csv"), "--no-figures"], capsys
    )
    assert code == 0, err
    assert out.startswith("Diagnosis over 120 rows, loss ")
    assert "gradient ratio" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data.npz"], "give --loss"),
        (["data.npz", "--loss", "nonsense"], "nonsense"),
        (["data.txt"], ".npz or .csv"),
        (["data.npz", "--loss", "ce", "--batch-size", "0"], "--batch-size"),
        (["data.npz", "--target", "y", "--loss", "ce"], "--target is for CSV"),
    ],
)
def test_bad_usage_exits_2_with_one_line(spiral_files, capsys, args, message):
    folder, _, _ = spiral_files
    code, _, err = run_cli(["diagnose", str(folder / "net.shj"), *map_paths(folder, args)], capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_unreadable_data_exits_1(spiral_files, capsys):
    folder, _, _ = spiral_files
    np.savez(folder / "nox.npz", inputs=np.zeros((3, 2)))
    code, _, err = run_cli(["diagnose", str(folder / "net.shj"), str(folder / "nox.npz")], capsys)
    assert code == 1 and "no array 'x'" in err
    code, _, err = run_cli(["diagnose", str(folder / "nope.shj"), str(folder / "nox.npz")], capsys)
    assert code == 1 and err.startswith("shenjing diagnose: error:")


def map_paths(folder, args):
    return [str(folder / a) if a.startswith("data.") else a for a in args]


def test_subprocess_smoke(spiral_files):
    folder, _, _ = spiral_files
    done = subprocess.run(
        [sys.executable, "-m", "shenjing", "diagnose", str(folder / "net.shj"),
         str(folder / "data.npz"), "--loss", "ce", "--no-figures"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "No findings" in done.stdout


def test_an_unknown_class_names_the_file_and_line(tmp_path, capsys):
    from shenjing.cli import main

    rows = ["a,b,label"] + [f"{i % 7},{(3 * i) % 5},{'yes' if i % 2 else 'no'}" for i in range(40)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    model = str(tmp_path / "m.shj")
    assert main(["train", str(tmp_path / "t.csv"), "--target", "label", "--epochs", "1",
                 "--out", model, "--quiet"]) == 0  # fmt: skip
    rows[4] = "1,2,maybe"
    (tmp_path / "bad.csv").write_text("\n".join(rows) + "\n")
    capsys.readouterr()
    assert main(["diagnose", model, str(tmp_path / "bad.csv")]) == 1
    err = capsys.readouterr().err
    assert "bad.csv: target 'label' has 'maybe' on line 5" in err

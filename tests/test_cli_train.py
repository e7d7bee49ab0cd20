"""shenjing train / predict / info: end to end, and every bad input as one line with no file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj
from shenjing.cli import main

pd = pytest.importorskip("pandas")
from shenjing.data.csvdata import read_csv  # noqa: E402
from shenjing.tabular import TabularModel  # noqa: E402

CUSTOMERS = Path(__file__).parent / "data" / "customers.csv"
FAST = ["--hidden", "16", "--epochs", "10", "--batch-size", "16", "--lr", "0.01", "--quiet"]


def train(tmp_path, capsys, text: str | bytes | None, *options: str, target: str = "y"):
    """Run ``shenjing train`` on ``text`` (or the customers table); (code, out, err, files)."""
    data = tmp_path / "data.csv"
    if text is None:
        data.write_bytes(CUSTOMERS.read_bytes())
    elif isinstance(text, bytes):
        data.write_bytes(text)
    else:
        data.write_text(text, encoding="utf-8")
    model = tmp_path / "model.shj"
    code = main(["train", str(data), "--target", target, "--out", str(model), *FAST, *options])
    out, err = capsys.readouterr()
    files = sorted(p.name for p in tmp_path.iterdir() if p.name != "data.csv")
    return code, out, err, files


def table(rows: int = 12, **overrides: list[str]) -> str:
    columns = {
        "x": [str(i) for i in range(rows)],
        "c": ["a", "b", "c"] * (rows // 3),
        "y": ["no", "yes"] * (rows // 2),
    }
    columns.update(overrides)
    lines = [",".join(columns)]
    lines += [",".join(values) for values in zip(*columns.values(), strict=True)]
    return "\n".join(lines) + "\n"


def test_train_predict_info_end_to_end(tmp_path, capsys):
    code, out, err, files = train(tmp_path, capsys, None, "--missing", "mean", target="churned")
    assert code == 0, err
    assert files == ["model.shj"]
    assert "task: classify (inferred: target 'churned' holds text)" in out
    assert "rows: 90 (72 training, 18 validation)" in out
    assert "validation accuracy: " in out and "macro-F1: " in out
    assert "  no " in out and "  yes " in out  # class counts
    model = TabularModel.load(tmp_path / "model.shj")

    # predict reproduces the in-memory predictions, to the last bit (repr floats).
    assert main(["predict", str(tmp_path / "model.shj"), str(CUSTOMERS)]) == 0
    out, err = capsys.readouterr()
    printed = pd.read_csv(io.StringIO(out), dtype={"churned": str})
    frame = read_csv(CUSTOMERS)
    assert list(printed.columns) == ["churned", "p_no", "p_yes"]
    np.testing.assert_array_equal(printed["churned"], model.predict(frame))
    np.testing.assert_array_equal(printed[["p_no", "p_yes"]], model.predict_proba(frame))

    written = tmp_path / "pred.csv"
    code = main(["predict", str(tmp_path / "model.shj"), str(CUSTOMERS), "--out", str(written)])
    assert code == 0
    assert written.read_text() == out
    assert "wrote 90 predictions" in capsys.readouterr().err

    assert main(["info", str(tmp_path / "model.shj")]) == 0
    out = capsys.readouterr().out
    assert "format: shenjing-model version 1" in out
    assert "task: classify" in out and "classes: no, yes" in out
    assert "plan: categorical, one-hot [basic, plus, premium]" in out
    assert f"accuracy {model.metrics['accuracy']:.4f}" in out
    assert "Total parameters" in out


def test_regression_end_to_end(tmp_path, capsys):
    rows = 40
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows)
    text = table(
        rows=rows, x=[f"{v:.4f}" for v in x], c=["a", "b"] * 20, y=[f"{3 * v + 1:.4f}" for v in x]
    )
    code, out, err, _files = train(tmp_path, capsys, text, "--epochs", "30", "--activation", "tanh")
    assert code == 0, err
    assert "task: regress (inferred: target 'y' holds numbers with fractions" in out
    assert "validation RMSE: " in out and "R²: " in out
    assert main(["predict", str(tmp_path / "model.shj"), str(tmp_path / "data.csv")]) == 0
    printed = pd.read_csv(io.StringIO(capsys.readouterr().out))
    model = TabularModel.load(tmp_path / "model.shj")
    np.testing.assert_array_equal(printed["y"], model.predict(read_csv(tmp_path / "data.csv")))


def test_constant_column_warns_and_still_trains(tmp_path, capsys):
    code, _out, err, files = train(tmp_path, capsys, table(k=["1"] * 12))
    assert code == 0
    assert "shenjing train: warning: " in err and "column 'k' holds one value (1)" in err
    assert files == ["model.shj"]


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("", [], "data.csv: the file is empty"),
        ("x,c,y\n", [], "data.csv: the file has a header ('x', 'c', 'y') but no data rows"),
        (
            table(),
            ["--target", "Y"],
            "no column 'Y' to predict; the columns are 'x', 'c', 'y'. Did you mean 'y'?",
        ),
        ("x,y,x\n1,a,2\n2,b,3\n", [], "the header names column 'x' 2 times (columns 1, 3)"),
        (
            table().replace("\n3,", "\n3,9,", 1),
            [],
            "data.csv: line 5 has 4 fields, but the header has 3",
        ),
        (table().replace("4,b,no", "4,b", 1), [], "data.csv: line 6 has 2 fields"),
        (
            table().encode().replace(b"c,yes", b"\xe7,yes", 1),
            [],
            "not utf-8 text: byte 0xe7 on line 7",
        ),
        (table().replace(",", ";"), [], "single column named 'x;c;y'"),
        (table(e=[""] * 12), ["--missing", "mean"], "column 'e' is empty: every value is missing"),
        (table().replace("5,c", "5,", 1), [], "column 'c' has 1 missing value (on line 7); fill"),
        (
            table().replace("2,c,no", "2,c,", 1),
            [],
            "target 'y' is missing on line 4 (1 row in all)",
        ),
        (table(y=["n"] * 12), [], "target 'y' has one class only ('n' in all 12 rows)"),
        (
            table(y=[f"{i}.5" for i in range(12)]),
            ["--task", "classify"],
            "--task classify, but target 'y' holds continuous values ('0.5' on line 2); "
            "use --task regress",
        ),
        (
            table(y=["a", "b"] * 6),
            ["--task", "regress"],
            "--task regress, but target 'y' holds text",
        ),
        (table(rows=3, y=["a", "b", "a"]), ["--validation", "0.1"], "3 rows are too few"),
        (table(rows=3, y=["a", "b", "a"]), ["--validation", "0.1"], "or use --validation 0"),
        (
            table().replace("6,a", "inf,a", 1),
            [],
            "column 'x' holds an infinite value ('inf') on line 8",
        ),
        (table().replace("6,a", "nan,a", 1), [], "column 'x' has 1 missing value (on line 8)"),
        (table(), ["--numeric", "c"], "column 'c' is numeric but holds 'a' on line 2"),
        (table(), ["--categorical", "z"], "no feature column 'z' (given in --numeric or"),
    ],
)
def test_bad_data_is_one_line_exit_1_and_no_file(tmp_path, capsys, text, options, message):
    code, _out, err, files = train(tmp_path, capsys, text, *options)
    assert code == 1
    assert files == []
    assert err.count("\n") == 1 and err.startswith("shenjing train: error: ")
    assert message in err
    if "data.csv" not in message and "--" not in message:
        assert "data.csv: " in err  # every data message names the file


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--hidden", "64,x"], "--hidden must be positive widths"),
        (["--hidden", "-3"], "--hidden must be positive widths"),
        (["--lr", "-1"], "--lr must be a positive number"),
        (["--epochs", "0"], "--epochs must be a positive integer"),
        (["--batch-size", "0"], "--batch-size must be a positive integer"),
        (["--validation", "1.5"], "--validation must be a fraction in [0, 1)"),
        (["--sep", ";;"], "--sep must be one character"),
        (["--activation", "swish"], "--activation 'swish' is unknown"),
        (["--optimizer", "lbfgs"], "--optimizer 'lbfgs' is unknown"),
        (["--loss", "hinge"], "--loss 'hinge' is unknown"),
        (["--loss", "huber"], "a classifier is trained with softmax_cross_entropy, not 'huber'"),
        (["--encoding", "klingon"], "unknown encoding 'klingon'"),
        (["--numeric", "x", "--categorical", "x"], "x: given in both --numeric and --categorical"),
        (["--task", "cluster"], "invalid choice: 'cluster'"),
        (["--missing", "drop"], "invalid choice: 'drop'"),
        (["--class-weight", "auto"], "invalid choice: 'auto'"),
        (["--out", "no/such/folder/m.shj"], "the folder"),
        (["--out", "."], "is a folder; give a file name"),
        (["--seed", "-1"], "--seed must be a non-negative integer"),
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, options, message):
    try:
        code, _out, err, files = train(tmp_path, capsys, table(), *options)
    except SystemExit as exc:  # argparse's own usage errors
        code, (_out, err) = exc.code, capsys.readouterr()
        files = sorted(p.name for p in tmp_path.iterdir() if p.name != "data.csv")
    assert code == 2
    assert message in err
    assert files == []


def test_class_weight_on_a_regression_exits_2(tmp_path, capsys):
    text = table(y=[f"{i}.5" for i in range(12)])
    code, _out, err, files = train(tmp_path, capsys, text, "--class-weight", "balanced")
    assert code == 2 and files == []
    assert "class_weight applies to classification, and this is a regression (inferred:" in err


def test_balanced_class_weight_option(tmp_path, capsys):
    code, _out, err, _files = train(
        tmp_path, capsys, None, "--missing", "mean", "--class-weight", "balanced", target="churned"
    )
    assert code == 0, err
    model = TabularModel.load(tmp_path / "model.shj")
    assert set(model.training["class_weights"]) == {"no", "yes"}


@pytest.fixture
def trained(tmp_path, capsys):
    code, *_ = train(tmp_path, capsys, table(rows=12))
    assert code == 0
    return tmp_path / "model.shj"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,c\n1,a\n2,purple\n", "new.csv: column 'c' has the category 'purple' on line 3, which"),
        ("x\n1\n", "new.csv: missing column(s) 'c' that the model was trained on"),
        ("x,c,z\n1,a,0\n", "new.csv: unexpected column(s) 'z'"),
        ("x,c\ninf,a\n", "new.csv: column 'x' holds an infinite value ('inf') on line 2"),
        ("x,c\n,a\n", "new.csv: column 'x' has 1 missing value (on line 2)"),
        ("x;c\n1;a\n", "single column named 'x;c'"),
    ],
)
def test_predict_bad_data(trained, tmp_path, capsys, text, message):
    new = tmp_path / "new.csv"
    new.write_text(text)
    out_file = tmp_path / "pred.csv"
    code = main(["predict", str(trained), str(new), "--out", str(out_file)])
    _out, err = capsys.readouterr()
    assert code == 1
    assert message in err and err.count("\n") == 1
    assert not out_file.exists()


def test_predict_ignores_the_target_column_and_reads_other_separators(trained, tmp_path, capsys):
    new = tmp_path / "new.tsv"
    new.write_text("c\tx\ty\nb\t3\tno\n")
    assert main(["predict", str(trained), str(new), "--sep", "\\t"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "y,p_no,p_yes" and len(lines) == 2


def test_predict_and_info_refuse_broken_files(tmp_path, capsys):
    bad = tmp_path / "bad.shj"
    bad.write_bytes(b"not a zip")
    for command in (["predict", str(bad), str(CUSTOMERS)], ["info", str(bad)]):
        assert main(command) == 1
        assert "bad.shj: not a model file" in capsys.readouterr().err
    plain = tmp_path / "net.shj"
    sj.save(sj.Sequential(sj.Linear(2, 3, seed=0), sj.ReLU()), plain, metadata={"note": "hi"})
    assert main(["predict", str(plain), str(CUSTOMERS)]) == 1
    assert "a plain network, not a model trained from a table" in capsys.readouterr().err
    assert main(["info", str(plain)]) == 0
    out = capsys.readouterr().out
    assert "kind: a network (saved with sj.save; no preprocessing)" in out
    assert 'metadata: {"note": "hi"}' in out and "Linear(2 -> 3)" in out


def test_existing_model_is_kept_when_training_fails(tmp_path, capsys):
    model = tmp_path / "model.shj"
    model.write_bytes(b"old")
    code, *_ = train(tmp_path, capsys, table(y=["n"] * 12), "--force")
    assert code == 1
    assert model.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["data.csv", "model.shj"]  # no temporary file


def test_command_line_smoke(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text(table(rows=30))
    run = [sys.executable, "-m", "shenjing", "train", str(data), "--target", "y"]
    done = subprocess.run(
        [*run, "--epochs", "2", "--out", str(tmp_path / "m.shj")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "saved " in done.stdout
    done = subprocess.run([*run, "--target", "nope"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "no column 'nope'" in done.stderr


@pytest.mark.parametrize("quiet", [False, True])
def test_progress_bar_only_on_a_terminal_and_not_quiet(tmp_path, capsys, monkeypatch, quiet):
    pytest.importorskip("tqdm")
    data = tmp_path / "data.csv"
    data.write_text(table())
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    argv = ["train", str(data), "--target", "y", "--epochs", "3", "--out", str(tmp_path / "m")]
    assert main(argv + ["--quiet"] * quiet) == 0
    err = capsys.readouterr().err
    # One bar per epoch (the last one full), as the epochs go.
    assert ("epoch 3/3 100%" in err) is not quiet
    assert (tmp_path / "m").is_file()

"""What shenjing writes is safe to open and never replaces what it reads.

* ``predict`` escapes text cells a spreadsheet would run as formulas (OWASP);
* ``train`` and ``predict`` refuse to write over one of their inputs, and over any
  existing file without ``--force``;
* a target named like a probability column (``p_yes``) is not overwritten by it;
* a model with NaN weights is never used to predict, and never saved by ``train``;
* a save killed mid-write leaves a temporary file that the next save removes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import shenjing as sj
from _helpers import run_cli
from shenjing.base.files import remove_leftovers

pd = pytest.importorskip("pandas")
from shenjing.cli.predict import safe_cell  # noqa: E402

FAST = ["--hidden", "4", "--epochs", "2", "--batch-size", "8", "--quiet"]


def write_table(path, target="y", labels=("no", "yes"), rows=12):
    lines = [f"x,{target}"] + [f"{i},{labels[i % len(labels)]}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def trained(tmp_path, capsys, **table):
    data = write_table(tmp_path / "data.csv", **table)
    model = tmp_path / "m.shj"
    target = table.get("target", "y")
    code, _, err = run_cli(
        ["train", str(data), "--target", target, "--out", str(model), *FAST], capsys
    )
    assert code == 0, err
    return data, model


# -- formulas ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\t1", "'\t1"),
        ("-2.5", "-2.5"),  # a number stays a number
        ("+3", "+3"),
        ("yes", "yes"),
        ("a=b", "a=b"),
    ],
)
def test_safe_cell(text, written):
    assert safe_cell(text) == written


def test_predict_escapes_formula_labels_and_column_names(tmp_path, capsys):
    data, model = trained(tmp_path, capsys, target="=t", labels=("=HYPERLINK(1)", "@x"))
    code, out, err = run_cli(["predict", str(model), str(data), "--quiet"], capsys)
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split(",")[0] == "'=t"
    assert "'p_=HYPERLINK(1)" not in header  # starts with p, safe as it is
    assert {row.split(",")[0] for row in rows} <= {"'=HYPERLINK(1)", "'@x"}
    for line in out.splitlines():
        for cell in line.split(","):
            assert not cell.startswith(("=", "+", "@")), cell


# -- overwriting ------------------------------------------------------------------------
def test_train_refuses_to_write_over_its_data(tmp_path, capsys):
    data = write_table(tmp_path / "data.csv")
    before = data.read_bytes()
    for out in (str(data), str(tmp_path / "." / "data.csv")):
        code, _, err = run_cli(
            ["train", str(data), "--target", "y", "--out", out, "--force", *FAST], capsys
        )
        assert code == 2
        assert "is also an input" in err
        assert data.read_bytes() == before


def test_predict_refuses_to_write_over_its_inputs(tmp_path, capsys):
    data, model = trained(tmp_path, capsys)
    saved, table = model.read_bytes(), data.read_bytes()
    for out in (model, data):
        code, _, err = run_cli(
            ["predict", str(model), str(data), "--out", str(out), "--force"], capsys
        )
        assert code == 2 and "is also an input" in err
    assert model.read_bytes() == saved and data.read_bytes() == table


def test_an_existing_output_is_replaced_only_with_force(tmp_path, capsys):
    data, model = trained(tmp_path, capsys)
    other = tmp_path / "old.csv"
    other.write_text("keep me")
    code, _, err = run_cli(["predict", str(model), str(data), "--out", str(other)], capsys)
    assert code == 2 and "--force" in err
    assert other.read_text() == "keep me"
    code, _, err = run_cli(
        ["predict", str(model), str(data), "--out", str(other), "--force", "--quiet"], capsys
    )
    assert code == 0, err
    assert other.read_text().startswith("y,p_no,p_yes")
    # train: the same rule for its model file.
    code, _, err = run_cli(
        ["train", str(data), "--target", "y", "--out", str(model), *FAST], capsys
    )
    assert code == 2 and "--force" in err
    code, _, err = run_cli(
        ["train", str(data), "--target", "y", "--out", str(model), "--force", *FAST], capsys
    )
    assert code == 0, err


# -- column names -----------------------------------------------------------------------
def test_a_target_named_like_a_probability_column_is_renamed(tmp_path, capsys):
    data, model = trained(tmp_path, capsys, target="p_yes", labels=("no", "yes"))
    code, out, err = run_cli(["predict", str(model), str(data)], capsys)
    assert code == 0, err
    header = out.splitlines()[0].split(",")
    assert header == ["p_yes_predicted", "p_no", "p_yes"]
    assert "p_yes_predicted" in err  # said so
    table = pd.read_csv(__import__("io").StringIO(out))
    assert set(table["p_yes_predicted"]) <= {"no", "yes"}
    assert np.allclose(table["p_no"] + table["p_yes"], 1)


# -- non-finite weights -----------------------------------------------------------------
def test_nan_weights_are_never_used_to_predict(tmp_path, capsys):
    data, model = trained(tmp_path, capsys)
    tabular = sj.TabularModel.load(model)
    tabular.net.layers[0].params["W"][0, 0] = np.nan
    with pytest.raises(sj.DataError, match="NaN or inf"):
        tabular.save(tmp_path / "nan.shj")
    assert not (tmp_path / "nan.shj").exists()
    with pytest.raises(sj.DataError, match="NaN or inf"):
        tabular.predict(pd.DataFrame({"x": ["1", "2"]}))
    # A file holding NaN weights (sj.save keeps every bit): refused where predictions
    # are made, flagged by info.
    sj.save(tabular.net, tmp_path / "nan.shj", metadata=tabular.metadata())
    code, out, err = run_cli(["predict", str(tmp_path / "nan.shj"), str(data)], capsys)
    assert code == 1 and out == ""
    assert "NaN or inf" in err and len(err.splitlines()) == 1
    with pytest.raises(sj.ModelFileError, match="NaN or inf"):
        sj.TabularModel.load(tmp_path / "nan.shj")
    plain = tmp_path / "plain.shj"
    sj.save(tabular.net, plain, metadata={})
    for path in (plain, tmp_path / "nan.shj"):
        code, out, _ = run_cli(["info", str(path)], capsys)
        assert code == 0 and "warning: layers[0].params.W hold NaN or inf" in out


# -- temporary files --------------------------------------------------------------------
def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_the_next_save_removes_a_killed_saves_temporary_file(tmp_path):
    target = tmp_path / "m.shj"
    dead = tmp_path / f".m.shj.{_dead_pid()}-abcd1234.tmp"
    old_style = tmp_path / ".m.shj.k2j4h5g6.tmp"
    live = tmp_path / f".m.shj.{os.getppid()}-abcd1234.tmp"  # a running process's
    unrelated = tmp_path / ".m.shj.notes.tmp"
    for path in (dead, old_style, live, unrelated):
        path.write_bytes(b"partial")
    sj.save(sj.Sequential(sj.Linear(2, 2, seed=0)), target)
    assert not dead.exists() and not old_style.exists()
    assert live.exists() and unrelated.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, live.name, unrelated.name]
    )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_save_killed_mid_write_is_cleaned_up_by_the_next(tmp_path):
    script = (
        "import sys, numpy as np, shenjing as sj\n"
        "net = sj.Sequential(sj.Linear(2000, 2000, seed=0))\n"
        "import shenjing.base.files as files\n"
        "real = files.os.fsync\n"
        "def stop(fd):\n"
        "    print('writing', flush=True); import time; time.sleep(60)\n"
        "files.os.fsync = stop\n"
        f"sj.save(net, {str(tmp_path / 'm.shj')!r})\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout.readline() == "writing\n"  # inside the write, before the rename
        child.kill()
        child.wait()
    left = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 1 and left[0].stat().st_size > 1_000_000
    sj.save(sj.Sequential(sj.Linear(2, 2, seed=0)), tmp_path / "m.shj")
    assert [p.name for p in tmp_path.iterdir()] == ["m.shj"]


def test_a_failed_save_leaves_nothing(tmp_path, monkeypatch):
    import shenjing.base.files as files

    def broken(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", broken)
    with pytest.raises(OSError, match="No space"):
        sj.save(sj.Sequential(sj.Linear(2, 2, seed=0)), tmp_path / "m.shj")
    assert list(tmp_path.iterdir()) == []


def test_remove_leftovers_spares_this_process(tmp_path):
    mine = tmp_path / f".m.shj.{os.getpid()}-abcd1234.tmp"
    mine.write_bytes(b"in use by another thread")
    assert remove_leftovers(str(tmp_path / "m.shj")) == []
    assert mine.exists()
    time.sleep(0)  # nothing else to wait for: the check is by process id

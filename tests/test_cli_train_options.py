"""shenjing train's --early-stopping, --drop-missing-target, the plan printed before training
and the per-epoch bar; shenjing predict --unknown ignore."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from shenjing.cli import main

pd = pytest.importorskip("pandas")
from shenjing.cli._epochs import EpochBars  # noqa: E402
from shenjing.data.csvdata import read_csv  # noqa: E402
from shenjing.data.preprocess import UnknownCategoryWarning  # noqa: E402
from shenjing.tabular import TabularModel, steps  # noqa: E402

CUSTOMERS = Path(__file__).parent / "data" / "customers.csv"
FAST = ["--hidden", "16", "--batch-size", "16", "--lr", "0.01", "--missing", "mean"]


def _train(tmp_path, capsys, *options, text=None, target="churned"):
    data = tmp_path / "data.csv"
    data.write_text(text) if text is not None else data.write_bytes(CUSTOMERS.read_bytes())
    model = tmp_path / "model.shj"
    argv = ["train", str(data), "--target", target, "--out", str(model), *FAST, *options]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err, model


def test_the_task_and_columns_are_printed_before_training(tmp_path, capsys, monkeypatch):
    real = steps.train

    def train(*args, **kwargs):
        print("<training starts>")
        return real(*args, **kwargs)

    monkeypatch.setattr(steps, "train", train)
    code, out, err, _ = _train(tmp_path, capsys, "--epochs", "2")
    assert code == 0, err
    start = out.index("<training starts>")
    for line in ("task: classify (inferred", "rows: ", "columns:", "network: Sequential"):
        assert out.index(line) < start, line
    # The columns with what was learnt of each, and the results after training.
    assert re.search(r"^  \w+: (numeric, standardised|categorical, one-hot)", out, re.M)
    assert out.index("trained: 2 epochs") > start and out.index("saved ") > start


def test_early_stopping_stops_and_keeps_the_best_epoch(tmp_path, capsys):
    code, out, err, model = _train(tmp_path, capsys, "--epochs", "400", "--early-stopping", "3")
    assert code == 0, err
    t = TabularModel.load(model).training
    assert t["stopped_early"] and t["epochs_run"] < 400
    assert t["best_epoch"] == t["epochs_run"] - 3  # three epochs without improvement
    assert f"kept the weights of epoch {t['best_epoch']}" in out


def test_early_stopping_restores_the_best_validation_loss():
    frame = read_csv(str(CUSTOMERS))
    options = dict(hidden=(16,), lr=0.05, batch_size=16, missing="mean", seed=0)
    stopped = TabularModel.fit(frame, "churned", epochs=400, early_stopping=2, **options)
    best = stopped.training["best_epoch"]
    # The same run cut at the best epoch has the same weights.
    cut = TabularModel.fit(frame, "churned", epochs=best, **options)
    for p, q in zip(stopped.net.parameters(), cut.net.parameters(), strict=True):
        assert np.array_equal(p.value, q.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--early-stopping", "0"], "--early-stopping must be a positive number"),
        (["--early-stopping", "--validation", "0"], "--early-stopping watches the validation"),
    ],
)
def test_bad_early_stopping_exits_2(tmp_path, capsys, options, message):
    code, _, err, model = _train(tmp_path, capsys, *options)
    assert code == 2 and message in err and not model.exists()


def _with_missing_target() -> str:
    lines = CUSTOMERS.read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("churned")
    for i in (3, 8):
        cells = lines[i].split(",")
        cells[col] = ""
        lines[i] = ",".join(cells)
    return "\n".join(lines) + "\n"


def test_drop_missing_target(tmp_path, capsys):
    text = _with_missing_target()
    code, _, err, model = _train(tmp_path, capsys, "--epochs", "2", text=text)
    assert code == 1 and "is missing on line 4 (2 rows in all)" in err
    assert "--drop-missing-target" in err and not model.exists()
    code, out, err, model = _train(
        tmp_path, capsys, "--epochs", "2", "--drop-missing-target", text=text
    )
    assert code == 0, err
    assert "dropped 2 rows whose target is missing" in out
    rows = len(CUSTOMERS.read_text().splitlines()) - 1
    t = TabularModel.load(model).training
    assert t["rows"] == rows - 2 and t["dropped_rows"] == 2


def _bar_lines(text: str) -> list[str]:
    return [part for part in re.split(r"[\r\n]", text) if part.strip()]


@pytest.mark.parametrize(("columns", "widest"), [("80", 80), ("200", 80), ("60", 60)])
def test_one_bar_per_epoch_fits_the_terminal(tmp_path, capsys, monkeypatch, columns, widest):
    pytest.importorskip("tqdm")
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err, _ = _train(tmp_path, capsys, "--epochs", "12")
    assert code == 0
    lines = _bar_lines(err)
    assert max(len(line) for line in lines) <= widest
    finals = [line for line in lines if " 100%|" in line]
    assert [line.split()[1] for line in finals] == [f"{e}/12" for e in range(1, 13)]
    assert all(re.search(r"loss \d\S* val_loss \d", line) for line in finals)


def test_epoch_bar_with_long_numbers_still_fits():
    pytest.importorskip("tqdm")

    from types import SimpleNamespace

    logs = {"loss": 1.23456789e-5, "val_loss": 9.87654321e10, "val_accuracy": 1}
    state = SimpleNamespace(epoch=998, logs=logs)
    model = SimpleNamespace(training={"train_rows": 123_457, "epochs": 1000})

    file = io.StringIO()
    bars = EpochBars(1, file=file, columns=80)
    bars.plan(model)
    bars.on_epoch_begin(state)
    bars.on_step_end(state)
    bars.on_epoch_end(state)
    assert max(len(line) for line in _bar_lines(file.getvalue())) <= 80


def _predict_files(tmp_path, capsys):
    code, _, err, model = _train(tmp_path, capsys, "--epochs", "2")
    assert code == 0, err
    frame = pd.read_csv(CUSTOMERS, dtype=str)
    cat = next(c for c in frame.columns if c != "churned" and not _numeric(frame[c]))
    frame.loc[[1, 4], cat] = "never-seen"
    new = tmp_path / "new.csv"
    frame.to_csv(new, index=False)
    return model, new, cat


def _numeric(series) -> bool:
    return pd.to_numeric(series.dropna(), errors="coerce").notna().all()


def test_predict_unknown_ignore_encodes_zeros_with_a_warning(tmp_path, capsys):
    model, new, cat = _predict_files(tmp_path, capsys)
    code = main(["predict", str(model), str(new)])
    _, err = capsys.readouterr()
    assert code == 1 and "'never-seen' on line 3" in err and "--unknown ignore" in err
    code = main(["predict", str(model), str(new), "--unknown", "ignore"])
    out, err = capsys.readouterr()
    assert code == 0
    assert f"warning: {new}: column {cat!r}: 2 rows with a category unseen" in err
    assert len(out.strip().splitlines()) == len(pd.read_csv(new)) + 1
    # Those rows' one-hot block is all zeros; every other row is as before.
    loaded = TabularModel.load(model)
    frame = read_csv(str(new))
    with pytest.warns(UnknownCategoryWarning, match="2 rows"):
        x = loaded.transform(frame, "new", unknown="ignore")
    names = loaded.preprocessor.feature_names
    block = [i for i, n in enumerate(names) if n.startswith(f"{cat}=")]
    assert not x[np.ix_([1, 4], block)].any()
    assert (x[:, block].sum(axis=1) == 1).sum() == len(frame) - 2
    original = loaded.transform(read_csv(str(CUSTOMERS)))
    keep = [i for i in range(len(frame)) if i not in (1, 4)]
    assert np.array_equal(x[keep], original[keep])

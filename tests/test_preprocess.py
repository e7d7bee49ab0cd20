"""Preprocessor: kinds, training-row statistics, one-hot order, missing cells, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

import shenjing as sj

pd = pytest.importorskip("pandas")
from shenjing.data.preprocess import Preprocessor  # noqa: E402


def frame(**columns):
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index(range(2, n + 2), name="line"))


def test_kinds_are_inferred_and_overridable():
    f = frame(x=["1", "2.5", "-3e2"], zip=["75001", "69002", "75001"], c=["a", "b", "a"])
    pre = Preprocessor().fit(f)
    assert [c["kind"] for c in pre.columns] == ["numeric", "numeric", "categorical"]
    pre = Preprocessor(categorical=["zip"]).fit(f)
    assert [c["kind"] for c in pre.columns] == ["numeric", "categorical", "categorical"]
    assert pre.feature_names == ["x", "zip=69002", "zip=75001", "c=a", "c=b"]


def test_standardises_with_training_rows_only():
    f = frame(x=["0", "2", "4", "100"])
    pre = Preprocessor().fit(f, train_rows=[0, 1, 2])
    assert pre.columns[0]["mean"] == 2.0
    assert pre.columns[0]["std"] == pytest.approx(np.std([0, 2, 4]))
    out = pre.transform(f)
    np.testing.assert_allclose(out[:, 0], (np.array([0, 2, 4, 100]) - 2) / np.std([0, 2, 4]))


def test_categories_come_from_every_row_and_are_sorted():
    f = frame(c=["red", "blue", "green", "blue"])
    pre = Preprocessor().fit(f, train_rows=[0, 1])  # "green" only in a validation row
    assert pre.columns[0]["categories"] == ["blue", "green", "red"]
    np.testing.assert_array_equal(pre.transform(f), [[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])


def test_missing_error_names_column_and_line():
    f = frame(x=["1", None, "3", None], y=["a", "b", "c", "d"])
    with pytest.raises(
        sj.DataError,
        match=r"src\.csv: column 'x' has 2 missing values "
        r"\(the first on line 3\).*--missing mean",
    ):
        Preprocessor().fit(f, source="src.csv")


def test_missing_mean_and_most_frequent():
    f = frame(x=["1", None, "1", "4"], c=["a", "b", None, "b"])
    mean = Preprocessor(missing="mean").fit(f)
    assert mean.columns[0]["fill"] == 2.0
    assert mean.columns[1]["fill"] == "b"  # categories always take the most frequent
    out = mean.transform(f)
    assert out[1, 0] == pytest.approx((2.0 - 2.0) / mean.columns[0]["std"])
    np.testing.assert_array_equal(out[2, 1:], [0, 1])
    frequent = Preprocessor(missing="most_frequent").fit(f)
    assert frequent.columns[0]["fill"] == 1.0


def test_missing_at_transform_time_under_error_policy():
    pre = Preprocessor().fit(frame(x=["1", "2"]))
    with pytest.raises(
        sj.DataError, match=r"new\.csv: column 'x' has 1 missing value \(on line 3\)"
    ):
        pre.transform(frame(x=["1", None]), source="new.csv")


@pytest.mark.parametrize(
    ("cells", "match"),
    [
        ([None, None], r"d\.csv: column 'x' is empty: every value is missing"),
        (["1", "inf"], r"d\.csv: column 'x' holds an infinite value \('inf'\) on line 3"),
        (["-Infinity", "1"], r"column 'x' holds an infinite value \('-Infinity'\) on line 2"),
    ],
)
def test_unusable_columns(cells, match):
    with pytest.raises(sj.DataError, match=match):
        Preprocessor().fit(frame(x=cells, y=["a", "b"]), source="d.csv")


def test_numeric_override_on_text_names_the_line():
    with pytest.raises(sj.DataError, match=r"column 'c' is numeric but holds 'b' on line 3"):
        Preprocessor(numeric=["c"]).fit(frame(c=["1", "b"]), source="d.csv")


def test_unknown_override_column():
    with pytest.raises(sj.DataError, match=r"no feature column 'Age'.*Did you mean 'age'"):
        Preprocessor(numeric=["Age"]).fit(frame(age=["1", "2"]), source="d.csv")


def test_constant_column_is_a_warning_not_an_error():
    pre = Preprocessor().fit(frame(k=["3", "3", "3"], x=["1", "2", "3"]), source="d.csv")
    assert pre.warnings == [
        "d.csv: column 'k' holds one value (3) in every row, so it cannot help the predictions"
    ]
    assert pre.columns[0]["std"] == 1.0  # no division by zero
    np.testing.assert_array_equal(pre.transform(frame(k=["3"], x=["2"]))[:, 0], [0.0])


def test_transform_refuses_unseen_categories_and_wrong_columns():
    pre = Preprocessor().fit(frame(c=["a", "b"], x=["1", "2"]))
    with pytest.raises(
        sj.DataError,
        match=r"n\.csv: column 'c' has the category 'z' on line 3, "
        r"which the model never saw in training \(it knows 'a', 'b'\)",
    ):
        pre.transform(frame(c=["a", "z"], x=["1", "2"]), source="n.csv")
    with pytest.raises(sj.DataError, match=r"n\.csv: missing column\(s\) 'x'"):
        pre.transform(frame(c=["a"]), source="n.csv")
    with pytest.raises(sj.DataError, match=r"n\.csv: unexpected column\(s\) 'extra'"):
        pre.transform(frame(c=["a"], x=["1"], extra=["0"]), source="n.csv")


def test_transform_follows_training_column_order():
    pre = Preprocessor().fit(frame(c=["a", "b"], x=["1", "3"]))
    swapped = frame(x=["1", "3"], c=["a", "b"])
    np.testing.assert_array_equal(
        pre.transform(swapped), pre.transform(frame(c=["a", "b"], x=["1", "3"]))
    )


def test_json_round_trip():
    f = frame(x=["1", None, "7"], c=["a", "b", "a"])
    pre = Preprocessor(missing="mean").fit(f)
    data = json.loads(json.dumps(pre.to_dict(), allow_nan=False))
    back = Preprocessor.from_dict(data)
    np.testing.assert_array_equal(back.transform(f), pre.transform(f))
    assert back.feature_names == pre.feature_names


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d.update(missing="drop"), "missing must be one of"),
        (lambda d: d.update(columns="x"), '"columns" list'),
        (lambda d: d.update(columns=[]), "no columns"),
        (lambda d: d["columns"][0].update(std=0), "std must be positive"),
        (lambda d: d["columns"][0].update(mean=None), "mean must be a finite number"),
        (lambda d: d["columns"][0].update(kind="date"), "kind must be"),
        (lambda d: d["columns"][0].update(extra=1), "exactly the fields"),
        (lambda d: d["columns"][1].update(categories=["a", "a"]), "unique strings"),
        (lambda d: d["columns"][1].update(fill="z"), "fill must be one of its categories"),
        (lambda d: d["columns"][1].update(name="x"), "names column 'x' twice"),
        (lambda d: d["columns"].__setitem__(0, "x"), "string name"),
    ],
)
def test_from_dict_refuses_malformed_data(change, match):
    data = Preprocessor(missing="mean").fit(frame(x=["1", "2"], c=["a", "b"])).to_dict()
    change(data)
    with pytest.raises(sj.ModelFileError, match=match):
        Preprocessor.from_dict(data)


def test_bad_options():
    with pytest.raises(sj.ConfigError, match="numeric and categorical"):
        Preprocessor(numeric=["a"], categorical=["a"])
    with pytest.raises(sj.ConfigError, match="missing must be one of"):
        Preprocessor(missing="drop")
    with pytest.raises(sj.ConfigError, match="not been fit"):
        Preprocessor().transform(frame(x=["1"]))


def test_a_frame_not_from_a_file_names_rows_not_lines():
    plain = pd.DataFrame({"x": ["1", None, "3"]})  # a RangeIndex, not file lines
    with pytest.raises(sj.DataError, match=r"column 'x' has 1 missing value \(on row 1\)"):
        Preprocessor().fit(plain)

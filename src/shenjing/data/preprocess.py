"""Turning a table's raw columns into the numbers a network reads, the same way every time.

:class:`Preprocessor` learns, from the training rows only, what each feature column needs:

* a **numeric** column (every value parses as a finite number) is standardised,
  ``(x - mean) / std``, with the training rows' mean and standard deviation;
* a **categorical** column (anything else, or named in ``categorical``) is one-hot
  encoded: one 0/1 input per category, in sorted order;
* **missing** cells are an error (``missing="error"``), or are filled: ``"mean"``
  fills a numeric column with its mean and ``"most_frequent"`` with its most frequent
  value; a categorical column is always filled with its most frequent category.

What it learns is plain JSON (:meth:`Preprocessor.to_dict`), stored in the model file
beside the network and checked when read back (:meth:`Preprocessor.from_dict`).
Frames are those of :func:`shenjing.data.csvdata.read_csv`: text cells, indexed by line.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..base.checks import names as name_list
from ..base.errors import ConfigError, DataError, DTypeError, ModelFileError
from .columns import check_column
from .csvdata import check_categories, column_list, nearest, place, require_pandas

MISSING = ("error", "mean", "most_frequent")
#: What :meth:`Preprocessor.transform` does with a category unseen in training.
UNKNOWN = ("error", "ignore")


class UnknownCategoryWarning(UserWarning):
    """A category unseen in training was encoded as all zeros (``unknown="ignore"``)."""


class Preprocessor:
    """Standardise numeric columns, one-hot encode categorical ones, fill missing cells.

    Args:
        numeric: columns to treat as numbers whatever they look like (each value must
            still parse as a number).
        categorical: columns to treat as categories even if they hold numbers
            (a zip code, a rating).
        missing: ``"error"`` (default), ``"mean"`` or ``"most_frequent"``.

    Shape:
        transform: a frame of N rows → (N, F) float64, F = numeric columns plus one per
        category of each categorical column (``feature_names``).

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"size": ["1", "3"], "colour": ["red", "blue"]})
        >>> pre = Preprocessor().fit(frame)
        >>> pre.feature_names
        ['size', 'colour=blue', 'colour=red']
        >>> pre.transform(frame).tolist()
        [[-1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """

    def __init__(
        self,
        numeric: Iterable[str] = (),
        categorical: Iterable[str] = (),
        missing: str = "error",
    ) -> None:
        self.numeric = name_list(numeric, "numeric")
        self.categorical = name_list(categorical, "categorical")
        both = sorted(set(self.numeric) & set(self.categorical))
        if both:
            raise ConfigError(f"column(s) {column_list(both)} given as numeric and categorical")
        if missing not in MISSING:
            raise ConfigError(f"missing must be one of {', '.join(MISSING)}, got {missing!r}")
        self.missing = missing
        #: One dict per feature column, in the table's order (see :meth:`to_dict`).
        self.columns: list[dict[str, Any]] = []
        #: Things worth telling the user that are not errors (constant columns).
        self.warnings: list[str] = []

    # -- learning ---------------------------------------------------------------------
    def fit(self, frame: Any, train_rows: Any = None, source: str = "data") -> Preprocessor:
        """Learn each column's kind, statistics and categories.

        Args:
            frame: the feature columns (text cells, as :func:`read_csv` gives).
            train_rows: positions of the training rows, whose statistics (mean, std,
                fill values) are used; default all rows. Categories come from every
                row, so a category seen only in validation rows is still known.
            source: the file's name, for messages.

        Raises:
            DataError: an override names no column, a column is entirely missing, holds
                inf, is declared numeric but holds text, or has missing cells under
                ``missing="error"``.
        """
        if not hasattr(frame, "columns") or not hasattr(frame, "iloc"):
            raise DTypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
        if not isinstance(source, str):
            raise ConfigError(f"source must be a string (a file's name), got {source!r:.60}")
        names = list(frame.columns)
        for given in (*self.numeric, *self.categorical):
            if given not in names:
                raise DataError(
                    f"{source}: no feature column {given!r} (given in --numeric or "
                    f"--categorical); the feature columns are {column_list(names)}."
                    f"{nearest(given, names)}"
                )
        if not names:
            raise DataError(f"{source}: no feature columns besides the target")
        rows = np.arange(len(frame)) if train_rows is None else np.asarray(train_rows)
        self.columns, self.warnings = [], []
        for name in names:
            cells = frame[name]
            present = cells.notna()
            if not present.any():
                raise DataError(f"{source}: column {name!r} is empty: every value is missing")
            if not present.all() and self.missing == "error":
                raise _missing_error(source, name, cells)
            kind = self._kind(name, cells)
            if kind == "numeric":
                values = _numbers(cells, name, source)
                column = _fit_numeric(name, values[rows], self.missing)
                distinct = np.unique(values[~np.isnan(values)])
            else:
                check_categories(cells, name, source)
                column = _fit_categorical(name, cells, cells.iloc[rows], self.missing)
                distinct = column["categories"]
            if len(distinct) == 1:
                self.warnings.append(
                    f"{source}: column {name!r} holds one value ({_show(distinct[0])}) in "
                    "every row, so it cannot help the predictions"
                )
            self.columns.append(column)
        return self

    def _kind(self, name: str, cells: Any) -> str:
        if name in self.numeric:
            return "numeric"
        if name in self.categorical:
            return "categorical"
        pd = require_pandas()
        present = cells.dropna()
        parsed = pd.to_numeric(present, errors="coerce")
        return "numeric" if parsed.notna().all() else "categorical"

    # -- applying ---------------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        """The names of the F network inputs: ``column`` or ``column=category``."""
        self._require_fit()
        names = []
        for column in self.columns:
            if column["kind"] == "numeric":
                names.append(column["name"])
            else:
                names.extend(f"{column['name']}={c}" for c in column["categories"])
        return names

    @property
    def input_names(self) -> list[str]:
        """The raw columns :meth:`transform` expects, in the training table's order."""
        self._require_fit()
        return [column["name"] for column in self.columns]

    def transform(self, frame: Any, source: str = "data", unknown: str = "error") -> np.ndarray:
        """The network input for every row of ``frame``: (N, F) float64.

        ``unknown="ignore"`` encodes a category unseen in training as all zeros (as
        scikit-learn's ``handle_unknown="ignore"``), with an :class:`UnknownCategoryWarning`
        per column; ``"error"`` (default) refuses it.

        Raises:
            DataError: a column is missing or unexpected, a cell is missing under
                ``missing="error"``, a numeric cell is text or inf, or a category was
                not seen in training; each names the file, the column and the line.
        """
        self._require_fit()
        if unknown not in UNKNOWN:
            raise ConfigError(f"unknown must be 'error' or 'ignore', got {unknown!r}")
        expected, given = self.input_names, list(frame.columns)
        absent = [c for c in expected if c not in given]
        if absent:
            raise DataError(
                f"{source}: missing column(s) {column_list(absent)} that the model was trained on"
            )
        extra = [c for c in given if c not in expected]
        if extra:
            raise DataError(
                f"{source}: unexpected column(s) {column_list(extra)}; the model was trained "
                f"on {column_list(expected)}"
            )
        blocks = []
        for column in self.columns:
            name = column["name"]
            cells = frame[name]
            if column["fill"] is None and cells.isna().any():
                raise _missing_error(source, name, cells, trained=True)
            if column["kind"] == "numeric":
                values = _numbers(cells, name, source)
                values[np.isnan(values)] = column["fill"] if column["fill"] is not None else 0
                blocks.append(((values - column["mean"]) / column["std"])[:, None])
            else:
                blocks.append(_one_hot(cells, column, source, unknown))
        if not blocks or not len(frame):
            return np.zeros((len(frame), len(self.feature_names)))
        return np.hstack(blocks)

    # -- the model file -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """What was learnt, as JSON-ready data (no NaN or inf)::

            {"missing": "mean", "columns": [
                {"name": "age", "kind": "numeric", "mean": 41.2, "std": 12.5, "fill": 41.2},
                {"name": "city", "kind": "categorical", "categories": ["Lyon", "Oslo"],
                 "fill": "Oslo"}]}

        ``fill`` is ``null`` when ``missing="error"``.
        """
        self._require_fit()
        return {"missing": self.missing, "columns": [dict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Any) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_dict`'s output, checking it all.

        Raises:
            ModelFileError: anything malformed: a wrong type, a missing field, a
                non-finite or non-positive ``std``, duplicate names or categories.
        """
        if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
            raise ModelFileError('preprocessing must be an object with a "columns" list')
        if data.get("missing") not in MISSING:
            raise ModelFileError(f"preprocessing.missing must be one of {', '.join(MISSING)}")
        pre = cls(missing=data["missing"])
        names: set[str] = set()
        for i, column in enumerate(data["columns"]):
            pre.columns.append(check_column(column, f"preprocessing.columns[{i}]"))
            if column["name"] in names:
                raise ModelFileError(f"preprocessing names column {column['name']!r} twice")
            names.add(column["name"])
        if not pre.columns:
            raise ModelFileError("preprocessing has no columns")
        return pre

    def describe(self) -> list[str]:
        """One line per column: its kind and what was learnt."""
        lines = []
        for c in self.columns:
            fill = "" if c["fill"] is None else f", missing → {_show(c['fill'])}"
            if c["kind"] == "numeric":
                lines.append(
                    f"{c['name']}: numeric, standardised (mean {c['mean']:.6g}, "
                    f"std {c['std']:.6g}){fill}"
                )
            else:
                cats = ", ".join(c["categories"][:8])
                more = f", … ({len(c['categories'])} in all)" if len(c["categories"]) > 8 else ""
                lines.append(f"{c['name']}: categorical, one-hot [{cats}{more}]{fill}")
        return lines

    def _require_fit(self) -> None:
        if not self.columns:
            raise ConfigError("this Preprocessor has not been fit yet")

    def __repr__(self) -> str:
        kinds = [c["kind"] for c in self.columns]
        return (
            f"Preprocessor(missing={self.missing!r}, numeric={kinds.count('numeric')}, "
            f"categorical={kinds.count('categorical')})"
        )


# -- columns --------------------------------------------------------------------------
def _numbers(cells: Any, name: str, source: str) -> np.ndarray:
    """A column's cells as float64 (NaN where missing); text or inf is a DataError."""
    pd = require_pandas()
    present = cells.notna()
    values = pd.to_numeric(cells.where(present), errors="coerce").to_numpy(np.float64, copy=True)
    bad = present.to_numpy() & np.isnan(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            f"{source}: column {name!r} is numeric but holds {cells.iloc[i]!r} on {place(cells, i)}"
        )
    infinite = np.isinf(values)
    if infinite.any():
        i = int(np.argmax(infinite))
        raise DataError(
            f"{source}: column {name!r} holds an infinite value ({cells.iloc[i]!r}) on "
            f"{place(cells, i)}; only finite numbers can be used"
        )
    return values


def _fit_numeric(name: str, values: np.ndarray, missing: str) -> dict[str, Any]:
    seen = values[~np.isnan(values)]
    if not seen.size:
        raise DataError(f"column {name!r} has no values in the training rows")
    mean = float(seen.mean())
    std = float(seen.std())
    # A constant column (std 0) keeps scale 1: it maps to 0 and then plays no part.
    std = std if std > 0 and math.isfinite(std) else 1.0
    fill = None
    if missing == "mean":
        fill = mean
    elif missing == "most_frequent":
        uniques, counts = np.unique(seen, return_counts=True)
        fill = float(uniques[np.argmax(counts)])  # ties: the smallest value
    return {"name": name, "kind": "numeric", "mean": mean, "std": std, "fill": fill}


def _fit_categorical(name: str, every: Any, train: Any, missing: str) -> dict[str, Any]:
    categories = sorted(str(v) for v in every.dropna().unique())
    counts = train.dropna().astype(str).value_counts()
    # The most frequent training category; ties go to the first in sorted order.
    if missing == "error":
        fill = None
    elif len(counts):
        fill = min(counts.index, key=lambda v: (-counts[v], v))
    else:
        fill = categories[0]
    return {"name": name, "kind": "categorical", "categories": categories, "fill": fill}


def _one_hot(cells: Any, column: dict[str, Any], source: str, unknown: str) -> np.ndarray:
    pd = require_pandas()
    texts = cells.astype(object).where(cells.notna(), column["fill"])
    # Categories are kept as text (as a CSV gives them); a frame built in Python may
    # hold numbers, which must match their text.
    texts = texts.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    codes = pd.Index(column["categories"]).get_indexer(texts)  # -1 where unseen
    unseen = codes < 0
    if unseen.any():
        row, count = int(np.argmax(unseen)), int(unseen.sum())
        what = f"the category {texts.iloc[row]!r} on {place(cells, row)}"
        if unknown == "error":
            known = column_list(column["categories"], limit=10)
            raise DataError(
                f"{source}: column {column['name']!r} has {what}, which the model never "
                f"saw in training (it knows {known}); unknown='ignore' encodes it as zeros"
            )
        rows = f"{count} row{'s' * (count != 1)}"
        message = f"{source}: column {column['name']!r}: {rows} with a category unseen in "
        warnings.warn(f"{message}training (the first: {what}) encoded as all zeros",
                      UnknownCategoryWarning, stacklevel=4)  # fmt: skip
    out = np.zeros((len(cells), len(column["categories"])))
    out[np.flatnonzero(~unseen), codes[~unseen]] = 1.0
    return out


def _missing_error(source: str, name: str, cells: Any, trained: bool = False) -> DataError:
    missing = cells.isna().to_numpy()
    first = place(cells, int(np.argmax(missing)))
    count = int(missing.sum())
    where = f"the first on {first}" if count > 1 else f"on {first}"
    # A fitted preprocessor's missing-value rule is fixed: only retraining changes it.
    remedy = (
        "fill them, or retrain with --missing mean or --missing most_frequent"
        if trained
        else "fill them, or choose --missing mean or --missing most_frequent"
    )
    return DataError(
        f"{source}: column {name!r} has {count} missing value{'s' * (count != 1)} ({where}); "
        + remedy
    )


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(int(value))
    return repr(value) if isinstance(value, str) else f"{value:g}"

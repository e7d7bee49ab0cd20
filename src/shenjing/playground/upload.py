"""Your own points: a small CSV of two numeric features and a label or target.

The file has a header row and three columns: the first two are the features x₁ and x₂
(numbers), the third the label (a class name or a small whole number: classification)
or the target (any other numbers: regression). Each feature is mapped linearly onto
[-5, 5] (its smallest value to -5, its largest to 5), so that the page's plane shows
it; a regression target is mapped onto [-1, 1] the same way. Every problem raises a
:class:`~shenjing.DataError` with one line that names the line or column.

Example:
    >>> points = read_points("a,b,label\\n0,0,no\\n1,1,yes\\n2,0,no\\n0,2,yes\\n")
    >>> points.x.shape, points.y.tolist(), points.classes
    ((4, 2), [0, 1, 0, 1], ['no', 'yes'])
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from ..base.errors import DataError

#: The largest upload the server accepts, in bytes.
MAX_BYTES = 256 * 1024
#: Rows accepted (the page draws every point).
MAX_ROWS = 2000
MIN_ROWS = 4
#: A label column with at most this many distinct values (names, or whole numbers) is
#: read as classes.
MAX_CLASSES = 8
#: Where the features land on the plane: [-FEATURE_RANGE, FEATURE_RANGE].
FEATURE_RANGE = 5.0


@dataclass(frozen=True)
class Points:
    """Uploaded points, scaled for the plane.

    Attributes:
        x: (N, 2) float64, each column mapped onto [-5, 5].
        y: (N,) int64 class indices, or (N, 1) float64 targets mapped onto [-1, 1].
        classes: the class names in index order, or ``None`` for regression.
        columns: the header's three names.
        ranges: each column's (smallest, largest) value before scaling (the label
            column's is ``None`` for classes).
    """

    x: np.ndarray
    y: np.ndarray
    classes: list[str] | None
    columns: list[str]
    ranges: list[tuple[float, float] | None]

    @property
    def problem(self) -> str:
        return "regression" if self.classes is None else "classification"

    def describe(self) -> str:
        """One line for the page: what was read."""
        what = (
            f"{len(self.classes)} classes ({', '.join(self.classes)})"
            if self.classes is not None
            else f"a numeric target '{self.columns[2]}'"
        )
        return (
            f"read {len(self.x)} rows: features '{self.columns[0]}' and '{self.columns[1]}', {what}"
        )


def read_points(text: str | bytes) -> Points:
    """Parse an uploaded CSV (see the module docstring) into :class:`Points`."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise DataError(f"the file is {len(text)} bytes; the limit is {MAX_BYTES}")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataError(f"the file is not UTF-8 text (byte {exc.start})") from None
    text = text.removeprefix("\ufeff")
    sample = text[:4096]
    delimiter = max(",;\t", key=sample.count)
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(row)]
    if not rows:
        raise DataError("the file is empty")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if len(header) != 3:
        raise DataError(
            f"the header has {len(header)} columns; it needs 3: two numeric features, then "
            "a label or target"
        )
    if all(_is_number(name) for name in header):
        raise DataError("the first line must be a header naming the three columns")
    if len(body) < MIN_ROWS:
        raise DataError(f"the file has {len(body)} data rows; at least {MIN_ROWS} are needed")
    if len(body) > MAX_ROWS:
        raise DataError(f"the file has {len(body)} data rows; the limit is {MAX_ROWS}")
    for line, row in enumerate(body, start=2):
        if len(row) != 3:
            raise DataError(f"line {line} has {len(row)} fields; the header has 3")
    x = np.empty((len(body), 2))
    for col in (0, 1):
        for line, row in enumerate(body, start=2):
            value = _number(row[col])
            if value is None:
                raise DataError(
                    f"line {line}, column '{header[col]}': {row[col].strip()!r} is not a "
                    "finite number"
                )
            x[line - 2, col] = value
    ranges: list[tuple[float, float] | None] = [_range(x[:, 0]), _range(x[:, 1])]
    labels = [row[2].strip() for row in body]
    empty = next((i for i, label in enumerate(labels) if not label), None)
    if empty is not None:
        raise DataError(f"line {empty + 2}, column '{header[2]}': the label is empty")
    classes, y = _labels(labels, header[2])
    if classes is None:
        ranges.append(_range(y[:, 0]))
        y = _scale(y, 1.0)
    else:
        ranges.append(None)
    return Points(_scale(x, FEATURE_RANGE), y, classes, header, ranges)


def _labels(labels: list[str], name: str) -> tuple[list[str] | None, np.ndarray]:
    numbers = [_number(label) for label in labels]
    distinct = sorted(set(labels))
    whole = all(v is not None and v == int(v) for v in numbers)
    if all(v is not None for v in numbers) and not (whole and len(distinct) <= MAX_CLASSES):
        return None, np.array(numbers, dtype=np.float64).reshape(-1, 1)
    if len(distinct) > MAX_CLASSES:
        raise DataError(
            f"column '{name}' has {len(distinct)} distinct labels; the limit is {MAX_CLASSES} "
            "classes (or give numbers for a regression target)"
        )
    if len(distinct) < 2:
        raise DataError(f"column '{name}' has only one label, {distinct[0]!r}; it needs two")
    if whole:  # numeric classes in numeric order: 2 before 10
        distinct = sorted(distinct, key=lambda label: float(label))
    index = {label: i for i, label in enumerate(distinct)}
    return distinct, np.array([index[label] for label in labels], dtype=np.int64)


def _is_number(text: str) -> bool:
    return _number(text) is not None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _range(column: np.ndarray) -> tuple[float, float]:
    return float(column.min()), float(column.max())


def _scale(a: np.ndarray, half: float) -> np.ndarray:
    """Map each column of ``a`` linearly onto [-half, half] (a constant column to 0)."""
    low, high = a.min(axis=0), a.max(axis=0)
    width = np.where(high > low, high - low, 1.0)
    return (a - (low + high) / 2) / width * (2 * half)

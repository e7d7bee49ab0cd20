"""The target column of a table: the task it asks for, its classes, and the split.

A target of text, or of at most :data:`MAX_INFERRED_CLASSES` distinct whole numbers, is
a classification; any other numbers are a regression. Class labels are kept as text,
whole numbers in one spelling ("01", "1.0" and 1 are one class) and in numeric order.
The validation split is drawn from a seed, stratified by class.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..base.errors import DataError
from .csvdata import place, require_pandas

#: A numeric target with at most this many distinct whole numbers is taken as classes.
MAX_INFERRED_CLASSES = 20


def infer_task(cells: Any, target: str, task: str | None, source: str):
    """(task, reason, labels): labels are class keys (text) or float values."""
    pd = require_pandas()
    missing = cells.isna().to_numpy()
    if missing.any():
        first, count = place(cells, int(np.argmax(missing))), int(missing.sum())
        raise DataError(
            f"{source}: target {target!r} is missing on {first} ({count} "
            f"row{'s' * (count != 1)} in all); a row needs its target to be learnt from: "
            "drop or fill them (drop_missing_target=True leaves those rows out)"
        )
    numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
    is_numeric = not np.isnan(numbers).any()
    if is_numeric and np.isinf(numbers).any():
        i = int(np.argmax(np.isinf(numbers)))
        raise DataError(
            f"{source}: target {target!r} holds an infinite value ({cells.iloc[i]!r}) on "
            f"{place(cells, i)}"
        )
    whole = is_numeric and bool(np.all(numbers == np.round(numbers)))
    distinct = len(np.unique(numbers)) if is_numeric else cells.nunique()
    if task == "regress":
        if not is_numeric:
            i = int(np.argmax(np.isnan(numbers)))
            raise DataError(
                f"{source}: task='regress', but target {target!r} holds text "
                f"({cells.iloc[i]!r} on {place(cells, i)}); use task='classify'"
            )
        return task, "given as task='regress'", numbers
    if task == "classify":
        if is_numeric and not whole:
            i = int(np.argmax(numbers != np.round(numbers)))
            raise DataError(
                f"{source}: task='classify', but target {target!r} holds continuous values "
                f"({cells.iloc[i]!r} on {place(cells, i)}); use task='regress'"
            )
        reason = "given as task='classify'"
    elif not is_numeric:
        task, reason = "classify", f"target {target!r} holds text"
    elif whole and distinct <= MAX_INFERRED_CLASSES:
        task = "classify"
        reason = f"target {target!r} holds {distinct} distinct whole numbers"
    else:
        kind = "whole numbers" if whole else "numbers with fractions"
        reason = f"target {target!r} holds {kind} with {distinct} distinct values"
        return "regress", reason, numbers
    labels = [class_key(v) for v in cells.to_numpy(dtype=object)]
    return "classify", reason, np.array(labels, dtype=object)


def class_key(value: Any) -> str:
    """A label's text; whole numbers in one spelling, so "01", "1.0" and 1 are one class."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return str(value)
    if math.isfinite(number) and number.is_integer():
        return str(int(number))
    return str(value)


def sorted_classes(labels: np.ndarray) -> list[str]:
    classes = sorted(set(labels))
    try:
        return sorted(classes, key=int)  # whole numbers in numeric order: 2 before 10
    except ValueError:
        return classes


def stratified_split(n: int, y: np.ndarray | None, fraction: float, rng, source: str):
    """(train, validation) row positions, sorted; stratified by class when ``y`` is given.

    Each class gives round(N_k · fraction) rows to validation but keeps at least one for
    training.
    """
    if fraction == 0:
        return np.arange(n), np.arange(0)
    groups = [np.arange(n)] if y is None else [np.flatnonzero(y == k) for k in np.unique(y)]
    val = []
    for rows in groups:
        take = min(round(len(rows) * fraction), len(rows) - 1)
        val.append(rng.permutation(rows)[:take])
    val_rows = np.sort(np.concatenate(val))
    if len(val_rows) == 0:
        raise DataError(
            f"{source}: {n} rows are too few for a validation fraction of {fraction:g}: "
            "no row would be held out; add rows, or use validation=0"
        )
    train_rows = np.setdiff1d(np.arange(n), val_rows)
    return train_rows, val_rows

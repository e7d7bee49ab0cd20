"""Predict with a model from 'shenjing train' for the raw rows of a CSV file.

The rows go through the same preprocessing as in training; a column named like the
target is ignored, so a labelled file works too. The output is CSV with one row per
input row: the prediction, then, for a classifier, one probability column per class
(p_CLASS). It goes to stdout, or to --out FILE (written whole or not at all; an
existing FILE is replaced only with --force, and never if it is MODEL or DATA).

The output is safe to open in a spreadsheet: a text cell (a class label, a column
name) that starts with =, +, -, @, a tab or a carriage return, and is not a number,
gets a leading ' so that it is shown as text, not run as a formula (OWASP's advice
on CSV injection). If the target is named like a probability column (p_CLASS), the
prediction column is renamed TARGET_predicted, and a warning says so.

Example:
  shenjing predict houses.shj new_houses.csv --out predictions.csv
"""

from __future__ import annotations

import argparse
import io
import sys
import warnings

import numpy as np

from ..base.errors import ConfigError, DataError
from ..data.preprocess import UnknownCategoryWarning
from ._common import CommandError, add_force, check_output, require

HELP = "predict with a trained model for the rows of a CSV file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file from 'shenjing train'")
    parser.add_argument("data", metavar="DATA.csv", help="rows to predict, with a header row")
    parser.add_argument("--out", metavar="FILE", help="write the CSV here instead of stdout")
    parser.add_argument("--sep", default=",", help="DATA's delimiter: , ; | or \\t (default ,)")
    parser.add_argument("--encoding", default="utf-8", help="DATA's encoding (default utf-8)")
    parser.add_argument(
        "--unknown",
        choices=("error", "ignore"),
        default="error",
        help="a category unseen in training: refuse the file (default), or encode it as "
        "all zeros with a warning (ignore)",
    )
    add_force(parser)


def run(args: argparse.Namespace) -> int:
    sep = {"\\t": "\t", "tab": "\t"}.get(args.sep, args.sep)
    if args.out is not None:
        check_output(args.out, [args.model, args.data], args.force)
    require("pandas", "csv")
    from ..data.csvdata import read_csv
    from ..tabular import TabularModel

    model = TabularModel.load(args.model)
    try:
        frame = read_csv(args.data, sep=sep, encoding=args.encoding)
    except ConfigError as exc:
        raise CommandError(str(exc), code=2) from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownCategoryWarning)
        try:
            table = prediction_table(model, frame, args.data, args.unknown)
        except DataError as exc:
            raise CommandError(str(exc).replace("unknown='ignore'", "--unknown ignore")) from None
    for warning in caught:
        if issubclass(warning.category, UnknownCategoryWarning):
            print(f"shenjing predict: warning: {warning.message}", file=sys.stderr)
        else:  # not ours to report: pass it on as it was
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    if table.columns[0] != safe_cell(model.target) and not args.quiet:
        print(
            f"shenjing predict: warning: the target {model.target!r} is named like a "
            f"probability column; the predictions are in column {table.columns[0]!r}",
            file=sys.stderr,
        )
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    text = buffer.getvalue()
    if args.out is None:
        sys.stdout.write(text)
    else:
        from ..base.files import atomic_write

        atomic_write(args.out, lambda f: f.write(text.encode("utf-8")), error=ConfigError)
        if not args.quiet:
            print(f"wrote {len(table)} predictions to {args.out}", file=sys.stderr)
    return 0


def prediction_table(model, frame, source: str = "data", unknown: str = "error"):
    """A DataFrame: the prediction column (named as the target), then p_CLASS columns.

    Text cells and column names are escaped for spreadsheets (:func:`safe_cell`); the
    prediction column is ``TARGET_predicted`` where the target's name is a p_CLASS.
    """
    import pandas as pd

    from ..base.checks import finite_rows

    x = model.transform(frame, source, unknown)
    if model.task != "classify":
        return pd.DataFrame({safe_cell(model.target): model.predict_encoded(x)})
    # One pass of the network: the class is the most probable one.
    proba = finite_rows(model.net.predict_proba(x).astype("float64"))
    labels = [safe_cell(c) for c in model.classes]
    probability = [safe_cell(f"p_{c}") for c in model.classes]
    target = safe_cell(model.target)
    while target in probability:
        target = safe_cell(f"{target}_predicted")
    columns = {target: np.array(labels, dtype=object)[proba.argmax(axis=1)]}
    for k, name in enumerate(probability):
        columns[name] = proba[:, k]
    return pd.DataFrame(columns)


#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would run it as a formula.

    Example:
        >>> safe_cell("=1+1"), safe_cell("-2.5"), safe_cell("yes")
        ("'=1+1", '-2.5', 'yes')
    """
    if not text.startswith(_FORMULA_START):
        return text
    if text != text.strip():  # a tab or CR first: always text
        return "'" + text
    try:
        float(text)  # a number such as -1 or +2.5 is shown as a number, not run
    except ValueError:
        return "'" + text
    return text

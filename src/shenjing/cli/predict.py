"""Predict with a model from 'shenjing train' for the raw rows of a CSV file.

The rows go through the same preprocessing as in training; a column named like the
target is ignored, so a labelled file works too. The output is CSV with one row per
input row: the prediction, then, for a classifier, one probability column per class
(p_CLASS). It goes to stdout, or to --out FILE (written whole or not at all).

Example:
  shenjing predict houses.shj new_houses.csv --out predictions.csv
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import warnings

import numpy as np

from ..base.errors import ConfigError, DataError
from ..data.preprocess import UnknownCategoryWarning
from ._common import CommandError, require

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


def run(args: argparse.Namespace) -> int:
    sep = {"\\t": "\t", "tab": "\t"}.get(args.sep, args.sep)
    if args.out is not None:
        folder = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(folder):
            raise CommandError(f"--out {args.out}: the folder {folder} does not exist", code=2)
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
    """A DataFrame: the prediction column (named as the target), then p_CLASS columns."""
    import pandas as pd

    x = model.transform(frame, source, unknown)
    if model.task != "classify":
        return pd.DataFrame({model.target: model.predict_encoded(x)})
    # One pass of the network: the class is the most probable one.
    proba = model.net.predict_proba(x).astype("float64")
    columns = {model.target: np.array(model.classes, dtype=object)[proba.argmax(axis=1)]}
    for k, name in enumerate(model.classes):
        columns[f"p_{name}"] = proba[:, k]
    return pd.DataFrame(columns)

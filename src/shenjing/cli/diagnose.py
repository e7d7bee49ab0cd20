"""Diagnose a saved network on data: dead and saturated units, gradient flow, findings.

Prints one line per layer (activation mean and spread, dead and saturated units, the
gradient reaching it) and plain-language findings, then writes two figures to --out
(activation histograms and gradient flow). With targets and a loss it measures
gradients too; without, forward statistics only.

DATA is a .npz file with an array x (and optionally y), or a CSV file. For a model from
'shenjing train', a CSV goes through the model's own preprocessing and its target
column (if present) gives y; otherwise a CSV holds numbers only, and --target names
the column holding y.

Example:
  shenjing diagnose spiral.shj spiral.npz --loss softmax_cross_entropy --out figures
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

from ..base.errors import ConfigError, DataError
from ..training import losses
from ._common import CommandError, require

HELP = "diagnose a saved network on data: dead and saturated units, gradient flow"

#: The figures written to --out.
FIGURES = ("activation_histograms.png", "gradient_flow.png")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file from sj.save or 'train'")
    parser.add_argument("data", metavar="DATA", help="a .npz file (arrays x, y) or a .csv file")
    parser.add_argument(
        "--loss", help=f"the loss, to measure gradients: {', '.join(losses.names())}"
    )
    parser.add_argument("--target", metavar="COLUMN", help="CSV of numbers: the column of y")
    parser.add_argument(
        "--out", default=".", metavar="DIR", help="folder for the figures (default: here)"
    )
    parser.add_argument("--no-figures", action="store_true", help="print the report only")
    parser.add_argument("--batch-size", type=int, default=1024, help="rows per pass (1024)")
    parser.add_argument("--sep", default=",", help="a CSV's delimiter (default ,)")
    parser.add_argument("--encoding", default="utf-8", help="a CSV's encoding (default utf-8)")


def run(args: argparse.Namespace) -> int:
    from ..diagnosis.diagnostics import diagnose
    from ..interop.modelfile import load

    if args.batch_size < 1:
        raise CommandError(f"--batch-size must be a positive integer, got {args.batch_size}", 2)
    if args.loss is not None:
        try:
            losses.get(args.loss)
        except ConfigError as exc:
            raise CommandError(str(exc), code=2) from None
    if not args.no_figures and os.path.exists(args.out) and not os.path.isdir(args.out):
        raise CommandError(f"--out {args.out}: not a folder", code=2)
    net = load(args.model)
    x, y, loss = _read_data(args, net)
    if y is not None and loss is None:
        raise CommandError(
            f"DATA has targets: give --loss to measure gradients ({', '.join(losses.names())})",
            code=2,
        )
    report = diagnose(net, x, y, loss, batch_size=args.batch_size)
    print(report)
    if not args.no_figures:
        for path in write_figures(report, args.out):
            if not args.quiet:
                print(f"wrote {path}")
    return 0


def write_figures(report: Any, folder: str) -> list[str]:
    """Activation histograms and (with gradients) gradient flow, as PNGs in ``folder``."""
    require("matplotlib", "plot")
    from .. import plot

    paths = []
    ax = plot.activation_histograms(report)
    paths.append(str(plot.save(ax.figure, os.path.join(folder, FIGURES[0]))))
    if any(lay.grad_rms is not None for lay in report.layers):
        ax = plot.gradient_flow(report)
        paths.append(str(plot.save(ax.figure, os.path.join(folder, FIGURES[1]))))
    return paths


def report_monitor(monitor: Any, model_path: str, quiet: bool = False) -> str | None:
    """After a training command with --monitor: print the record, write the overview.

    The figure is ``MODEL-diagnostics.png`` beside the model file; returns its path
    (``None`` when training recorded nothing).
    """
    record = monitor.record
    print(record)
    if not record.reports:
        return None
    require("matplotlib", "plot")
    from .. import plot

    path = os.path.splitext(model_path)[0] + "-diagnostics.png"
    plot.save(plot.diagnostics(record), path)
    if not quiet:
        print(f"wrote {path}")
    return path


def _read_data(args: argparse.Namespace, net: Any) -> tuple[np.ndarray, Any, str | None]:
    """(x, y or None, loss or None) from DATA, as the model's metadata says to read it."""
    suffix = os.path.splitext(args.data)[1].lower()
    if suffix == ".npz":
        if args.target is not None:
            raise CommandError("--target is for CSV data; a .npz file holds x and y", code=2)
        return (*_read_npz(args.data), args.loss)
    if suffix != ".csv":
        raise CommandError(f"DATA must be a .npz or .csv file, got {args.data!r}", code=2)
    require("pandas", "csv")
    from ..data.csvdata import read_csv

    sep = {"\\t": "\t", "tab": "\t"}.get(args.sep, args.sep)
    try:
        frame = read_csv(args.data, sep=sep, encoding=args.encoding)
    except ConfigError as exc:
        raise CommandError(str(exc), code=2) from None
    if net.metadata.get("format") == "shenjing-tabular":
        return _tabular(args, frame)
    return _numeric_csv(args, frame)


#: The largest .npz read, and the most its arrays may unpack to (a zip bomb's bound).
_MAX_NPZ_BYTES = 2**32
_MAX_NPZ_UNPACKED = 2**34


def _read_npz(path: str) -> tuple[np.ndarray, np.ndarray | None]:
    from ..base.files import open_regular

    try:
        with (
            open_regular(path, _MAX_NPZ_BYTES, error=DataError, what=".npz file") as f,
            np.load(f, allow_pickle=False) as data,
        ):
            unpacked = sum(info.file_size for info in data.zip.infolist())
            if unpacked > _MAX_NPZ_UNPACKED:
                raise DataError(
                    f"{path}: its arrays unpack to {unpacked} bytes, more than {_MAX_NPZ_UNPACKED}"
                )
            if "x" not in data.files:
                raise DataError(f"{path}: no array 'x' (it holds {sorted(data.files)})")
            return data["x"], data["y"] if "y" in data.files else None
    except (ValueError, OSError, EOFError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None


def _tabular(args: argparse.Namespace, frame: Any) -> tuple[np.ndarray, Any, str | None]:
    """A model from 'shenjing train': its preprocessing, its target, its loss."""
    from ..tabular import TabularModel

    model = TabularModel.load(args.model)
    x = model.transform(frame, args.data)
    if model.target not in frame.columns:
        return x, None, None
    y = model.encode_target(frame[model.target], args.data)
    if args.loss is not None:
        return x, y, args.loss
    if model.task == "classify":
        return x, y, "softmax_cross_entropy"
    return x, y, _trained_loss(model.training.get("loss", "")) or "mse"


def _trained_loss(text: str) -> str | None:
    """The registry name of a loss recorded as its repr, e.g. ``"Huber(delta=1.0)"``."""
    cls_name = str(text).split("(")[0]
    for name in losses.names():
        if type(losses.get(name)).__name__ == cls_name:
            return name
    return None


def _numeric_csv(args: argparse.Namespace, frame: Any) -> tuple[np.ndarray, Any, str | None]:
    y = None
    if args.target is not None:
        if args.target not in frame.columns:
            raise CommandError(
                f"--target {args.target!r} is not a column of {args.data} "
                f"(columns: {', '.join(map(str, frame.columns))})",
                code=2,
            )
        y = _numbers(frame[[args.target]], args.data)[:, 0]
        frame = frame.drop(columns=[args.target])
        classes = args.loss is not None and isinstance(
            losses.get(args.loss), losses.SoftmaxCrossEntropy
        )
        if classes and np.all(y == np.round(y)):
            y = y.astype(np.int64)  # class labels, written as numbers
    return _numbers(frame, args.data), y, args.loss


def _numbers(frame: Any, source: str) -> np.ndarray:
    try:
        return frame.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        for column in frame.columns:
            try:
                frame[column].to_numpy(dtype=np.float64)
            except (TypeError, ValueError):
                raise DataError(
                    f"{source}: column {column!r} is not numeric; a network saved with "
                    "sj.save reads numbers only (models from 'shenjing train' read any table)"
                ) from None
        raise

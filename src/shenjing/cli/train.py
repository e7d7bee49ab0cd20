"""Train a network on your own table: a CSV file with a header row and one target column.

Column types are inferred (numbers are standardised, anything else one-hot encoded),
the task too (text or a few whole numbers: classification; other numbers: regression),
and the rows are split into training and validation rows from --seed (stratified for a
classifier). The model file holds the preprocessing and the network; nothing is written
unless training succeeds.

Example:
  shenjing train houses.csv --target price --hidden 64,32 --epochs 100 --out houses.shj
  shenjing predict houses.shj new_houses.csv --out predictions.csv
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from importlib.util import find_spec

from ..base.errors import ConfigError, DataError
from ..data.preprocess import MISSING
from ..nn.activations import ACTIVATIONS
from ..training import losses, optim
from ._common import CommandError, add_force, check_output, require
from ._epochs import EpochBars

HELP = "train a network on a CSV file and save it with its preprocessing"
#: Feature columns described before training (a wide table gets a count for the rest).
COLUMNS_SHOWN = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", metavar="DATA.csv", help="the table, with a header row")
    parser.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict")
    parser.add_argument(
        "--task",
        choices=("classify", "regress"),
        help="classification or regression (default: inferred from the target, and said so)",
    )
    parser.add_argument(
        "--hidden",
        default="64,64",
        metavar="W1,W2,…",
        help="hidden layer widths, comma-separated; 0 for none (default 64,64)",
    )
    parser.add_argument(
        "--activation",
        default="relu",
        help=f"hidden activation: {', '.join(ACTIVATIONS.names())} or maxout (default relu)",
    )
    parser.add_argument(
        "--loss", help="regression loss: mse (default), huber or sse; classifiers use softmax"
    )
    parser.add_argument(
        "--optimizer", default="adam", help=f"{', '.join(optim.names())} (default adam)"
    )
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 1e-3)")
    parser.add_argument("--epochs", type=int, default=50, help="passes over the data (default 50)")
    parser.add_argument("--batch-size", type=int, default=32, help="rows per step (default 32)")
    parser.add_argument(
        "--validation",
        type=float,
        default=0.2,
        metavar="FRACTION",
        help="fraction of rows held out for validation, in [0, 1) (default 0.2)",
    )
    parser.add_argument(
        "--early-stopping",
        type=int,
        nargs="?",
        const=10,
        metavar="PATIENCE",
        help="stop when the validation loss has not improved for PATIENCE epochs "
        "(default 10) and keep the best epoch's weights",
    )
    parser.add_argument(
        "--drop-missing-target",
        action="store_true",
        help="leave out the rows whose target is missing (default: refuse the table)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, weights, order")
    parser.add_argument(
        "--class-weight",
        choices=("balanced",),
        help="weight classes by N / (K N_k) so that rare classes count as much",
    )
    parser.add_argument(
        "--out",
        metavar="MODEL",
        help="the model file to write (default DATA's name + .shj); an existing one is "
        "replaced only with --force, and never DATA",
    )
    add_force(parser)
    parser.add_argument(
        "--monitor",
        type=int,
        nargs="?",
        const=50,
        metavar="STEPS",
        help="record diagnostics every STEPS steps (default 50); print them and write "
        "MODEL-diagnostics.png",
    )
    parser.add_argument(
        "--lr-find",
        action="store_true",
        help="run a learning-rate range test first, print its suggestion and why, write "
        "MODEL-lr-find.png, and train with the suggested rate instead of --lr",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="save training state to PATH every epoch and on Ctrl-C; run the same "
        "command again to resume where it stopped",
    )
    parser.add_argument("--sep", default=",", help="the delimiter: , ; | or \\t (default ,)")
    parser.add_argument("--encoding", default="utf-8", help="the file's encoding (default utf-8)")
    parser.add_argument(
        "--numeric", default="", metavar="COLS", help="columns to treat as numbers (a,b,…)"
    )
    parser.add_argument(
        "--categorical", default="", metavar="COLS", help="columns to treat as categories (a,b,…)"
    )
    parser.add_argument(
        "--missing",
        choices=MISSING,
        default="error",
        help="missing cells: an error (default), or fill with the column's mean or most "
        "frequent value (categorical columns: always the most frequent)",
    )


def run(args: argparse.Namespace) -> int:
    options = _check_options(args)
    require("pandas", "csv")
    from ..data.csvdata import read_csv
    from ..tabular import TabularModel

    out = args.out or os.path.splitext(os.path.basename(args.data))[0] + ".shj"
    check_output(out, [args.data], args.force)
    try:
        frame = read_csv(args.data, sep=options["sep"], encoding=args.encoding)
    except ConfigError as exc:
        raise CommandError(str(exc), code=2) from None
    # A bar only where someone watches it, and only if tqdm (the cli extra) is there.
    show_progress = not args.quiet and sys.stderr.isatty() and find_spec("tqdm") is not None
    bars = [EpochBars(args.batch_size)] if show_progress else []

    def on_plan(model) -> None:
        # What is about to be trained, before the first step (a long run says so now).
        _report_plan(model)
        for bar in bars:
            bar.plan(model)
        sys.stdout.flush()

    try:
        model = TabularModel.fit(
            frame,
            args.target,
            task=args.task,
            hidden=options["hidden"],
            activation=args.activation,
            loss=args.loss,
            optimizer=args.optimizer,
            lr=args.lr,
            epochs=args.epochs,
            batch_size=args.batch_size,
            validation=args.validation,
            seed=args.seed,
            class_weight=args.class_weight,
            numeric=options["numeric"],
            categorical=options["categorical"],
            missing=args.missing,
            source=args.data,
            callbacks=[*options["callbacks"], *bars],
            early_stopping=args.early_stopping,
            drop_missing_target=args.drop_missing_target,
            on_plan=on_plan,
            checkpoint=args.checkpoint,
            lr_find=args.lr_find,
        )
    except ConfigError as exc:
        raise CommandError(option_names(str(exc)), code=2) from None
    except DataError as exc:  # the data's fault, not the options': exit 1
        raise CommandError(option_names(str(exc))) from None
    if args.lr_find:
        _report_lr_find(model, out)
    model.save(out)
    _report_result(model, out)
    if options["callbacks"]:
        from .diagnose import report_monitor

        report_monitor(options["callbacks"][0], out, args.quiet)
    return 0


#: The arguments of TabularModel.fit that library messages name, spelt as in Python.
_ARGUMENT = re.compile(r"\b(task|validation)=('?)([\w.]+)\2")


def option_names(message: str) -> str:
    """A library message with its Python arguments as this command's options.

    Example:
        >>> option_names("task='regress', but ...; use task='classify' or validation=0")
        '--task regress, but ...; use --task classify or --validation 0'
    """
    message = message.replace("drop_missing_target=True", "--drop-missing-target")
    message = message.replace("early_stopping", "--early-stopping")
    return _ARGUMENT.sub(lambda m: f"--{m[1]} {m[3]}", message)


def _report_plan(model) -> None:
    """The task, rows and columns, printed before training starts."""
    for warning in model.warnings:
        print(f"shenjing train: warning: {warning}", file=sys.stderr)
    t = model.training
    how = "given" if t["task_reason"].startswith("given") else f"inferred: {t['task_reason']}"
    print(f"task: {model.task} ({how})")
    dropped = t.get("dropped_rows", 0)
    if dropped:
        print(f"dropped {dropped} row{'s' * (dropped != 1)} whose target is missing")
    print(
        f"rows: {t['rows']} ({t['train_rows']} training, {t['validation_rows']} validation); "
        f"{len(model.preprocessor.input_names)} feature columns → "
        f"{len(model.preprocessor.feature_names)} inputs"
    )
    lines = model.preprocessor.describe()
    print("columns:")
    for line in lines[:COLUMNS_SHOWN]:
        print(f"  {line}")
    if len(lines) > COLUMNS_SHOWN:
        print(f"  … and {len(lines) - COLUMNS_SHOWN} more")
    if model.task == "classify":
        counts = t["class_counts"]
        print("classes (training / validation rows):")
        width = max(len(c) for c in model.classes)
        for c in model.classes:
            print(f"  {c:<{width}}  {counts['train'][c]:>6} / {counts['validation'][c]}")
    print(f"network: {model.net!r}")


def _report_result(model, out: str) -> None:
    """What training gave, printed once it is done."""
    t = model.training
    epochs = f"{t['epochs_run']} epoch{'s' * (t['epochs_run'] != 1)}"
    print(f"trained: {epochs}, final training loss {t['final_loss']:.6g}")
    if t.get("stopped_early"):
        print(
            f"stopped early: no better validation loss for {t['early_stopping']} epochs; "
            f"kept the weights of epoch {t['best_epoch']}"
        )
    m = model.metrics
    if model.task == "classify":
        print(f"{m['on']} accuracy: {m['accuracy']:.4f}   macro-F1: {m['macro_f1']:.4f}")
    else:
        r2 = "n/a (constant target)" if m["r2"] is None else f"{m['r2']:.4f}"
        print(f"{m['on']} RMSE: {m['rmse']:.6g}   R²: {r2}")
    print(f"saved {out}")


def _report_lr_find(model, out: str) -> None:
    """Say what the range test found; draw it where matplotlib is installed."""
    found = model.lr_find_result
    print(f"lr-find: trained with lr={found.suggestion:.3g}: {found.reason}")
    if find_spec("matplotlib") is None:
        return
    from ..plot import lr_find_curve, save

    figure = os.path.splitext(out)[0] + "-lr-find.png"
    save(lr_find_curve(found).figure, figure)
    print(f"lr-find: wrote {figure}")


def _check_options(args: argparse.Namespace) -> dict:
    """Every option checked before the data is read; a bad one exits 2."""
    if args.seed < 0:
        raise CommandError(f"--seed must be a non-negative integer, got {args.seed}", 2)
    sep = {"\\t": "\t", "tab": "\t"}.get(args.sep, args.sep)
    if len(sep) != 1 or sep in '\r\n"':
        raise CommandError(f"--sep must be one character, e.g. ';' or '\\t', got {args.sep!r}", 2)
    try:
        hidden = (
            [] if args.hidden.strip() in ("", "0") else [int(h) for h in args.hidden.split(",")]
        )
    except ValueError:
        hidden = None
    if hidden is None or any(h < 1 for h in hidden):
        raise CommandError(
            f"--hidden must be positive widths separated by commas, e.g. 64,32; got "
            f"{args.hidden!r}",
            2,
        )
    if args.activation != "maxout" and args.activation not in ACTIVATIONS:
        raise CommandError(
            f"--activation {args.activation!r} is unknown; choose one of "
            f"{', '.join(ACTIVATIONS.names())}, maxout",
            2,
        )
    for flag, registry in (("--loss", losses), ("--optimizer", optim)):
        value = getattr(args, flag[2:])
        if value is not None and not _known(registry, value):
            raise CommandError(
                f"{flag} {value!r} is unknown; choose one of {', '.join(registry.names())}", 2
            )
    if not args.lr > 0 or args.lr == float("inf"):
        raise CommandError(f"--lr must be a positive number, got {args.lr}", 2)
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size)):
        if value < 1:
            raise CommandError(f"{flag} must be a positive integer, got {value}", 2)
    if not 0 <= args.validation < 1:
        raise CommandError(f"--validation must be a fraction in [0, 1), got {args.validation}", 2)
    numeric = _names(args.numeric)
    categorical = _names(args.categorical)
    both = sorted(set(numeric) & set(categorical))
    if both:
        raise CommandError(f"{', '.join(both)}: given in both --numeric and --categorical", 2)
    if args.early_stopping is not None and args.early_stopping < 1:
        raise CommandError(
            f"--early-stopping must be a positive number of epochs, got {args.early_stopping}", 2
        )
    if args.early_stopping is not None and args.validation == 0:
        raise CommandError(
            "--early-stopping watches the validation loss: give --validation above 0", 2
        )
    if args.monitor is not None and args.monitor < 1:
        raise CommandError(f"--monitor must be a positive number of steps, got {args.monitor}", 2)
    from ..diagnosis.monitor import Monitor

    return {
        "sep": sep,
        "hidden": hidden,
        "numeric": numeric,
        "categorical": categorical,
        "callbacks": [] if args.monitor is None else [Monitor(every=args.monitor)],
    }


def _known(registry, name: str) -> bool:
    try:
        registry.get(name)
    except ConfigError:
        return False
    return True


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]

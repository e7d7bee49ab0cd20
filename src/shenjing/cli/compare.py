"""Train the same network once per activation (or per architecture) over several seeds.

Every variant is trained full-batch from each seed on the same data, and reported as:
final training loss, training accuracy (classification), the steps until the loss first
falls to --target × its first value ("never" if it does not), and the share of hidden units
dead (ReLU family; maxout: pieces that never win) or saturated (sigmoid, tanh) at the end,
as 'shenjing diagnose' measures them. Numbers are medians over the seeds.

Several architectures: repeat --hidden (or separate them with ';'), e.g.
--hidden 64 --hidden 8,8,8,8 compares one wide layer with four narrow ones (the notes'
depth-versus-width question). Each activation is crossed with each architecture.

Written to --out (default ./shenjing-compare): compare.png (median loss curve and min–max
band per variant), compare-units.png (the share of ReLU-family units silent on every input
over training, when there are such units), compare.csv and compare.json (the table; the
JSON adds the settings and every run). The same sweep is sj.compare(...) in Python.
--jobs runs in parallel with joblib; --scheduler tcp://HOST:PORT runs every (variant,
seed) on a Dask cluster instead (joblib's Dask backend; needs the cluster extra, and
shenjing on every worker).

Example:
  shenjing compare
  shenjing compare --dataset moons --activations relu,tanh --hidden 64 --hidden 8,8,8,8 \\
      --seeds 5 --epochs 500 --jobs 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..comparison import DEFAULT_ACTIVATIONS, MAXOUT
from ..comparison.units import PER_ACTIVATION
from ..data import datasets
from ..nn import activations as activations_mod
from ..nn import initializers
from ..training import optim
from ._common import require

HELP = "train one network per activation or architecture over several seeds and compare"


def _positive(kind: type):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse


def _activation_list(text: str) -> list[str]:
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected activation names separated by commas")
    valid = [*activations_mod.names(), MAXOUT]
    for name in names:
        if name != MAXOUT:
            try:
                activations_mod.ACTIVATIONS.get(name)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"unknown activation {name!r}; valid names: {', '.join(sorted(valid))}"
                ) from None
    return names


def _architectures(text: str) -> list[tuple[int, ...]]:
    archs = []
    for part in text.split(";"):
        try:
            widths = tuple(int(w) for w in part.split(",") if w.strip())
        except ValueError:
            widths = ()
        if not widths or min(widths) < 1:
            raise argparse.ArgumentTypeError(
                f"expected widths such as 64 or 8,8,8,8 (';' between architectures), got {text!r}"
            )
        archs.append(widths)
    return archs


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1), got {text!r}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or -1, got {text!r}")
    return value


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        default="spiral",
        choices=datasets.NAMES,
        help="built-in dataset (default: spiral, 3 classes of 100 points)",
    )
    parser.add_argument(
        "--activations",
        type=_activation_list,
        default=list(DEFAULT_ACTIVATIONS),
        metavar="LIST",
        help=f"comma-separated hidden activations (default: {','.join(DEFAULT_ACTIVATIONS)})",
    )
    parser.add_argument(
        "--hidden",
        type=_architectures,
        action="append",
        metavar="WIDTHS",
        help="hidden widths, e.g. 64 or 8,8,8,8; repeat (or use ';') for several (default: 64)",
    )
    parser.add_argument("--seeds", type=_positive(int), default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument(
        "--epochs", type=_positive(int), default=300, help="full-batch steps (default 300)"
    )
    parser.add_argument("--lr", type=_positive(float), default=1e-2, help="learning rate (1e-2)")
    parser.add_argument(
        "--optimizer", default="adam", choices=optim.names(), help="optimizer (default adam)"
    )
    parser.add_argument(
        "--batch-size",
        type=_positive(int),
        default=None,
        help="rows per step; default the full batch (one step per epoch)",
    )
    parser.add_argument(
        "--target",
        type=_fraction,
        default=0.25,
        metavar="FRACTION",
        help="count the steps until the loss is FRACTION × its first value (default 0.25)",
    )
    parser.add_argument(
        "--error-threshold",
        type=_fraction,
        metavar="FRACTION",
        help="also count the epochs until the training error is at most FRACTION "
        "(Krizhevsky et al. 2012 used 0.25); classification only",
    )
    parser.add_argument(
        "--init",
        default="xavier",
        choices=[*initializers.INITIALIZERS.names(), PER_ACTIVATION.replace("_", "-")],
        help="weight initialiser of every variant (default xavier); per-activation: He "
        "for the ReLU family and maxout, Xavier for sigmoid and tanh",
    )
    parser.add_argument(
        "--data-seed", type=int, default=0, help="seed of the generated dataset (default 0)"
    )
    parser.add_argument(
        "--jobs", type=_jobs, default=1, help="runs in parallel with joblib; -1: every core"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster whose scheduler is at ADDRESS, e.g. tcp://HOST:8786 "
        "(pip install 'shenjing[cluster]')",
    )
    parser.add_argument(
        "--out",
        default="shenjing-compare",
        metavar="DIR",
        help="folder for compare.png, .csv and .json (default: ./shenjing-compare)",
    )


def run(args: argparse.Namespace) -> int:
    from ..comparison import compare
    from ._common import CommandError

    if args.data_seed < 0:
        raise CommandError(f"--data-seed must be non-negative, got {args.data_seed}", code=2)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        # Found now rather than after every run has trained.
        raise CommandError(f"--out {args.out}: exists and is not a folder", code=2)
    require("matplotlib", "plot")
    if args.jobs != 1 or args.scheduler:
        require("joblib", "cli")
    if args.scheduler:
        require("distributed", "cluster")
    archs = [a for group in (args.hidden or [[(64,)]]) for a in group]
    progress = sys.stdout.isatty() and not args.quiet
    if progress:
        require("tqdm", "cli")
    result = compare(
        args.dataset,
        activations=args.activations,
        hidden=archs,
        seeds=args.seeds,
        epochs=args.epochs,
        lr=args.lr,
        optimizer=args.optimizer,
        batch_size=args.batch_size,
        target_fraction=args.target,
        error_threshold=args.error_threshold,
        init=args.init.replace("-", "_"),
        data_seed=args.data_seed,
        jobs=args.jobs,
        progress=progress,
        scheduler=args.scheduler,
    )
    s = result.settings
    steps = len(next(iter(result.runs.values()))[0].losses)
    print(
        f"compare on {s['dataset']} ({s['samples']} samples, {s['task']}): "
        f"{len(result.variants)} variants × {_plural(len(s['seeds']), 'seed')}, {steps} steps of "
        f"{s['optimizer']} (lr {s['lr']:g}, init {s['init']}) each; medians over the seeds"
    )
    print(result.format_table())
    print(f"steps: until the loss is {s['target_fraction']:g} × its first value")
    print(
        "died: units (ReLU family) that fired for no training input at some point; "
        "revived: the share of those that fired again later"
    )
    if s["error_threshold"] is not None:
        print(f"to error: epochs until the training error is at most {s['error_threshold']:g}")

    from .. import plot

    out = Path(args.out)
    written = [plot.save(plot.compare_curves(result).figure, out / "compare.png")]
    if any(run.silent.size for runs in result.runs.values() for run in runs):
        figure = plot.compare_units(result).figure
        written.append(plot.save(figure, out / "compare-units.png"))
    for suffix, write in ((".csv", result.to_csv), (".json", result.to_json)):
        write(str(out / f"compare{suffix}"))
        written.append(out / f"compare{suffix}")
    print("wrote:")
    for path in written:
        print(f"  {path}")
    return 0

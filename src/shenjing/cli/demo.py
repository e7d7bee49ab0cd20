"""Run the notes' two programs with shenjing's own parts, check them against the notes' loop,
and draw what the notes show.

PROGRAM is "regression" (64 × 1000 → 100 sigmoid → 10, 2000 steps), "xor" (2 → 30 ReLU → 1,
200 steps) or "all" (default). Each is trained in float64 with shenjing's Linear layers,
sum-of-squares loss and SGD, and also by a line-for-line NumPy transcription of the notes'
loop from the same weights; the largest relative difference between the two loss curves
must be at rounding level (< 1e-12).

Written to --out (default ./shenjing-demo): PROGRAM-loss.png for each program and, with
"all", activations.png (every activation and its derivative), compare.png/.csv/.json (a
small run of 'shenjing compare' on the spiral data) and spiral-boundary.png (a ReLU
network's decision boundary). The whole demo takes about 8.5 s of CPU time, about
half of it the 2000-step regression (see the README for what was measured).

Example:
  shenjing demo
  shenjing demo xor --out figures --seed 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from .. import notes
from ._common import CommandError, require

HELP = "run the notes' two programs, check them against the notes' loop, draw the figures"

#: The small comparison "all" runs: the notes' five activations on the spiral.
COMPARE_SETTINGS = {"dataset": "spiral", "seeds": 3, "epochs": 300, "lr": 1e-2}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "program",
        nargs="?",
        default="all",
        choices=(*notes.PROGRAMS, "all"),
        metavar="PROGRAM",
        help="regression, xor or all (default: all, which also draws the other figures)",
    )
    parser.add_argument(
        "--out",
        default="shenjing-demo",
        metavar="DIR",
        help="folder for the figures and tables (default: ./shenjing-demo)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and weights")


def run(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise CommandError(f"--seed must be a non-negative integer, got {args.seed}", code=2)
    require("matplotlib", "plot")
    from .. import plot
    from ..comparison import one_blas_thread

    # The notes' regression program took 105 s with OpenBLAS's default threads and 5 s
    # with one, on two busy shared cores; both runs of a program use the same setting.
    with one_blas_thread():
        return _demo(plot, args)


def _demo(plot, args: argparse.Namespace) -> int:
    out = Path(args.out)
    programs = notes.PROGRAMS if args.program == "all" else (args.program,)
    start_all = time.perf_counter()
    written: list[Path] = []
    print("shenjing: the notes' two-layer networks, trained with shenjing's own parts")
    for name in programs:
        start = time.perf_counter()
        result = notes.run(name, seed=args.seed)
        s = result.setup
        print(
            f"\n{name}: {s.x.shape[1]}-{s.w1.shape[1]}-{s.w2.shape[1]}, {s.hidden} hidden layer, "
            f"sum of squares, lr {s.learning_rate:g}, {s.steps} full-batch steps "
            f"({time.perf_counter() - start:.2f} s)"
        )
        print(f"  loss at step 1:    {result.losses[0]:.10g}")
        print(f"  loss at step {s.steps}: {result.losses[-1]:.10g}")
        print(
            "  largest relative difference from the notes' own loop, over every step: "
            f"{result.max_relative_difference:.3g}"
        )
        written.append(plot.save(_loss_figure(plot, result).figure, out / f"{name}-loss.png"))

    if args.program == "all":
        written += _extras(plot, out, args)
    print(f"\nwrote ({time.perf_counter() - start_all:.1f} s in all):")
    for path in written:
        print(f"  {path}")
    return 0


def _loss_figure(plot, result: notes.NotesRun):
    """shenjing's loss curve, with the notes' loop's losses as dots on top."""
    s = result.setup
    ax = plot.loss_curve(
        result.losses,
        label="shenjing: Sequential.fit",
        title=f"The notes' {s.name} program: {s.hidden} hidden layer, {s.steps} steps",
    )
    every = max(1, s.steps // 40)
    steps = range(1, s.steps + 1, every)
    ax.plot(steps, result.reference[::every], "k.", ms=3, label="the notes' NumPy loop")
    ax.set_ylabel(ax.get_ylabel().replace("loss", "sum of squared errors", 1))
    ax.legend(title=f"largest relative difference {result.max_relative_difference:.2g}")
    return ax


def _extras(plot, out: Path, args: argparse.Namespace) -> list[Path]:
    """The activation figure, a small comparison and a decision boundary."""
    from ..comparison import compare
    from ..data import datasets
    from ..network.builder import mlp
    from ..training.optim import Adam

    written = [plot.save(plot.activations_figure(), out / "activations.png")]

    settings: dict[str, Any] = dict(COMPARE_SETTINGS)
    seeds = range(args.seed, args.seed + settings.pop("seeds"))
    progress = sys.stdout.isatty() and not args.quiet
    print(
        f"\ncompare: the notes' five activations on the spiral, {len(seeds)} seeds, "
        f"{settings['epochs']} full-batch Adam steps"
    )
    result = compare(**settings, seeds=seeds, data_seed=args.seed, progress=progress)
    print(result.format_table())
    print(f"  (steps: until the loss is {result.settings['target_fraction']:g} × its first value)")
    written.append(plot.save(plot.compare_curves(result).figure, out / "compare.png"))
    for suffix, write in ((".csv", result.to_csv), (".json", result.to_json)):
        write(str(out / f"compare{suffix}"))
        written.append(out / f"compare{suffix}")

    x, y = datasets.spiral(seed=args.seed)
    net = mlp(2, (64,), 3, activation="relu", init="xavier", dtype="float64", seed=args.seed)
    net.fit(
        x,
        y,
        loss="softmax_cross_entropy",
        optimizer=Adam(lr=1e-2),
        epochs=settings["epochs"],
        batch_size=None,
    )
    ax = plot.decision_boundary(net, x, y, title="Spiral, 2-64-3 ReLU network")
    written.append(plot.save(ax.figure, out / "spiral-boundary.png"))
    return written

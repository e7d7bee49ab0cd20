"""Run the notes' two programs with shenjing's own parts and compare with the notes' loop.

Example:
  shenjing demo
"""

from __future__ import annotations

import argparse
import time

from .. import notes

HELP = "run the notes' two training programs and check them against the notes' loop"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and weights")


def run(args: argparse.Namespace) -> int:
    print("shenjing: the notes' two-layer networks, trained with shenjing's own parts")
    for name in notes.PROGRAMS:
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
    return 0

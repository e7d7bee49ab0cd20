"""Draw every activation of the notes and its derivative, one panel each.

Sigmoid, tanh, ReLU, leaky ReLU, ELU, softplus, GELU and a two-piece maxout, with their
values and derivatives computed by shenjing's own layers (forward and backward). Shaded:
the saturated tails, where |f'| has fallen below --threshold × its peak (the definition
'shenjing diagnose' uses), and ReLU's dead zone, where f' = 0. The tanh panel also draws
2σ(2x) − 1, the identity tanh(x) = 2σ(2x) − 1. PNG by default; SVG or PDF by the file's
extension.

Example:
  shenjing activations
  shenjing activations --out activations.svg
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import CommandError, require

HELP = "draw every activation and its derivative (the notes' picture)"

_FORMATS = (".png", ".svg", ".pdf")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        default="activations.png",
        metavar="FILE",
        help="the figure to write: .png (default activations.png), .svg or .pdf",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="saturated where |f'| < THRESHOLD × max |f'|, in (0, 1) (default 0.1)",
    )


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() not in _FORMATS:
        raise CommandError(f"--out must name a .png, .svg or .pdf file, got {args.out!r}", code=2)
    if args.threshold is not None and not 0 < args.threshold < 1:
        raise CommandError(f"--threshold must be in (0, 1), got {args.threshold:g}", code=2)
    require("matplotlib", "plot")
    from .. import plot

    kwargs = {} if args.threshold is None else {"threshold": args.threshold}
    path = plot.save(plot.activations_figure(**kwargs), out)
    print(f"wrote {path}")
    return 0

"""The ``shenjing`` command line (also ``python -m shenjing``).

Each sub-command lives in its own module of this package, named as the command, and
provides three things::

    HELP: str                                   # one line for ``shenjing --help``
    def add_arguments(parser) -> None           # its options (a CommandParser)
    def run(args: argparse.Namespace) -> int    # does the work; returns the exit status

Exit status: 0 success; 1 the work failed (bad data, unreadable file: one line on
stderr, no traceback unless ``--debug``); 2 bad command-line usage.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from ._common import CommandError, CommandParser, report_error

#: The commands, in the order ``--help`` lists them (the notes' order, then your own data).
COMMANDS = (
    "demo",
    "activations",
    "compare",
    "diagnose",
    "train",
    "predict",
    "info",
    "export",
    "playground",
)


def _load(name: str):
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        # Only a command that is not part of this build is skipped; a missing
        # dependency inside a command module is a real error.
        if exc.name == f"{__name__}.{name}":
            return None
        raise


def build_parser() -> CommandParser:
    """The argument parser with every available sub-command."""
    from ..base.version import __version__

    parser = CommandParser(
        prog="shenjing",
        description="shenjing (神经): neural networks on NumPy, from the notes to your own data.",
        epilog="Run 'shenjing COMMAND --help' for a command's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"shenjing {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    for name in COMMANDS:
        module = _load(name)
        if module is None:
            continue
        command = sub.add_parser(
            name,
            help=module.HELP,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.add_argument(
            "--quiet", action="store_true", help="print only results: no progress bar"
        )
        command.add_argument(
            "--debug", action="store_true", help="show the full traceback when something fails"
        )
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failed, 2 bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"shenjing {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``shenjing predict ... | head``): stop quietly, as Unix
        # tools do. Point stdout at /dev/null so Python's final flush cannot fail again.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if args.debug:
            raise
        return report_error(args.command, exc)


__all__ = ["COMMANDS", "CommandError", "build_parser", "main"]

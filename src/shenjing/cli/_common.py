"""What every command shares: the parser, errors and exit codes, optional imports."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import ModuleType
from typing import NoReturn

from ..base.errors import ShenjingError


class CommandError(Exception):
    """A failure to report as one line on stderr, with an exit status.

    Use ``code=2`` for a bad option found only after parsing (argparse's own usage errors
    also exit 2), and the default 1 for work that failed.
    """

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def report_error(command: str, exc: BaseException) -> int:
    """Print ``exc`` as one line for ``shenjing COMMAND`` and return its exit status."""
    if isinstance(exc, CommandError):
        code = exc.code
    elif isinstance(exc, (ShenjingError, OSError, ValueError)):
        code = 1
    else:
        # A bug, not a user's mistake: still one line, but say how to see more.
        print(
            f"shenjing {command}: internal error: {type(exc).__name__}: {exc} "
            "(run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
    message = str(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        message = f"{exc.filename}: {exc.strerror or exc}"
    print(f"shenjing {command}: error: {message}", file=sys.stderr)
    return code


def require(module: str, extra: str) -> ModuleType:
    """Import an optional dependency, or fail with the pip command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise CommandError(
            f"this needs {module.split('.')[0]}, which is not installed: "
            f"pip install 'shenjing[{extra}]'"
        ) from None


def add_force(parser: argparse.ArgumentParser) -> None:
    """The ``--force`` option of a command that writes a file."""
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the output file if it exists (never one of the command's inputs)",
    )


def check_output(out: str, inputs: list[str], force: bool, flag: str = "--out") -> None:
    """Refuse to write ``out`` over one of ``inputs``, or over any file without --force.

    Checked before any work, so a refused command has written nothing. Inputs are
    compared as files (the same inode), not as spellings of a path.
    """
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise CommandError(f"{flag} {out}: the folder {folder} does not exist", code=2)
    if os.path.isdir(out):
        raise CommandError(f"{flag} {out}: is a folder; give a file name", code=2)
    if not os.path.lexists(out):
        return
    for given in inputs:
        try:
            same = os.path.samefile(out, given)
        except OSError:
            same = os.path.abspath(out) == os.path.abspath(given)
        if same:
            raise CommandError(
                f"{flag} {out} is also an input of this command ({given}); writing it "
                "would destroy the input. Give another file name",
                code=2,
            )
    if not force:
        raise CommandError(
            f"{flag} {out} exists; pass --force to replace it, or give another file name",
            code=2,
        )

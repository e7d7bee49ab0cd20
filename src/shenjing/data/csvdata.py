"""Reading a CSV table for training or prediction, with one clear line for each problem.

:func:`read_csv` reads every cell as text (pandas, the ``csv`` extra) and checks the
things that would otherwise go wrong quietly: an empty file, a header without rows,
two columns with one name (pandas would rename the second ``a.1``), a row with more
or fewer fields than the header (pandas would fill or fail with a parser message), a
file that is not in the stated encoding, and a file read with the wrong delimiter.
Every message starts with the file's name and names the column or the line.

The frame's index is the line of the file each row starts on, so later checks
(missing values, unseen categories) can name the line too. Columns stay text; turning
them into numbers is :mod:`shenjing.data.preprocess`'s job, the same way at training and at
prediction time.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
from collections import Counter
from typing import Any

from ..base.errors import ConfigError, DataError, DTypeError
from ..base.files import read_regular

#: Delimiters worth suggesting when a file has one column whose name contains one.
_DELIMITERS = {",": "','", ";": "';'", "\t": "'\\t' (tab)", "|": "'|'"}

# Limits, checked before the work that grows with them (docs/file-format.md lists them).
#: Bytes of a CSV file (1 GiB): it is read whole, and pandas takes several times that.
MAX_CSV_BYTES = 2**30
#: Characters of one line (1 MiB), checked on the raw bytes before any parsing.
MAX_LINE_BYTES = 2**20
#: Characters of one cell (128 KiB, Python's csv default).
MAX_FIELD_CHARS = 2**17
#: Columns of a table.
MAX_COLUMNS = 10_000
#: Categories of one categorical column: each is one network input (a 0/1 column of
#: the (N, F) matrix), so an id column of 40,000 values would be a matrix of 40,000
#: columns. More is refused, naming the column.
MAX_CATEGORIES = 1000


def require_pandas() -> Any:
    """Import pandas, or fail with the command that installs it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(
            "reading CSV files needs pandas, which is not installed: pip install 'shenjing[csv]'"
        ) from None
    return pandas


def read_csv(path: str | os.PathLike[str], sep: str = ",", encoding: str = "utf-8") -> Any:
    """Read a CSV file with a header row into a ``pandas.DataFrame`` of text.

    Args:
        path: the file. Its first line names the columns.
        sep: the one-character delimiter, e.g. ``","``, ``";"`` or ``"\\t"``.
        encoding: the text encoding, e.g. ``"utf-8"`` (a byte-order mark is dropped)
            or ``"latin-1"``.

    Returns:
        A DataFrame with one column per header field, every cell a ``str`` or
        missing (NaN: an empty cell, or pandas' usual markers such as ``NA`` and
        ``nan``), indexed by the line of the file each row starts on (named ``line``).

    Raises:
        DataError: starting with the file's name: empty, header only, a duplicate or
            unnamed column, a row with the wrong number of fields (naming its line),
            bytes that are not ``encoding``, a single column that looks like the wrong
            delimiter; not a regular file (a FIFO, a device, a folder), or over a limit:
            :data:`MAX_CSV_BYTES`, :data:`MAX_LINE_BYTES`, :data:`MAX_FIELD_CHARS`,
            :data:`MAX_COLUMNS`.
        ConfigError: ``sep`` is not one character, or ``encoding`` is unknown.
        OSError: the file cannot be opened.
    """
    pd = require_pandas()
    name = _path(path)
    if not isinstance(encoding, str):
        raise ConfigError(f"encoding must be a string such as 'utf-8', got {encoding!r:.60}")
    if not isinstance(sep, str) or len(sep) != 1 or sep in '\r\n"':
        raise ConfigError(f"sep must be one character other than a quote or newline, got {sep!r}")
    raw = read_regular(name, MAX_CSV_BYTES, error=DataError, what="CSV file")
    _check_lines(raw, name)
    text = _decode(raw, encoding, name)
    if not text.strip():
        raise DataError(f"{name}: the file is empty; expected a header row and data rows")
    header, lines = _scan(text, sep, name)
    if not lines:
        raise DataError(f"{name}: the file has a header ({_preview(header)}) but no data rows")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            skip_blank_lines=True,
            skipinitialspace=False,
        )
    except pd.errors.ParserError as exc:
        # e.g. a quote opened and never closed: pandas' own row count is not a line number.
        raise DataError(f"{name}: cannot parse the file ({exc}); check the quoting") from None
    if len(frame) != len(lines):  # pandas and csv disagree on a quirk of quoting
        raise DataError(
            f"{name}: could not read the rows consistently ({len(lines)} rows by one "
            f"reading, {len(frame)} by another); check the quoting"
        )
    frame.columns = header
    frame.index = pd.Index(lines, name="line")
    return frame


def _path(path: Any) -> str:
    try:
        return os.fspath(path)
    except TypeError:
        raise DTypeError(f"path must be a str or os.PathLike, got {path!r:.60}") from None


def check_categories(cells: Any, name: str, source: str) -> None:
    """Refuse a categorical column of more than :data:`MAX_CATEGORIES` distinct values."""
    count = cells.nunique(dropna=True)
    if count > MAX_CATEGORIES:
        raise DataError(
            f"{source}: column {name!r} has {count} distinct values, more than the "
            f"{MAX_CATEGORIES} a categorical column may have (one network input each); "
            "drop it if it is an id, or give it in --numeric if it holds numbers"
        )


def nearest(name: str, choices: list[str]) -> str:
    """`` Did you mean 'x'?`` for the choice closest to ``name``, or ``""``."""
    lowered = {c.lower(): c for c in choices}
    if name.lower() in lowered:
        return f" Did you mean {lowered[name.lower()]!r}?"
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" Did you mean {lowered[close[0]]!r}?" if close else ""


def place(cells: Any, position: int) -> str:
    """Where row ``position`` of a column came from: ``line 7`` for a frame from
    :func:`read_csv`, else ``row 5`` (its index label)."""
    label = cells.index[position]
    return f"line {label}" if cells.index.name == "line" else f"row {label}"


def column_list(columns: list[str], limit: int = 20) -> str:
    """Columns as ``'a', 'b', 'c'``, cut after ``limit`` with a count of the rest."""
    shown = ", ".join(repr(c) for c in columns[:limit])
    return shown + (f" and {len(columns) - limit} more" if len(columns) > limit else "")


def _decode(raw: bytes, encoding: str, name: str) -> str:
    try:
        text = raw.decode(encoding)
    except LookupError:
        raise ConfigError(f"unknown encoding {encoding!r}; e.g. 'utf-8' or 'latin-1'") from None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise DataError(
            f"{name}: not {encoding} text: byte 0x{byte} on line {line} cannot be decoded; "
            "give the file's encoding, e.g. --encoding latin-1"
        ) from None
    return text.removeprefix("\ufeff")


def _check_lines(raw: bytes, name: str) -> None:
    """Refuse a line over :data:`MAX_LINE_BYTES`, in one pass over the raw bytes.

    The pattern can only start a match at the start of a line, so the scan is linear
    in the file's size whatever its lines are like.
    """
    found = _LONG_LINE.search(raw)
    if found:
        at_start = not found.group().startswith(b"\n")
        line = 1 if at_start else raw.count(b"\n", 0, found.start() + 1) + 1
        raise DataError(
            f"{name}: line {line} is longer than {MAX_LINE_BYTES} bytes; a CSV line this "
            "long is not a table this reader accepts"
        )


_LONG_LINE = re.compile(rb"(?:^|\n)[^\n]{%d}" % (MAX_LINE_BYTES + 1))


def _scan(text: str, sep: str, name: str) -> tuple[list[str], list[int]]:
    """The header, and the line each data row starts on, after checking every row's width."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    header: list[str] | None = None
    lines: list[int] = []
    old_limit = csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        for line, row in _rows(reader, name):
            if header is None:
                header = row
                _check_header(header, sep, name)
                continue
            if len(row) != len(header):
                raise DataError(
                    f"{name}: line {line} has {len(row)} field{'s' * (len(row) != 1)}, but "
                    f"the header has {len(header)}; check that line's delimiters and quotes"
                )
            lines.append(line)
    finally:
        csv.field_size_limit(old_limit)
    assert header is not None  # the caller has checked the text is not blank
    return header, lines


def _rows(reader: Any, name: str) -> Any:
    """(line, row) for each non-blank row; a cell over the field limit is a DataError."""
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(
                f"{name}: line {start}: {exc}; a cell may hold at most {MAX_FIELD_CHARS} "
                "characters (is a quote left open?)"
            ) from None
        line, start = start, reader.line_num + 1
        if row:  # a blank line, which pandas skips too
            yield line, row


def _check_header(header: list[str], sep: str, name: str) -> None:
    if len(header) > MAX_COLUMNS:
        raise DataError(
            f"{name}: the header has {len(header)} columns, more than the {MAX_COLUMNS} "
            "a table may have"
        )
    if len(header) == 1:
        others = [d for d in _DELIMITERS if d != sep and d in header[0]]
        if others:
            raise DataError(
                f"{name}: found a single column named {header[0][:60]!r}, which looks like "
                f"several joined by {_DELIMITERS[others[0]]}; the delimiter is {sep!r}: "
                f"pass --sep {_DELIMITERS[others[0]].split()[0]}"
            )
    for i, column in enumerate(header):
        if not column.strip():
            raise DataError(f"{name}: column {i + 1} of the header has no name")
    counts = Counter(header)
    for column, count in counts.items():
        if count > 1:
            places = [str(i + 1) for i, c in enumerate(header) if c == column]
            raise DataError(
                f"{name}: the header names column {column!r} {count} times "
                f"(columns {', '.join(places)}); column names must be unique"
            )


def _preview(header: list[str]) -> str:
    return column_list(header, limit=6)

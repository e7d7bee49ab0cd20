"""The limits a model file must keep, checked before any work that grows with them.

A model file comes from anywhere, so :func:`shenjing.load` bounds what a file can make
it do: every check here runs on a few bytes (the zip's end record, the JSON text before
parsing) and comes before the work it protects (parsing the zip's directory, parsing
the JSON, multiplying a shape). The limits are documented in ``docs/file-format.md``;
a file over one raises :class:`~shenjing.ModelFileError` naming the limit.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import zipfile
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import numpy as np

from ..base.checks import shown
from ..base.errors import DTypeError, ModelFileError
from ..base.files import open_regular

#: The largest model file read (64 GiB): a sanity bound, not a working one.
MAX_FILE_BYTES = 2**36
#: Members of the zip archive: ``shenjing.json`` plus one per parameter.
MAX_MEMBERS = 4096
#: Bytes of the zip's central directory (about 60 per member).
MAX_DIRECTORY_BYTES = 2**20
#: Bytes of ``shenjing.json``.
MAX_JSON_BYTES = 16 * 2**20
#: JSON objects and arrays in ``shenjing.json``, all levels together.
MAX_JSON_CONTAINERS = 200_000
#: JSON values in ``shenjing.json`` (counted by its separating commas).
MAX_JSON_VALUES = 1_000_000
#: How deeply JSON objects and arrays may nest.
MAX_JSON_DEPTH = 64
#: Characters of one JSON string (a name, a category, a metadata value).
MAX_JSON_STRING = 2**20
#: Magnitude of a JSON integer: 2**128, what a random generator's state (PCG64, as
#: Dropout saves it) needs; far below what would make arithmetic on it slow.
MAX_JSON_INT = 2**128
#: Dimensions of a parameter's shape.
MAX_NDIM = 32
#: The longest error message a load gives (a file's text is quoted cut short).
MAX_MESSAGE = 400

_END = b"PK\x05\x06"  # end of central directory record
_END64_LOCATOR = b"PK\x06\x07"
_END64 = b"PK\x06\x06"
# A JSON string, unrolled (no alternation per character) so that 16 MiB scans fast.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_NPY_DICT = re.compile(r"\{([^{}]*)\}[ ]*\n?")
_NPY_ITEM = re.compile(r"'(descr|fortran_order|shape)'\s*:\s*('[^']{1,20}'|True|False|\([^()]*\))")
# (), (7,), (2, 8) or (2, 8,): integers of at most 19 digits (below 2**63).
_NPY_SHAPE = re.compile(
    r"\(\s*\)|\(\s*\d{1,19}\s*,\s*\)|\(\s*\d{1,19}(?:\s*,\s*\d{1,19})+\s*,?\s*\)"
)


def read_archive(
    path: Any,
    read: Callable[[zipfile.ZipFile, int], Any],
    parse_errors: tuple[type[Exception], ...],
) -> Any:
    """``read(zf, file_size)`` on the zip archive at ``path``, bounded and reported.

    Only a regular file is opened, its end record is checked (:func:`check_archive`)
    before zipfile parses the directory, and any failure becomes one
    :class:`ModelFileError` line of at most :data:`MAX_MESSAGE` characters, starting
    with the path, its cause chained (``parse_errors``: what parsers raise on bad bytes).
    """
    try:
        name = os.fspath(path)
    except TypeError:
        raise DTypeError(f"path must be a str or os.PathLike, got {shown(path)}") from None
    try:
        with open_regular(name, MAX_FILE_BYTES, error=ModelFileError, what="model file") as f:
            size = os.fstat(f.fileno()).st_size
            check_archive(f, size)
            with zipfile.ZipFile(f) as zf:
                return read(zf, size)
    except ModelFileError as exc:
        message = str(exc) if str(exc).startswith(name) else f"{name}: {exc}"
        raise ModelFileError(_one_line(message)) from exc.__cause__
    except zipfile.BadZipFile as exc:
        raise ModelFileError(_one_line(f"{name}: not a model file, or corrupted: {exc}")) from exc
    except parse_errors as exc:
        raise ModelFileError(_one_line(f"{name}: cannot read model file: {exc}")) from exc


def _one_line(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def check_archive(f: BinaryIO, size: int) -> None:
    """Check the zip's member count and directory size from its end record alone.

    ``zipfile.ZipFile`` parses the whole central directory when it opens a file, so
    a directory of 400,000 entries costs seconds and hundreds of MB before any
    member is looked at; the end record, 22 bytes at the end of the file, says how
    many entries and how many directory bytes there are. It is found as zipfile
    finds it: the last 22 bytes, or else the last ``PK\\x05\\x06`` in the final 64 KiB.
    """
    if size < 22:
        raise ModelFileError(f"not a model file: {size} bytes is too short for a zip archive")
    tail_size = min(size, 22 + 65535)
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    at = len(tail) - 22 if tail[-22:-18] == _END and tail[-2:] == b"\0\0" else tail.rfind(_END)
    if at < 0 or at + 22 > len(tail):
        raise ModelFileError("not a model file: no zip end record")
    entries, directory = struct.unpack("<xxxxxxxxxxHI", tail[at : at + 16])
    locator = tail[at - 20 : at] if at >= 20 else b""
    if locator[:4] == _END64_LOCATOR:
        (offset,) = struct.unpack("<Q", locator[8:16])
        if offset > size - 56:
            raise ModelFileError("corrupted: the zip64 end record lies outside the file")
        f.seek(offset)
        record = f.read(56)
        if record[:4] != _END64:
            raise ModelFileError("corrupted: no zip64 end record where the locator points")
        entries, directory = struct.unpack("<QQ", record[32:48])
    if entries > MAX_MEMBERS:
        raise ModelFileError(
            f"the archive has {entries} members, more than the {MAX_MEMBERS} a model file may"
        )
    if directory > MAX_DIRECTORY_BYTES:
        raise ModelFileError(
            f"the archive's directory has {directory} bytes, more than the "
            f"{MAX_DIRECTORY_BYTES} a model file may"
        )
    f.seek(0)


def parse_json(raw: bytes, where: str) -> Any:
    """Parse ``raw`` as UTF-8 JSON after bounding what parsing it would build.

    Strings are blanked out first (a bracket inside one is text); the rest is then
    counted with NumPy in a few passes: containers, commas, and the depth (the running
    sum of opening minus closing brackets). Integers are bounded by a hook, floats must
    be finite, keys unique; long strings are refused after parsing, with bounded cost.
    """
    if len(raw) > MAX_JSON_BYTES:
        raise ModelFileError(f"{where} has {len(raw)} bytes, more than {MAX_JSON_BYTES}")
    longest = max((m.end() - m.start() for m in _STRING.finditer(raw)), default=0)
    if longest > MAX_JSON_STRING + 2:
        raise ModelFileError(
            f"{where} holds a string of about {longest - 2} bytes, more than {MAX_JSON_STRING}"
        )
    skeleton = _STRING.sub(b'""', raw)
    containers = skeleton.count(b"[") + skeleton.count(b"{")
    if containers > MAX_JSON_CONTAINERS:
        raise ModelFileError(
            f"{where} has {containers} objects and arrays, more than {MAX_JSON_CONTAINERS}"
        )
    values = skeleton.count(b",")
    if values > MAX_JSON_VALUES:
        raise ModelFileError(f"{where} has {values} values, more than {MAX_JSON_VALUES}")
    brackets = _NOT_BRACKET.sub(b"", skeleton)
    if len(brackets) > 2 * containers:
        raise ModelFileError(f"{where} is not valid JSON: it closes more brackets than it opens")
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    deepest = int(np.cumsum(steps).max()) if steps.size else 0
    if deepest > MAX_JSON_DEPTH:
        raise ModelFileError(f"{where} nests {deepest} levels deep, more than {MAX_JSON_DEPTH}")
    try:
        return json.loads(
            raw.decode("utf-8"),
            parse_int=_bounded_int,
            parse_constant=_finite_float,  # NaN, Infinity, -Infinity
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{where} is not valid UTF-8 JSON: {str(exc)[:200]}") from exc


def npy_header(data: bytes) -> tuple[tuple[int, int], tuple[tuple[int, ...], bool, str], int]:
    """Parse a ``.npy`` member's header: (version, (shape, fortran_order, descr), offset).

    NumPy reads this header with ``ast.literal_eval``, which compiles the text (an
    audit ``compile`` event; safe, but code machinery run on a file's bytes). This
    reads the one dictionary form the format allows with regular expressions only:
    the keys ``descr``, ``fortran_order`` and ``shape`` in any order, a quoted
    ``descr``, ``True``/``False`` and a tuple of integers of at most 19 digits.

    Raises:
        ValueError: not a ``.npy`` header of that form (the caller reports it).
    """
    if len(data) < 10 or data[:6] != b"\x93NUMPY":
        raise ValueError("not a .npy member: the magic bytes are missing")
    version = (data[6], data[7])
    if version != (1, 0):
        return version, ((), False, ""), 0
    (length,) = struct.unpack("<H", data[8:10])
    if 10 + length > len(data):
        raise ValueError("the .npy header runs past the member")
    try:
        header = data[10 : 10 + length].decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("the .npy header is not ASCII") from None
    body = _NPY_DICT.fullmatch(header)
    if body is None:
        raise ValueError(f"the .npy header is not a dictionary: {header[:60]!r}")
    items = dict(_NPY_ITEM.findall(body[1]))
    if set(items) != {"descr", "fortran_order", "shape"} or _NPY_ITEM.sub("", body[1]).strip(", "):
        raise ValueError(f"the .npy header has other keys or values: {header[:80]!r}")
    shape_text = items["shape"]
    if not _NPY_SHAPE.fullmatch(shape_text):
        raise ValueError(f"the .npy shape is not a tuple of integers: {shape_text[:60]!r}")
    shape = tuple(int(d) for d in re.findall(r"\d+", shape_text))
    return version, (shape, items["fortran_order"] == "True", items["descr"][1:-1]), 10 + length


def product_at_most(values: Iterable[int], limit: int) -> bool:
    """Whether the product of non-negative ``values`` is at most ``limit``.

    Stops as soon as the running product passes ``limit``, so a long list of large
    integers costs no more than a short one (``math.prod`` would build the full,
    possibly million-digit, product first).
    """
    product = 1
    for value in values:
        if value == 0:
            return True
        product *= value
        if product > limit:
            # Only a later zero could bring it back down.
            return any(v == 0 for v in values)
    return True


def _bounded_int(text: str) -> int:
    # Digits are counted before int() converts them: int() of a 4,000-digit string is
    # quadratic, and Python refuses longer ones with its own error.
    if len(text.lstrip("-")) > 39:
        raise ValueError(f"the integer {text[:30]}… is larger than {MAX_JSON_INT}")
    value = int(text)
    if abs(value) > MAX_JSON_INT:
        raise ValueError(f"the integer {value} is larger than {MAX_JSON_INT}")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:30]} is not a finite number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Readers differ on which of two equal keys wins, so a file must not have any.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("an object repeats a key")
    return obj

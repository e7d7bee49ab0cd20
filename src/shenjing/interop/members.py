"""The members of a model file's ZIP archive: written stored, read within bounds.

Every read checks a member's declared size before reading it (a header claiming
gigabytes costs nothing) and compares a ``.npy`` member's header with what
``shenjing.json`` declares before anything is made of its data; zipfile checks each
member's CRC-32 as its last byte is read.
"""

from __future__ import annotations

import zipfile
from typing import Any, BinaryIO

import numpy as np

from ..base.checks import shown
from ..base.errors import ModelFileError
from . import bounded

#: Room for a member's .npy magic and header (about 128 bytes here) on top of its data.
_NPY_HEADER_MAX = 4096


def zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16  # what unzip gives the extracted file
    return info


def write_zip(f: BinaryIO, first: tuple[str, bytes], arrays: dict[str, np.ndarray | bytes]) -> None:
    """Write a ZIP of *stored* members: ``first`` (name, bytes), then ``arrays`` in order.

    An array becomes a little-endian, C-order ``.npy`` 1.0 member; bytes are written as
    they are (a section's JSON).
    """
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(zip_info(first[0]), first[1])
        for name, value in arrays.items():
            if isinstance(value, bytes):  # a section's JSON
                zf.writestr(zip_info(name), value)
                continue
            # Little-endian C order on every machine, as the format promises.
            value = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
            with zf.open(zip_info(name), "w", force_zip64=value.nbytes > 2**30) as out:
                np.lib.format.write_array(out, value, version=(1, 0), allow_pickle=False)


def read_member(zf: zipfile.ZipFile, name: str, low: int, high: int, file_size: int) -> bytes:
    """A member's bytes, after checking its declared size lies in ``[low, high]``.

    The check comes before reading so that a header claiming gigabytes (a zip bomb, or a
    flipped bit) costs nothing; ``zf.read`` then checks the CRC-32.
    """
    return zf.read(checked_info(zf, name, low, high, file_size))


def checked_info(
    zf: zipfile.ZipFile, name: str, low: int, high: int, file_size: int
) -> zipfile.ZipInfo:
    info = zf.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        raise ModelFileError(f"member {name} is compressed or encrypted; members are stored")
    size, high = info.file_size, min(high, file_size)
    if not low <= size <= high or info.compress_size != size:
        raise ModelFileError(f"member {name} claims {size} bytes; expected {low} to {high}")
    return info


def read_array_into(zf: zipfile.ZipFile, name: str, out: np.ndarray, file_size: int) -> None:
    """Stream member ``name`` into ``out`` (C order, the file's byte order), 1 MiB at a time.

    Memory is ``out`` plus one chunk, not the member's bytes and a copy; the CRC-32 is
    checked by zipfile as the last byte is read (a mismatch raises before ``out`` is used).
    """
    nbytes = out.nbytes
    info = checked_info(zf, name, nbytes, nbytes + _NPY_HEADER_MAX, file_size)
    with zf.open(info) as member:
        prefix = member.read(10)
        length = int.from_bytes(prefix[8:10], "little") if len(prefix) == 10 else 0
        prefix += member.read(length)
        version, header, offset = bounded.npy_header(prefix)
        _check_npy(name, version, header, (out.shape, False, out.dtype.str))
        if info.file_size - offset != nbytes:
            raise ModelFileError(
                f"member {name} has {info.file_size - offset} data bytes, not {nbytes}"
            )
        view = out.data.cast("B")
        at = 0
        while at < nbytes:
            chunk = member.read(min(2**20, nbytes - at))
            if not chunk:
                raise ModelFileError(f"member {name} ends after {at} of {nbytes} data bytes")
            view[at : at + len(chunk)] = chunk
            at += len(chunk)
        member.read(1)  # the end: zipfile checks the CRC-32 here


def _check_npy(name: str, version: Any, header: Any, expected: Any) -> None:
    if version != (1, 0):
        raise ModelFileError(f"member {name} is .npy version {version}, expected (1, 0)")
    # Compare the header with shenjing.json before anything is made of the data.
    if header != expected:
        raise ModelFileError(
            f"member {name} holds (shape, fortran_order, dtype) {shown(header, 120)}, "
            f"expected {expected}"
        )


def check_fits(name: str, shape: tuple[int, ...], dtype: np.dtype, file_size: int) -> None:
    if not bounded.product_at_most(shape, file_size // dtype.itemsize):
        raise ModelFileError(
            f"member {name} claims shape {shown(list(shape))}, more than the {file_size} "
            "bytes of the file hold"
        )


def read_array(
    zf: zipfile.ZipFile, name: str, shape: tuple[int, ...], dtype: np.dtype, file_size: int
) -> np.ndarray:
    check_fits(name, shape, dtype, file_size)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    data = read_member(zf, name, nbytes, nbytes + _NPY_HEADER_MAX, file_size)
    version, header, offset = bounded.npy_header(data)
    _check_npy(name, version, header, (shape, False, dtype.str))
    if len(data) - offset != nbytes:
        raise ModelFileError(f"member {name} has {len(data) - offset} data bytes, not {nbytes}")
    # A view of the member's bytes, not a copy: the layer copies it into its own arrays.
    value = np.frombuffer(data, dtype=dtype, count=nbytes // dtype.itemsize, offset=offset)
    return value.reshape(shape)

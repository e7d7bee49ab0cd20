"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from typing import BinaryIO

from .errors import ShenjingError


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[BinaryIO], object],
    *,
    error: type[ShenjingError],
) -> None:
    """Write a file by ``write(f)`` into a temporary file beside it, then rename it over.

    The temporary file is flushed and fsynced before ``os.replace``, so a crash at any
    point leaves either the old file or the complete new one. The new file gets the
    permissions an ordinary ``open(path, "wb")`` would give it.

    Raises:
        error: the folder does not exist, or ``path`` is a folder.
    """
    target = os.path.abspath(path)
    folder, name = os.path.split(target)
    if not os.path.isdir(folder):
        raise error(f"cannot write {str(path)!r}: the folder {folder!r} does not exist")
    if os.path.isdir(target):
        raise error(f"cannot write {str(path)!r}: it is a folder")
    mode = _file_mode(target)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    # The rename is durable only once the folder's entry is on disk; not every system
    # can open a folder (Windows cannot), hence best effort.
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _file_mode(target: str) -> int:
    """The permissions ``open(target, "wb")`` would leave (mkstemp's file is 0o600)."""
    with contextlib.suppress(OSError):
        return os.stat(target).st_mode & 0o777
    umask = os.umask(0)  # the only way to read it; set straight back
    os.umask(umask)
    return 0o666 & ~umask

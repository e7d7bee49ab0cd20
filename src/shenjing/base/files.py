"""Atomic file writes, and reads bounded to regular files.

:func:`atomic_write`: a reader sees the old file or the new one, never half of one.
:func:`read_regular`: only a regular file of at most a given size is read, so a FIFO,
``/dev/zero``, ``/dev/urandom`` or a folder given as a path fails at once instead of
blocking for ever or filling memory.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import stat
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
    remove_leftovers(target)
    # The name says what it is and whose: ``.NAME.PID-xxxxxxxx.tmp``.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.{os.getpid()}-", suffix=".tmp")
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


def remove_leftovers(target: str) -> list[str]:
    """Remove the temporary files of earlier writes of ``target`` that were killed.

    A write killed mid-way (SIGKILL, a power cut) cannot remove its own temporary file;
    the next write to the same path does. Only files of a process that no longer runs
    are removed, so a concurrent write by a live process (this one too) is left alone.
    Returns the paths removed.
    """
    folder, name = os.path.split(target)
    removed = []
    pattern = os.path.join(glob.escape(folder), f".{glob.escape(name)}.*.tmp")
    # ``.NAME.PID-xxxxxxxx.tmp``, and ``.NAME.xxxxxxxx.tmp`` from shenjing 0.1.0's writer.
    for path in glob.glob(pattern):
        middle = os.path.basename(path)[len(name) + 2 : -len(".tmp")]
        pid, _, rest = middle.partition("-")
        if rest:
            if len(rest) != 8 or not pid.isdigit():
                continue  # not a name this writer gives
            # This process's own (another thread's write) and a live one's are in use.
            if int(pid) == os.getpid() or _running(int(pid)):
                continue
        elif len(pid) != 8:
            continue
        with contextlib.suppress(OSError):
            os.remove(path)
            removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # someone else's process, or no way to tell: leave its file
    return True


def read_regular(
    path: str | os.PathLike[str],
    max_bytes: int,
    *,
    error: type[ShenjingError],
    what: str = "file",
) -> bytes:
    """The bytes of ``path``, if it is a regular file of at most ``max_bytes``.

    The file is opened without blocking (a FIFO with no writer would otherwise wait
    for ever) and its type and size are checked on the open descriptor before any
    byte is read, so a device, a FIFO or a folder costs nothing.

    Raises:
        error: ``path`` is not a regular file, or is larger than ``max_bytes``.
        OSError: it cannot be opened (missing, no permission).
    """
    with open_regular(path, max_bytes, error=error, what=what) as f:
        info = os.fstat(f.fileno())
        data = f.read(info.st_size + 1)
    if len(data) > info.st_size:  # it grew while being read
        raise error(f"{os.fspath(path)}: the {what} changed while it was read")
    return data


def check_regular(
    info: os.stat_result, name: str, max_bytes: int, *, error: type[ShenjingError], what: str
) -> None:
    """Raise ``error`` unless ``info`` (from ``os.fstat``) is a regular file of <= max_bytes."""
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a folder"
            if stat.S_ISDIR(info.st_mode)
            else "a FIFO (named pipe)"
            if stat.S_ISFIFO(info.st_mode)
            else "a device or socket"
        )
        # The OSError an ordinary open() would have given, as the cause.
        cause = OSError(errno.EISDIR if stat.S_ISDIR(info.st_mode) else errno.EINVAL, kind, name)
        raise error(f"{name}: is {kind}, not a regular file; give the path of a {what}") from cause
    if info.st_size > max_bytes:
        raise error(
            f"{name}: the {what} has {info.st_size} bytes, more than the {max_bytes} "
            "this reader accepts"
        )


def open_regular(
    path: str | os.PathLike[str],
    max_bytes: int,
    *,
    error: type[ShenjingError],
    what: str = "file",
) -> BinaryIO:
    """``path`` opened for reading, after the checks of :func:`read_regular`."""
    name = os.fspath(path)
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        check_regular(os.fstat(fd), name, max_bytes, error=error, what=what)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _file_mode(target: str) -> int:
    """The permissions ``open(target, "wb")`` would leave (mkstemp's file is 0o600)."""
    with contextlib.suppress(OSError):
        return os.stat(target).st_mode & 0o777
    umask = os.umask(0)  # the only way to read it; set straight back
    os.umask(umask)
    return 0o666 & ~umask

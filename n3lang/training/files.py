"""Opening files that come from outside: regular files only, read within a size limit.

``open()`` on a FIFO blocks until a writer comes, and ``read()`` of ``/dev/zero`` never ends;
every file n3 reads because a user named it (a dataset, the registry, a config, ``--input
@file``, a model file) goes through :func:`open_regular`, which opens without blocking, refuses
anything that is not a regular file, and through :func:`read_limited`, which stops at a limit.
"""

from __future__ import annotations

import fcntl
import os
import stat


class NotRegularFile(OSError):
    """The path names a directory, a FIFO, a device or a socket (``strerror`` says which)."""


class TooLarge(OSError):
    """The file is larger than the limit it is read with (``size`` and ``limit`` in bytes)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"it is {size} bytes, larger than the {limit}-byte limit")
        self.size = size
        self.limit = limit
        self.strerror = str(self)


def kind_of(mode: int) -> str:
    """What a non-regular file is, for a message ("a directory", "a FIFO (named pipe)"...)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | os.PathLike):
    """A binary file object for ``path`` when it is a regular file (symlinks followed). Raises
    NotRegularFile (never blocks on a FIFO: it is opened non-blocking and checked with fstat),
    FileNotFoundError and the other OSErrors of open(2)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = kind_of(mode)
            err = NotRegularFile(f"{os.fspath(path)} is {what}, not a regular file")
            err.strerror = f"is {what}, not a regular file"
            err.filename = os.fspath(path)
            raise err
        if hasattr(os, "O_NONBLOCK"):
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of the regular file ``path``; TooLarge when it holds more than ``limit`` (it is
    never read past the limit, even when it grows while being read)."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise TooLarge(size, limit)
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(len(data), limit)
    return data


def is_regular(path: str | os.PathLike) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


__all__ = ["NotRegularFile", "TooLarge", "kind_of", "open_regular", "read_limited", "is_regular"]

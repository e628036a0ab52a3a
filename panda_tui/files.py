"""Reading the files a user hands us (jobs.toml, the secrets file) without ever hanging or swallowing a
huge one: the type is checked on the open descriptor, so a FIFO or a device swapped in is refused, not read."""

from __future__ import annotations

import os
import stat

KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFSOCK: "a socket",
         stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device"}


class FileRefused(Exception):
    """Why the file is not read, in words that follow its path."""


def read_regular(path: str, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. OSError when it cannot be opened (the caller
    names it); FileRefused when it is not a regular file or is too big."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO opens without waiting
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"is {KINDS.get(stat.S_IFMT(info.st_mode), 'not a regular file')}, "
                              "expected a regular file")
        if info.st_size > limit:
            raise FileRefused(f"is {size_text(info.st_size)}, more than the {size_text(limit)} this reads")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise FileRefused(f"grew past {size_text(limit)} while it was read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_capped(fd: int, limit: int) -> bytes:
    """All of a stream (a pipe, a terminal, a device, a file) up to `limit` bytes; FileRefused past that, so
    /dev/zero or an endless pipe costs `limit` bytes of memory, never more."""
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = os.read(fd, min(1 << 20, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
    raise FileRefused(f"is more than the {size_text(limit)} this reads")


def size_text(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} bytes"

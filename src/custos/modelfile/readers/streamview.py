"""Seekable views of byte streams: windows onto part of a file, spooled decompression output.

Scanners never read a whole file into memory, except a file of at most 1 MiB
(dispatch.SMALL_FILE), which is cheaper to read once than through many small reads. An
archive member stored uncompressed is handed on as a `Window` (a bounded, seekable view of
the archive itself); decompressed data is spooled to a temporary file that lives in memory
while small and on disk when large.
"""

from __future__ import annotations

import bisect
import io
import os
from collections.abc import Iterable
from typing import BinaryIO, cast

CHUNK = 1 << 20
SPOOL_IN_MEMORY = 32 << 20


class Window(io.RawIOBase):
    """Read-only view of `length` bytes of `base` starting at `start` (clipped to what exists).
    Reading it leaves `base` where it was, so a parser can look at a payload and go on."""

    def __init__(self, base: BinaryIO, start: int, length: int) -> None:
        super().__init__()
        self._base = base
        self._start = max(0, start)
        self._length = max(0, length) if start >= 0 else 0
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            target = offset
        elif whence == os.SEEK_CUR:
            target = self._pos + offset
        elif whence == os.SEEK_END:
            target = self._length + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if target < 0:
            raise ValueError("negative seek position")
        self._pos = target
        return target

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        remaining = self._length - self._pos
        if remaining <= 0:
            return 0
        view = memoryview(buffer).cast("B")
        want = min(len(view), remaining)
        here = self._base.tell()
        try:
            self._base.seek(self._start + self._pos)
            data = self._base.read(want)
        finally:
            self._base.seek(here)
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)


def window(base: BinaryIO, start: int, length: int) -> BinaryIO:
    """A buffered, seekable view of part of `base`."""
    return cast(BinaryIO, io.BufferedReader(Window(base, start, length), buffer_size=1 << 16))


def stream_size(stream: BinaryIO) -> int:
    """Size of a seekable stream; its position is kept."""
    here = stream.tell()
    size = stream.seek(0, os.SEEK_END)
    stream.seek(here)
    return size


def read_at(stream: BinaryIO, offset: int, size: int) -> bytes:
    """Up to `size` bytes at `offset` (fewer at end of stream, none before its start)."""
    if offset < 0 or size <= 0:
        return b""
    stream.seek(offset)
    return stream.read(size)


def new_spool() -> BinaryIO:
    """An empty temporary file: memory while small, disk when large; deleted on close."""
    import tempfile  # imported when first needed: a scan of plain files never spools

    return cast(BinaryIO, tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY))


def spool(chunks: Iterable[bytes]) -> BinaryIO:
    """Write chunks to a new spool and rewind it."""
    out = new_spool()
    for chunk in chunks:
        out.write(chunk)
    out.seek(0)
    return out


def seekable(stream: BinaryIO, limit: int) -> tuple[BinaryIO, bool]:
    """`stream` itself when seekable, else a spooled copy of at most `limit` bytes.

    The flag says whether the copy was cut at the limit.
    """
    try:
        if stream.seekable():
            return stream, False
    except (OSError, ValueError):
        pass
    out = new_spool()
    copied = 0
    while copied < limit:
        chunk = stream.read(min(CHUNK, limit - copied))
        if not chunk:
            break
        out.write(chunk)
        copied += len(chunk)
    cut = copied >= limit and bool(stream.read(1))
    out.seek(0)
    return out, cut


class Segments(io.RawIOBase):
    """The concatenation of several [start, start+length) ranges of `base`, read as one stream.

    Used to show a pickle analyser only the pickle bytes of a stream that interleaves pickles
    with raw data (joblib arrays, legacy PyTorch storages). `real(offset)` maps back.
    """

    def __init__(self, base: BinaryIO, ranges: list[tuple[int, int]]) -> None:
        super().__init__()
        self._base = base
        self._ranges = [(start, length) for start, length in ranges if length > 0]
        self._virtual: list[int] = []
        total = 0
        for _, length in self._ranges:
            self._virtual.append(total)
            total += length
        self._length = total
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._length}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def _index(self, offset: int) -> int:
        return max(0, bisect.bisect_right(self._virtual, offset) - 1)

    def real(self, offset: int) -> int:
        """The offset in `base` of virtual `offset`."""
        if not self._ranges:
            return offset
        i = self._index(offset)
        return self._ranges[i][0] + offset - self._virtual[i]

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._length:
            i = self._index(self._pos)
            start, length = self._ranges[i]
            inside = self._pos - self._virtual[i]
            want = min(len(view) - done, length - inside)
            self._base.seek(start + inside)
            data = self._base.read(want)
            if not data:
                break
            view[done : done + len(data)] = data
            done += len(data)
            self._pos += len(data)
        return done

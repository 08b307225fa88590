"""Reading pickle opcodes the way `pickle._Unpickler` does: the opcode table (from pickletools)
and a byte source with the unpickler's two cursors, the file and the current FRAME.

A FRAME is read as one block, so a loader's own reads from the file (joblib's array bytes) start
after the current frame, and an argument that runs past a frame's end is an error, as in CPython.
"""

from __future__ import annotations

import pickletools
from typing import BinaryIO


class WalkError(Exception):
    """The stream is not a pickle the loader would accept at `pos`."""

    def __init__(self, pos: int, message: str) -> None:
        super().__init__(f"{message} at byte {pos}")
        self.pos = pos


class Truncated(WalkError):
    """The stream ends inside a pickle."""


ARG: dict[int, tuple[str, int]] = {}
for _op in pickletools.opcodes:
    _code = _op.code.encode("latin-1")[0]
    _desc = _op.arg
    if _desc is None:
        ARG[_code] = ("none", 0)
    elif _desc.name == "stringnl_noescape_pair":
        ARG[_code] = ("lines", 2)
    elif _desc.n == pickletools.UP_TO_NEWLINE:
        ARG[_code] = ("lines", 1)
    elif _desc.n > 0:
        ARG[_code] = ("fixed", _desc.n)
    else:
        prefix = {
            pickletools.TAKEN_FROM_ARGUMENT1: 1,
            pickletools.TAKEN_FROM_ARGUMENT4: -4,
            pickletools.TAKEN_FROM_ARGUMENT4U: 4,
            pickletools.TAKEN_FROM_ARGUMENT8U: 8,
        }[_desc.n]
        ARG[_code] = ("counted", prefix)
NAMES = {op.code.encode("latin-1")[0]: op.name for op in pickletools.opcodes}
TEXT = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE"}
TEXT.add("BINUNICODE8")
BYTES = {"BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"}


class Source:
    """Byte reader with the unpickler's two cursors: the file and the current frame."""

    def __init__(self, stream: BinaryIO, start: int, size: int) -> None:
        self.stream = stream
        self.size = size
        self.file_pos = start
        self.frame_pos = 0
        self.frame_end = 0
        self._buf = b""
        self._buf_at = 0

    @property
    def pos(self) -> int:
        return self.frame_pos if self.frame_pos < self.frame_end else self.file_pos

    def _pread(self, at: int, n: int) -> bytes:
        end = at + n
        if self._buf_at <= at and end <= self._buf_at + len(self._buf):
            return self._buf[at - self._buf_at : end - self._buf_at]
        self.stream.seek(at)
        self._buf = self.stream.read(max(n, 1 << 16))
        self._buf_at = at
        return self._buf[:n]

    def _take(self, n: int, read: bool) -> bytes:
        if self.frame_pos < self.frame_end:
            if self.frame_pos + n > self.frame_end:
                raise WalkError(self.frame_pos, "pickle exhausted before end of frame")
            at, self.frame_pos = self.frame_pos, self.frame_pos + n
        else:
            at = self.file_pos
            if at + n > self.size:
                raise Truncated(at, "stream ends inside a pickle")
            self.file_pos += n
        return self._pread(at, n) if read else b""

    def read(self, n: int) -> bytes:
        return self._take(n, True)

    def skip(self, n: int) -> None:
        self._take(n, False)

    def readline(self, limit: int) -> bytes:
        in_frame = self.frame_pos < self.frame_end
        at = self.pos
        end = self.frame_end if in_frame else self.size
        scanned = b""
        while True:
            chunk = self._pread(at + len(scanned), min(1 << 16, end - at - len(scanned)))
            nl = chunk.find(b"\n")
            if nl >= 0:
                line = scanned + chunk[: nl + 1]
                self._take(len(line), False)
                return line
            scanned += chunk
            if at + len(scanned) >= end or not chunk:
                if in_frame:
                    raise WalkError(at, "pickle exhausted before end of frame")
                raise Truncated(at, "stream ends inside a line argument")
            if len(scanned) > limit:
                raise WalkError(at, f"line argument longer than {limit} bytes")

    def start_frame(self, length: int) -> None:
        if self.frame_pos < self.frame_end:
            raise WalkError(self.frame_pos, "new frame before end of current frame")
        if self.file_pos + length > self.size:
            raise Truncated(self.file_pos, "frame extends past end of stream")
        self.frame_pos, self.frame_end = self.file_pos, self.file_pos + length
        self.file_pos += length

    def raw_skip(self, length: int) -> tuple[int, int]:
        """Consume `length` bytes from the file cursor (as a loader's own read does)."""
        at = self.file_pos
        if length < 0 or at + length > self.size:
            raise Truncated(at, f"{length} raw bytes expected past end of stream")
        self.file_pos += length
        return at, length

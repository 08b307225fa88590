"""Reading pickle opcodes the way `pickle._Unpickler` does: the opcode table (from pickletools)
and a byte source with the unpickler's two cursors, the file and the current FRAME.

A FRAME is read as one block, so a loader's own reads from the file (joblib's array bytes) start
after the current frame, and an argument that runs past a frame's end is an error, as in CPython.
"""

from __future__ import annotations

import pickletools
import re
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

    def __init__(self, stream: BinaryIO, start: int, size: int, *, frames: bool = True) -> None:
        self.stream = stream
        self.size = size
        # False: a FRAME opcode is read past as `_pickle.c` does (its frames are only a
        # read-ahead: opcodes may cross a frame's end, and a frame may run past the end of the
        # data for `pickle._Unpickler`), so no reading that a loader accepts is refused.
        self.frames = frames
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
        at = self.file_pos
        off = at - self._buf_at
        if (
            self.frame_pos >= self.frame_end
            and at + n <= self.size
            and off >= 0
            and off + n <= len(self._buf)
        ):  # the common case, out of a frame and in the buffer: `_take` without the calls
            self.file_pos = at + n
            return self._buf[off : off + n]
        return self._take(n, True)

    def skip(self, n: int) -> None:
        self._take(n, False)

    def readline(self, limit: int) -> bytes | None:
        """The line at the cursor, newline included; None when it is longer than `limit` (it is
        skipped, not kept: a loader reads lines of any length). Linear in the line's length."""
        in_frame = self.frame_pos < self.frame_end
        at = self.pos
        end = self.frame_end if in_frame else self.size
        parts: list[bytes] = []
        length = 0
        while True:
            chunk = self._pread(at + length, min(1 << 16, end - at - length))
            nl = chunk.find(b"\n")
            if nl >= 0:
                length += nl + 1
                self._take(length, False)
                if length > limit:
                    return None
                return b"".join([*parts, chunk[: nl + 1]])
            length += len(chunk)
            if length <= limit:
                parts.append(chunk)
            else:
                parts.clear()
            if at + length >= end or not chunk:
                if in_frame:
                    raise WalkError(at, "pickle exhausted before end of frame")
                raise Truncated(at, "stream ends inside a line argument")

    def skip_run(self, run: re.Pattern[bytes]) -> None:
        """Pass over the bytes `run` matches at the cursor, in the current frame or the file
        (never across a frame's end: the next frame is entered by its own opcode)."""
        while True:
            in_frame = self.frame_pos < self.frame_end
            at = self.pos
            end = self.frame_end if in_frame else self.size
            chunk = self._pread(at, min(1 << 16, end - at))
            found = run.match(chunk)
            if found is None:
                return
            if in_frame:
                self.frame_pos += found.end()
            else:
                self.file_pos += found.end()
            if found.end() < len(chunk) or at + found.end() >= end:
                return

    def start_frame(self, length: int) -> None:
        if not self.frames:
            return
        if self.frame_pos < self.frame_end:
            raise WalkError(self.frame_pos, "new frame before end of current frame")
        # pickle.py reads what there is of a frame that claims too much and unpickles from it
        # (joblib and dill build on it): the walk does the same, so a member is judged as a file.
        length = min(length, max(0, self.size - self.file_pos))
        self.frame_pos, self.frame_end = self.file_pos, self.file_pos + length
        self.file_pos += length

    def raw_skip(self, length: int) -> tuple[int, int]:
        """Consume `length` bytes from the file cursor (as a loader's own read does)."""
        at = self.file_pos
        if length < 0 or at + length > self.size:
            raise Truncated(at, f"{length} raw bytes expected past end of stream")
        self.file_pos += length
        return at, length

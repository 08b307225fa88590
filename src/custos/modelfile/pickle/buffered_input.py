"""The byte source under the pickle reader: a buffered stream that follows frames.

`PickleInput` reads the stream in chunks and never holds the file: payloads longer than
`keep_bytes` (tensor data, raw array bytes) are skipped by seeking and stand in as a `Blob` that
says where they are, to be fetched again or opened as a nested file when a caller wants them.
Decoding opcodes and their arguments is left to `OpReader` (reader), which builds on this.

Frames (protocol 4+) are where CPython's two unpicklers disagree: `pickle.py` refuses an opcode
or argument that crosses a frame's end, while `_pickle.c` either reads straight on (in-memory
input, or a file it can peek) or throws the rest of its frame buffer away and reads on from the
file (a file object without `peek`, such as the BytesIO that `torch.load` hands it). The input
reports each crossing as a `ReaderIssue`; with `discard_frames=True` it follows the second
reading, so a caller can analyse a stream both ways.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import BinaryIO, cast

from custos.modelfile.pickle.errors import Truncated
from custos.modelfile.pickle.ops import BY_CODE
from custos.modelfile.readers.streamview import Window

CHUNK = 1 << 16  # refill size: small, since a refill often follows a seek over a payload
INF = sys.maxsize


@dataclass(frozen=True, slots=True)
class Blob:
    """A payload too long to keep: its place in the stream, its length and first bytes."""

    offset: int
    length: int
    kind: str  # payload kind: "bytes", "bytearray", "str", "py2str", "int"; "line" for text
    head: bytes


@dataclass(frozen=True)
class ReaderIssue:
    """Something the reader noticed without stopping: frame crossings, oversized frames."""

    kind: str  # "frame-straddle" | "frame-past-end" | "frame-size"
    offset: int
    message: str


class PickleInput:
    """A pickle stream, buffered, with its frames followed; the base of `OpReader`."""

    def __init__(
        self,
        stream: BinaryIO,
        *,
        keep_bytes: int = 256,
        max_frame: int = 64 << 20,
        discard_frames: bool = False,
    ) -> None:
        self._stream = stream
        self.keep_bytes = keep_bytes
        self.max_frame = max_frame
        self.discard_frames = discard_frames
        self.issues: list[ReaderIssue] = []
        try:
            self._origin = stream.tell()
            end = stream.seek(0, 2)
            stream.seek(self._origin)
            self._size: int | None = end - self._origin
            self._seekable = True
        except (OSError, AttributeError, ValueError):
            self._origin, self._size, self._seekable = 0, None, False
        self._buf = b""
        self._base = 0  # stream offset (relative to origin) of _buf[0]
        self._pos = 0  # index into _buf
        self._frame_end = INF

    # -- buffering -------------------------------------------------------------------------

    @property
    def offset(self) -> int:
        """Offset of the next byte to read, relative to where the stream was when given."""
        return self._base + self._pos

    def _fill(self, n: int) -> bool:
        """Make `n` bytes available at _pos; False at end of stream."""
        have = len(self._buf) - self._pos
        if have >= n:
            return True
        parts = [self._buf[self._pos :]]
        self._base += self._pos
        self._pos = 0
        while have < n:
            chunk = self._stream.read(max(CHUNK, n - have))
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        self._buf = b"".join(parts)
        return have >= n

    def _cross(self, n: int) -> None:
        """Before reading `n` bytes: in discard mode, a read crossing the frame end restarts
        at the frame end, as `_pickle.c` does with a file it cannot peek."""
        at = self._base + self._pos
        if at + n > self._frame_end:
            if at < self._frame_end and self.discard_frames:
                self._seek_to(self._frame_end)
            self._frame_end = INF

    def _read(self, n: int, start: int) -> bytes:
        if self.discard_frames:
            self._cross(n)
        if not self._fill(n):
            raise Truncated(start, f"stream ends inside an argument at {self.offset}")
        data = self._buf[self._pos : self._pos + n]
        self._pos += n
        return data

    def _seek_to(self, target: int) -> None:
        """Move to stream offset `target` (forward only), seeking when it leaves the buffer."""
        index = target - self._base
        if index <= len(self._buf):
            self._pos = index
            return
        if self._size is not None and target > self._size:
            raise Truncated(self.offset, f"stream ends before offset {target}")
        if self._seekable:
            self._stream.seek(self._origin + target)
        else:
            remaining = index - len(self._buf)
            while remaining > 0:
                got = len(self._stream.read(min(CHUNK, remaining)))
                if not got:
                    raise Truncated(self.offset, f"stream ends before offset {target}")
                remaining -= got
        self._buf, self._base, self._pos = b"", target, 0

    def _payload(self, n: int, start: int, kind: str) -> bytes | Blob:
        """An n-byte payload: the bytes when short, else a Blob after seeking past it."""
        if n <= self.keep_bytes:
            return self._read(n, start)
        if self.discard_frames:
            self._cross(n)
        at = self.offset
        self._fill(min(n, 64))
        head = self._buf[self._pos : self._pos + 64]
        try:
            self._seek_to(at + n)
        except Truncated as exc:
            raise Truncated(start, f"{kind} payload of {n} bytes at {at} is cut short") from exc
        return Blob(at, n, kind, head)

    def _line(self, start: int) -> tuple[bytes, int, int]:
        """One newline-terminated line: its first `keep_bytes` bytes (without the newline),
        its full length and its offset. Long lines are scanned, not kept."""
        kept: list[bytes] = []
        size = 0
        at = self.offset
        limit = self._frame_end if self.discard_frames else INF
        while True:
            stop = len(self._buf) if limit == INF else min(len(self._buf), limit - self._base)
            end = self._buf.find(b"\n", self._pos, stop)
            if end >= 0:
                if size < self.keep_bytes:
                    kept.append(self._buf[self._pos : end])
                size += end - self._pos
                self._pos = end + 1
                return b"".join(kept)[: self.keep_bytes], size, at
            if size < self.keep_bytes:
                kept.append(self._buf[self._pos : stop])
            size += stop - self._pos
            self._pos = stop
            if limit != INF and self._base + self._pos >= limit:
                # No newline before the frame end: _pickle.c drops what it had buffered and
                # reads the line from the file, which is already past the frame.
                kept, size, limit, self._frame_end = [], 0, INF, INF
                at = self.offset
                continue
            if not self._fill(1):
                raise Truncated(start, "stream ends inside a text line")

    def fetch(self, blob: Blob, limit: int) -> bytes | None:
        """The bytes of a skipped payload, read again from the stream; None when the stream
        cannot seek or the payload is longer than `limit`."""
        if blob.length > limit or not self._seekable:
            return None
        here = self._stream.tell()
        try:
            self._stream.seek(self._origin + blob.offset)
            data = self._stream.read(blob.length)
        finally:
            self._stream.seek(here)
        return data if len(data) == blob.length else None

    def open_blob(self, blob: Blob) -> BinaryIO | None:
        """A read-only view of a skipped payload, for scanning it as a nested file."""
        if not self._seekable:
            return None
        return cast(BinaryIO, Window(self._stream, self._origin + blob.offset, blob.length))

    def more(self) -> bool:
        """Whether any byte follows what has been read."""
        return self._fill(1)

    # -- frames ----------------------------------------------------------------------------

    def _frame_check(self, start: int, code: int) -> None:
        """The opcode at `start` ended past the frame end: report the crossing, leave the frame."""
        if start < self._frame_end and not self.discard_frames:
            name = BY_CODE[code].name  # type: ignore[union-attr]
            self.issues.append(
                ReaderIssue(
                    "frame-straddle",
                    start,
                    f"{name} at {start} crosses the end of its frame at {self._frame_end}",
                )
            )
        self._frame_end = INF

    def _begin_frame(self, start: int, length: int) -> None:
        """A FRAME of `length` bytes was read at `start`; the frame begins at the current offset."""
        here = self.offset
        if self._frame_end != INF and here < self._frame_end:
            if not self.discard_frames:
                self.issues.append(
                    ReaderIssue(
                        "frame-straddle",
                        start,
                        f"FRAME at {start} starts inside the frame ending at {self._frame_end}",
                    )
                )
            elif here + length <= self._frame_end:
                return  # _pickle.c already holds these bytes and keeps its buffer end
            else:
                self._seek_to(self._frame_end)
                here = self.offset
        if length > self.max_frame:
            self.issues.append(
                ReaderIssue("frame-size", start, f"FRAME of {length} bytes at {start}")
            )
        if self._size is not None and here + length > self._size:
            # _pickle.c refuses it; pickle._Unpickler (joblib, dill) reads what is there, as
            # a frame ending with the stream: walked that way so its opcodes are analysed.
            if not self.discard_frames:
                self.issues.append(
                    ReaderIssue(
                        "frame-past-end",
                        start,
                        f"FRAME of {length} bytes at {start} runs past the end of the stream "
                        "(_pickle.c stops there; pickle._Unpickler reads on, as analysed)",
                    )
                )
            self._frame_end = self._size
            return
        self._frame_end = here + length

    def _note_frame_past_stop(self, start: int) -> None:
        """STOP came before its frame's end: where the next pickle starts depends on the reader."""
        if self.discard_frames:
            self._seek_to(self._frame_end)
        else:
            self.issues.append(
                ReaderIssue(
                    "frame-straddle",
                    start,
                    f"STOP at {start} is inside a frame ending at {self._frame_end}: "
                    "readers disagree on where the next pickle starts",
                )
            )
        self._frame_end = INF

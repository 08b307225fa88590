"""Pickle opcodes (protocols 0-5) and a streaming reader that walks them the way CPython does.

`OpReader` yields `(offset, code, argument)` for one pickle at a time, reading the stream in
chunks: it never holds the file, and payloads longer than `keep_bytes` (tensor data, raw array
bytes) are skipped by seeking and stand in as a `Blob` that says where they are. Arguments are
decoded as `_pickle.c` decodes them (the INT opcode's C `strtol` rules, quoted STRING escapes,
UTF-8 `surrogatepass` for BINUNICODE, ASCII for INST and PERSID lines).

Frames (protocol 4+) are where CPython's two unpicklers disagree: `pickle.py` refuses an opcode
or argument that crosses a frame's end, while `_pickle.c` either reads straight on (in-memory
input, or a file it can peek) or throws the rest of its frame buffer away and reads on from the
file (a file object without `peek`, such as the BytesIO that `torch.load` hands it). The reader
reports each crossing as an issue; with `discard_frames=True` it follows the second reading, so
a caller can analyse a stream both ways.
"""

from __future__ import annotations

import codecs
import io
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, BinaryIO, cast

HIGHEST_PROTOCOL = 5
CHUNK = 1 << 20
INF = sys.maxsize


class Arg(IntEnum):
    """How an opcode's argument is encoded in the stream."""

    NONE = 0
    UINT1 = 1
    UINT2 = 2
    INT4 = 3
    UINT4 = 4
    UINT8 = 5
    LONG1 = 6
    LONG4 = 7
    INT_LINE = 8  # INT: decimal line, "00"/"01" are False/True
    LONG_LINE = 9  # LONG: decimal line with an optional trailing L
    FLOAT_LINE = 10
    FLOAT8 = 11
    STRING_LINE = 12  # STRING: quoted, backslash-escaped line
    UNICODE_LINE = 13  # UNICODE: raw-unicode-escape line
    ASCII_LINE = 14  # PERSID
    INDEX_LINE = 15  # PUT / GET: decimal memo index
    GLOBAL_PAIR = 16  # GLOBAL: module and name lines, UTF-8
    INST_PAIR = 17  # INST: module and name lines, ASCII
    STRING1 = 18
    STRING4 = 19
    BYTES1 = 20
    BYTES4 = 21
    BYTES8 = 22
    UNICODE1 = 23
    UNICODE4 = 24
    UNICODE8 = 25
    BYTEARRAY8 = 26


@dataclass(frozen=True)
class OpInfo:
    code: int
    name: str
    arg: Arg
    proto: int


def _op(code: str, name: str, arg: Arg, proto: int) -> OpInfo:
    return OpInfo(ord(code), name, arg, proto)


OPCODES: tuple[OpInfo, ...] = (
    _op("I", "INT", Arg.INT_LINE, 0),
    _op("J", "BININT", Arg.INT4, 1),
    _op("K", "BININT1", Arg.UINT1, 1),
    _op("M", "BININT2", Arg.UINT2, 1),
    _op("L", "LONG", Arg.LONG_LINE, 0),
    _op("\x8a", "LONG1", Arg.LONG1, 2),
    _op("\x8b", "LONG4", Arg.LONG4, 2),
    _op("S", "STRING", Arg.STRING_LINE, 0),
    _op("T", "BINSTRING", Arg.STRING4, 1),
    _op("U", "SHORT_BINSTRING", Arg.STRING1, 1),
    _op("B", "BINBYTES", Arg.BYTES4, 3),
    _op("C", "SHORT_BINBYTES", Arg.BYTES1, 3),
    _op("\x8e", "BINBYTES8", Arg.BYTES8, 4),
    _op("\x96", "BYTEARRAY8", Arg.BYTEARRAY8, 5),
    _op("\x97", "NEXT_BUFFER", Arg.NONE, 5),
    _op("\x98", "READONLY_BUFFER", Arg.NONE, 5),
    _op("N", "NONE", Arg.NONE, 0),
    _op("\x88", "NEWTRUE", Arg.NONE, 2),
    _op("\x89", "NEWFALSE", Arg.NONE, 2),
    _op("V", "UNICODE", Arg.UNICODE_LINE, 0),
    _op("\x8c", "SHORT_BINUNICODE", Arg.UNICODE1, 4),
    _op("X", "BINUNICODE", Arg.UNICODE4, 1),
    _op("\x8d", "BINUNICODE8", Arg.UNICODE8, 4),
    _op("F", "FLOAT", Arg.FLOAT_LINE, 0),
    _op("G", "BINFLOAT", Arg.FLOAT8, 1),
    _op("]", "EMPTY_LIST", Arg.NONE, 1),
    _op("a", "APPEND", Arg.NONE, 0),
    _op("e", "APPENDS", Arg.NONE, 1),
    _op("l", "LIST", Arg.NONE, 0),
    _op(")", "EMPTY_TUPLE", Arg.NONE, 1),
    _op("t", "TUPLE", Arg.NONE, 0),
    _op("\x85", "TUPLE1", Arg.NONE, 2),
    _op("\x86", "TUPLE2", Arg.NONE, 2),
    _op("\x87", "TUPLE3", Arg.NONE, 2),
    _op("}", "EMPTY_DICT", Arg.NONE, 1),
    _op("d", "DICT", Arg.NONE, 0),
    _op("s", "SETITEM", Arg.NONE, 0),
    _op("u", "SETITEMS", Arg.NONE, 1),
    _op("\x8f", "EMPTY_SET", Arg.NONE, 4),
    _op("\x90", "ADDITEMS", Arg.NONE, 4),
    _op("\x91", "FROZENSET", Arg.NONE, 4),
    _op("0", "POP", Arg.NONE, 0),
    _op("2", "DUP", Arg.NONE, 0),
    _op("(", "MARK", Arg.NONE, 0),
    _op("1", "POP_MARK", Arg.NONE, 1),
    _op("g", "GET", Arg.INDEX_LINE, 0),
    _op("h", "BINGET", Arg.UINT1, 1),
    _op("j", "LONG_BINGET", Arg.UINT4, 1),
    _op("p", "PUT", Arg.INDEX_LINE, 0),
    _op("q", "BINPUT", Arg.UINT1, 1),
    _op("r", "LONG_BINPUT", Arg.UINT4, 1),
    _op("\x94", "MEMOIZE", Arg.NONE, 4),
    _op("\x82", "EXT1", Arg.UINT1, 2),
    _op("\x83", "EXT2", Arg.UINT2, 2),
    _op("\x84", "EXT4", Arg.INT4, 2),
    _op("c", "GLOBAL", Arg.GLOBAL_PAIR, 0),
    _op("\x93", "STACK_GLOBAL", Arg.NONE, 4),
    _op("R", "REDUCE", Arg.NONE, 0),
    _op("b", "BUILD", Arg.NONE, 0),
    _op("i", "INST", Arg.INST_PAIR, 0),
    _op("o", "OBJ", Arg.NONE, 1),
    _op("\x81", "NEWOBJ", Arg.NONE, 2),
    _op("\x92", "NEWOBJ_EX", Arg.NONE, 4),
    _op("\x80", "PROTO", Arg.UINT1, 2),
    _op(".", "STOP", Arg.NONE, 0),
    _op("\x95", "FRAME", Arg.UINT8, 4),
    _op("P", "PERSID", Arg.ASCII_LINE, 0),
    _op("Q", "BINPERSID", Arg.NONE, 1),
)

BY_CODE: tuple[OpInfo | None, ...] = tuple(
    next((op for op in OPCODES if op.code == code), None) for code in range(256)
)
BY_NAME: dict[str, OpInfo] = {op.name: op for op in OPCODES}
_ARG_OF: tuple[int, ...] = tuple(-1 if op is None else int(op.arg) for op in BY_CODE)

STOP = BY_NAME["STOP"].code
FRAME = BY_NAME["FRAME"].code
PROTO = BY_NAME["PROTO"].code
# Argument kinds whose payload length comes from the stream (the ones that can be skipped).
_SIZED: dict[int, int] = {
    Arg.STRING1: 1,
    Arg.STRING4: 4,
    Arg.BYTES1: 1,
    Arg.BYTES4: 4,
    Arg.BYTES8: 8,
    Arg.UNICODE1: 1,
    Arg.UNICODE4: 4,
    Arg.UNICODE8: 8,
    Arg.BYTEARRAY8: 8,
    Arg.LONG1: 1,
    Arg.LONG4: 4,
}
_FIXED: dict[int, int] = {
    Arg.UINT1: 1,
    Arg.UINT2: 2,
    Arg.INT4: 4,
    Arg.UINT4: 4,
    Arg.UINT8: 8,
    Arg.FLOAT8: 8,
}
_BINFLOAT = struct.Struct(">d")


class PickleError(Exception):
    """The stream stops being a pickle at `offset`."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


class Truncated(PickleError):
    """The stream ends inside an opcode, an argument or a frame."""


class Malformed(PickleError):
    """Bytes CPython's Unpickler would reject (unknown opcode, bad argument)."""


@dataclass(frozen=True, slots=True)
class Blob:
    """A payload too long to keep: its place in the stream, its length and first bytes."""

    offset: int
    length: int
    kind: str  # "bytes", "bytearray", "str", "int"
    head: bytes


@dataclass(frozen=True)
class ReaderIssue:
    """Something the reader noticed without stopping: frame crossings, oversized frames."""

    kind: str  # "frame-straddle" | "frame-size"
    offset: int
    message: str


def parse_c_int(text: bytes) -> int | bool:
    """INT's argument as `_pickle.c` reads it: `strtol(s, &end, 0)` up to a NUL or the end,
    two-character 0 and 1 as False and True, else Python's `int(s, 0)`."""
    line = text.split(b"\0", 1)[0]
    s = line.lstrip(b" \t\n\v\f\r")
    sign = 1
    if s[:1] in (b"+", b"-"):
        sign = -1 if s[:1] == b"-" else 1
        s = s[1:]
    base = 10
    if s[:2].lower() == b"0x" and s[2:3] and s[2:3] in b"0123456789abcdefABCDEF":
        base, s = 16, s[2:]
    elif s[:1] == b"0":
        base = 8
    digits = b"0123456789abcdef"[:base]
    end = 0
    while end < len(s) and s[end : end + 1].lower() in digits:
        end += 1
    if end and s[end:] == b"":
        value = sign * int(s[:end], base)
        if -(1 << 63) <= value < (1 << 63):
            return bool(value) if len(text) == 2 and value in (0, 1) else value
    return int(text, 0)


def _bad_utf8(start: int, exc: UnicodeDecodeError) -> Malformed:
    return Malformed(start, f"invalid UTF-8 in a unicode argument: {exc.reason}")


def _decode_py2_string(raw: bytes) -> str:
    """Python 2 `str` payloads: text for the unpicklers that decode them (ASCII, UTF-8, latin-1)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class OpReader:
    """Walk the opcodes of pickles in `stream`, one pickle per iteration, without loading it."""

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

    # -- low-level input -------------------------------------------------------------------

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
        return cast(BinaryIO, _Window(self._stream, self._origin + blob.offset, blob.length))

    # -- opcodes ---------------------------------------------------------------------------

    def more(self) -> bool:
        """Whether any byte follows what has been read."""
        return self._fill(1)

    def __iter__(self) -> Iterator[tuple[int, int, object]]:
        """Yield (offset, opcode, argument) up to and including the next STOP."""
        arg_of = _ARG_OF
        while True:
            if self.discard_frames:
                self._cross(1)
            if not self._fill(1):
                raise Truncated(self.offset, "stream ends before STOP")
            start = self.offset
            code = self._buf[self._pos]
            self._pos += 1
            kind = arg_of[code]
            if kind < 0:
                raise Malformed(start, f"invalid opcode byte 0x{code:02x}")
            arg = None if kind == 0 else self._argument(kind, code, start)
            if self.offset > self._frame_end:
                self._frame_check(start, code)
            if code == FRAME:
                self._begin_frame(start, arg)  # type: ignore[arg-type]
            yield start, code, arg
            if code == STOP:
                if self._frame_end != INF and self.offset < self._frame_end:
                    self._note_frame_past_stop(start)
                return

    def drive(
        self,
        handlers: Sequence[Callable[[int, object], object]],
        tick: Callable[[int, int], object],
        *,
        push: Callable[[object], object] | None = None,
        constants: frozenset[int] = frozenset(),
    ) -> int:
        """Call `handlers[code](offset, argument)` for every opcode through the next STOP
        (STOP's included) and return how many there were. Opcodes in `constants` are given
        to `push(argument)` instead. `tick(offset, count)` runs each time the buffer is
        refilled (at least every CHUNK bytes). The same walk as iterating, without a
        generator: the hot loop keeps the buffer in locals and decodes short arguments inline."""
        direct = [push is not None and code in constants for code in range(256)]
        count = 0
        arg: object
        if self.discard_frames:
            for start, code, arg in self:
                count += 1
                if direct[code]:
                    push(arg)  # type: ignore[misc]
                else:
                    handlers[code](start, arg)
                if not count & 0xFFFF:
                    tick(start, count)
            return count
        arg_of = _ARG_OF
        buf, pos, base = self._buf, self._pos, self._base
        size = len(buf)
        limit = self._frame_end - base  # frame end relative to the buffer
        start = base + pos
        try:
            while True:
                if pos + 10 > size:
                    self._pos = pos
                    tick(start, count)
                    if not self._fill(10) and not self._fill(1):
                        raise Truncated(self.offset, "stream ends before STOP")
                    buf, pos, base = self._buf, self._pos, self._base
                    size = len(buf)
                    limit = self._frame_end - base
                code = buf[pos]
                kind = arg_of[code]
                start = base + pos
                if kind == 0:
                    pos += 1
                    if pos > limit:
                        self._frame_check(start, code)
                        limit = self._frame_end - base
                    count += 1
                    handlers[code](start, None)
                    if code == STOP:
                        self._pos = pos
                        if self._frame_end != INF and self.offset < self._frame_end:
                            self._note_frame_past_stop(start)
                        return count
                    continue
                if kind == 1 and pos + 2 <= size:  # UINT1
                    arg = buf[pos + 1]
                    pos += 2
                elif kind == 23 and pos + 2 <= size and pos + 2 + buf[pos + 1] <= size:
                    end = pos + 2 + buf[pos + 1]  # UNICODE1
                    try:
                        arg = buf[pos + 2 : end].decode("utf-8", "surrogatepass")
                    except UnicodeDecodeError as exc:
                        raise _bad_utf8(start, exc) from exc
                    pos = end
                elif kind == 20 and pos + 2 <= size and pos + 2 + buf[pos + 1] <= size:
                    end = pos + 2 + buf[pos + 1]  # BYTES1
                    arg = buf[pos + 2 : end]
                    pos = end
                elif kind in (2, 3, 4) and pos + 5 <= size:  # UINT2, INT4, UINT4
                    width = 2 if kind == 2 else 4
                    arg = int.from_bytes(buf[pos + 1 : pos + 1 + width], "little", signed=kind == 3)
                    pos += 1 + width
                elif kind == 11 and pos + 9 <= size:  # FLOAT8
                    arg = _BINFLOAT.unpack_from(buf, pos + 1)[0]
                    pos += 9
                elif (
                    kind == 24  # UNICODE4, short enough to keep and already buffered
                    and pos + 5 <= size
                    and (n := int.from_bytes(buf[pos + 1 : pos + 5], "little")) <= self.keep_bytes
                    and pos + 5 + n <= size
                ):
                    try:
                        arg = buf[pos + 5 : pos + 5 + n].decode("utf-8", "surrogatepass")
                    except UnicodeDecodeError as exc:
                        raise _bad_utf8(start, exc) from exc
                    pos += 5 + n
                elif kind < 0:
                    raise Malformed(start, f"invalid opcode byte 0x{code:02x}")
                else:
                    self._pos = pos + 1
                    arg = self._argument(kind, code, start)
                    buf, pos, base = self._buf, self._pos, self._base
                    size = len(buf)
                    limit = self._frame_end - base
                    if code == FRAME:
                        if pos > limit:
                            self._frame_check(start, code)
                        self._pos = pos
                        self._begin_frame(start, cast(int, arg))
                        buf, pos, base = self._buf, self._pos, self._base
                        size = len(buf)
                        limit = self._frame_end - base
                        count += 1
                        handlers[code](start, arg)
                        continue
                if pos > limit:
                    self._frame_check(start, code)
                    limit = self._frame_end - base
                count += 1
                if direct[code]:
                    push(arg)  # type: ignore[misc]
                else:
                    handlers[code](start, arg)
        finally:
            if self._buf is buf:
                self._pos = pos

    def _frame_check(self, start: int, code: int) -> None:
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
            raise Truncated(start, f"FRAME of {length} bytes runs past the end of the stream")
        self._frame_end = here + length

    def _note_frame_past_stop(self, start: int) -> None:
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

    def _argument(self, kind: int, code: int, start: int) -> object:
        size = _FIXED.get(kind)
        if size is not None:
            raw = self._read(size, start)
            if kind == Arg.FLOAT8:
                return _BINFLOAT.unpack(raw)[0]
            value = int.from_bytes(raw, "little", signed=kind == Arg.INT4)
            if code == PROTO and value > HIGHEST_PROTOCOL:
                raise Malformed(start, f"unsupported pickle protocol {value}")
            if kind == Arg.UINT8 and value > sys.maxsize:
                raise Malformed(start, f"FRAME length {value} exceeds the maximum size")
            return value
        width = _SIZED.get(kind)
        if width is not None:
            return self._sized(kind, width, start)
        return self._text(kind, start)

    def _sized(self, kind: int, width: int, start: int) -> object:
        n = int.from_bytes(self._read(width, start), "little", signed=kind in _SIGNED_SIZES)
        if n < 0:
            raise Malformed(start, f"negative byte count {n}")
        if n > sys.maxsize:
            raise Malformed(start, f"byte count {n} exceeds the maximum size")
        if kind in (Arg.LONG1, Arg.LONG4):
            data = self._payload(n, start, "int")
            if isinstance(data, Blob):
                return data
            return int.from_bytes(data, "little", signed=True)
        payload_kind = _PAYLOAD_KIND[kind]
        data = self._payload(n, start, payload_kind)
        if isinstance(data, Blob) or payload_kind in ("bytes", "bytearray"):
            return data
        if payload_kind == "str":
            try:
                return data.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError as exc:
                raise _bad_utf8(start, exc) from exc
        return _decode_py2_string(data)

    def _text(self, kind: int, start: int) -> object:
        if kind in (Arg.GLOBAL_PAIR, Arg.INST_PAIR):
            codec = "utf-8" if kind == Arg.GLOBAL_PAIR else "ascii"
            (module, module_len, _), (name, name_len, _) = self._line(start), self._line(start)
            try:
                pair = module.decode(codec), name.decode(codec)
            except UnicodeDecodeError as exc:
                if max(module_len, name_len) <= self.keep_bytes:
                    raise Malformed(start, f"module or name is not valid {codec}") from exc
                pair = module.decode(codec, "replace"), name.decode(codec, "replace")
            if max(module_len, name_len) > self.keep_bytes:
                return pair[0] + "\u2026", pair[1] + "\u2026"  # visibly cut: never a real name
            return pair
        line, length, at = self._line(start)
        if length > self.keep_bytes:
            if kind == Arg.INDEX_LINE:
                raise Malformed(start, f"memo index of {length} characters")
            return Blob(at, length, "line", line[:64])
        try:
            if kind == Arg.INT_LINE:
                return parse_c_int(line)
            if kind == Arg.LONG_LINE:
                return int(line[:-1] if line.endswith(b"L") else line, 0)
            if kind == Arg.INDEX_LINE:
                index = int(line, 10)
                if index < 0:
                    raise Malformed(start, f"negative memo index {index}")
                return index
            if kind == Arg.FLOAT_LINE:
                return float(line)
            if kind == Arg.ASCII_LINE:
                return line.decode("ascii")
            if kind == Arg.UNICODE_LINE:
                return line.decode("raw-unicode-escape")
            return self._quoted(line, start)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Malformed(start, f"bad text argument {line[:40]!r}: {exc}") from exc

    @staticmethod
    def _quoted(line: bytes, start: int) -> str:
        if len(line) >= 2 and line[:1] == line[-1:] and line[:1] in (b"'", b'"'):
            return _decode_py2_string(codecs.escape_decode(line[1:-1])[0])
        raise Malformed(start, "the STRING opcode argument must be quoted")


_SIGNED_SIZES: frozenset[int] = frozenset({Arg.STRING4, Arg.LONG4})
_PAYLOAD_KIND: dict[int, str] = {
    Arg.STRING1: "py2str",
    Arg.STRING4: "py2str",
    Arg.BYTES1: "bytes",
    Arg.BYTES4: "bytes",
    Arg.BYTES8: "bytes",
    Arg.UNICODE1: "str",
    Arg.UNICODE4: "str",
    Arg.UNICODE8: "str",
    Arg.BYTEARRAY8: "bytearray",
}


class _Window(io.RawIOBase):
    """Bytes [start, start+length) of a seekable stream; every read puts the stream back."""

    def __init__(self, stream: BinaryIO, start: int, length: int) -> None:
        super().__init__()
        self._stream, self._start, self._length, self._pos = stream, start, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, self._length)[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        remaining = max(0, self._length - self._pos)
        n = remaining if size is None or size < 0 else min(size, remaining)
        if n == 0:
            return b""
        here = self._stream.tell()
        try:
            self._stream.seek(self._start + self._pos)
            data = self._stream.read(n)
        finally:
            self._stream.seek(here)
        self._pos += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

"""`OpReader`: walks the opcodes of pickles in a stream, one pickle at a time, as CPython does.

It yields `(offset, code, argument)` through each STOP, or drives a table of handlers with the
same walk (`drive`, the scanner's hot loop: the buffer stays in locals and short arguments are
decoded inline). Arguments are decoded as `_pickle.c` decodes them (args); buffering,
skipped payloads (`Blob`) and frames come from `PickleInput` (buffered_input), which it extends.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import cast

from custos.modelfile.pickle.args import bad_utf8, decode_line, decode_py2_string
from custos.modelfile.pickle.buffered_input import INF, Blob, PickleInput
from custos.modelfile.pickle.errors import Malformed, Truncated
from custos.modelfile.pickle.ops import ARG_OF, FRAME, HIGHEST_PROTOCOL, PROTO, STOP, Arg

# How the reader reads each argument kind. Defined here rather than imported: CPython 3.11
# compiles `imported_name.method()` without LOAD_METHOD (it assumes a module), which would cost
# a bound method per call in the hot loop (`_BINFLOAT.unpack_from`, `_FIXED.get`).
_BINFLOAT = struct.Struct(">d")  # BINFLOAT's argument: a big-endian IEEE double

# Argument kinds whose payload length comes from the stream (the ones that can be skipped),
# with the width of that length field.
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
# Argument kinds of a fixed width.
_FIXED: dict[int, int] = {
    Arg.UINT1: 1,
    Arg.UINT2: 2,
    Arg.INT4: 4,
    Arg.UINT4: 4,
    Arg.UINT8: 8,
    Arg.FLOAT8: 8,
}
# Length fields read as signed (a negative one is malformed), and what each payload decodes to.
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
# `drive`'s table of the opcodes it pushes itself, one per set of constants (built once).
_NOT_DIRECT = [False] * 256
_DIRECT: dict[frozenset[int], list[bool]] = {}


def _direct(constants: frozenset[int]) -> list[bool]:
    table = _DIRECT.get(constants)
    if table is None:
        table = _DIRECT[constants] = [code in constants for code in range(256)]
    return table


class OpReader(PickleInput):
    """Walk the opcodes of pickles in `stream`, one pickle per iteration, without loading it."""

    def __iter__(self) -> Iterator[tuple[int, int, object]]:
        """Yield (offset, opcode, argument) up to and including the next STOP."""
        arg_of = ARG_OF
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
        direct = _direct(constants) if push is not None else _NOT_DIRECT
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
        arg_of = ARG_OF
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
                        raise bad_utf8(start, exc) from exc
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
                        raise bad_utf8(start, exc) from exc
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

    # -- arguments -------------------------------------------------------------------------

    def _argument(self, kind: int, code: int, start: int) -> object:
        """The argument of the opcode `code` at `start`, read from just after its byte."""
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
        """A length-prefixed payload: kept and decoded when short, else a Blob."""
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
                raise bad_utf8(start, exc) from exc
        return decode_py2_string(data)

    def _text(self, kind: int, start: int) -> object:
        """A newline-terminated argument; module and name pairs longer than `keep_bytes` come
        back cut and marked, other long lines as a Blob."""
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
        return decode_line(kind, line, start)

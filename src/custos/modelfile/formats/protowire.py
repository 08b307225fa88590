"""A minimal protobuf wire-format reader over a seekable stream (no protobuf library).

Enough to walk ONNX and TensorFlow messages: varints, fixed 32/64-bit values and
length-delimited fields, whose payload is returned as an (offset, length) range so large tensors
are skipped by seeking, never read. Groups (wire types 3 and 4) are not used by either format
and are rejected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5


class ProtoError(Exception):
    """The bytes are not a well-formed protobuf message. `tag` is the (field number, wire
    type) whose payload ran past the end, when that is what happened."""

    def __init__(self, message: str, tag: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.tag = tag


@dataclass(frozen=True)
class Field:
    number: int
    wire: int
    value: int  # the varint or fixed value; for LEN fields the payload length
    offset: int  # where the payload starts


class Reader:
    """Cached positional reads from a seekable stream of known size."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream = stream
        self.size = size
        self._buf = b""
        self._at = 0

    def pread(self, offset: int, length: int) -> bytes:
        end = offset + length
        if self._at <= offset and end <= self._at + len(self._buf):
            return self._buf[offset - self._at : end - self._at]
        self.stream.seek(offset)
        if length > 1 << 16:
            return self.stream.read(length)
        self._buf = self.stream.read(1 << 16)
        self._at = offset
        return self._buf[:length]

    def varint(self, pos: int, end: int) -> tuple[int, int]:
        chunk = self.pread(pos, min(10, end - pos))
        result = 0
        for i, byte in enumerate(chunk):
            result |= (byte & 0x7F) << (7 * i)
            if byte < 0x80:
                return result, pos + i + 1
        raise ProtoError(f"truncated or overlong varint at byte {pos}")

    def fields(self, start: int, end: int) -> Iterator[Field]:
        """The fields of the message in [start, end), in order."""
        pos = start
        while pos < end:
            tag, pos = self.varint(pos, end)
            number, wire = tag >> 3, tag & 7
            if number == 0:
                raise ProtoError(f"field number 0 at byte {pos}")
            if wire == VARINT:
                value, pos = self.varint(pos, end)
                yield Field(number, wire, value, pos)
            elif wire in (FIXED64, FIXED32):
                width = 8 if wire == FIXED64 else 4
                if pos + width > end:
                    raise ProtoError(f"fixed field past end of message at byte {pos}")
                raw = self.pread(pos, width)
                yield Field(number, wire, int.from_bytes(raw, "little"), pos)
                pos += width
            elif wire == LEN:
                length, pos = self.varint(pos, end)
                if pos + length > end:
                    raise ProtoError(
                        f"field {number} runs past the end of its message", (number, wire)
                    )
                yield Field(number, wire, length, pos)
                pos += length
            else:
                raise ProtoError(f"unsupported wire type {wire} at byte {pos}")

    def text(self, field: Field, limit: int = 1 << 20) -> str:
        """A string field's value (cut at `limit` bytes)."""
        return self.pread(field.offset, min(field.value, limit)).decode("utf-8", "replace")


def top_level(reader: Reader, max_fields: int = 1_000_000) -> tuple[dict[int, int], bool]:
    """Field number -> wire type of the stream's top-level fields, read as one message, and
    whether the whole stream parsed (False: it broke off, e.g. a file cut short)."""
    seen: dict[int, int] = {}
    try:
        for count, field in enumerate(reader.fields(0, reader.size)):
            if count > max_fields or seen.setdefault(field.number, field.wire) != field.wire:
                return {}, False
    except ProtoError as err:
        if err.tag is not None:
            seen.setdefault(*err.tag)
        return seen, False
    return seen, True

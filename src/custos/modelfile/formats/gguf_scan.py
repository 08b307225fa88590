"""GGUF (llama.cpp) files: header sanity, bounded metadata parsing, tensor ranges and
alignment, and the Jinja chat templates the metadata carries (see chat_template).

Layout (v2/v3; v1 used 32-bit counts and lengths): magic, version, tensor count, metadata
count, metadata key/value pairs, tensor infos (name, dims, type, offset), padding to
`general.alignment`, tensor data. Every count and length is checked against the bytes left
before anything is allocated for it.
"""

from __future__ import annotations

import math
import struct
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.formats.protowire import Reader
from custos.modelfile.formats.template_rules import looks_like_template
from custos.modelfile.readers.streamview import stream_size
from custos.modelfile.rules import rule

MALFORMED = rule("gguf/malformed", Severity.high, "A GGUF header or metadata entry is malformed.")
TRUNCATED = rule("gguf/truncated", Severity.high, "A GGUF file ends inside its header or data.")
VERSION = rule("gguf/unsupported-version", Severity.high, "A GGUF version other than 1-3.")
TENSOR = rule(
    "gguf/bad-tensor",
    Severity.high,
    "A tensor's offset is misaligned, outside the data section, or overlaps another tensor.",
)
TENSOR_TYPE = rule(
    "gguf/unknown-tensor-type",
    Severity.medium,
    "A tensor type Custos does not know; its size could not be checked.",
)
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
           11: "<q", 12: "<d"}  # fmt: skip
STRING, ARRAY = 8, 9
# ggml type -> (elements per block, bytes per block), from gguf.constants.GGML_QUANT_SIZES
BLOCKS = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
    39: (32, 17), 40: (64, 36), 41: (128, 18),
}  # fmt: skip
MAX_DIMS = 8
TEMPLATE_KEYS = ("tokenizer.chat_template",)


class GGUFError(Exception):
    pass


class _Cursor:
    def __init__(self, reader: Reader, wide: bool, endian: str) -> None:
        self.reader, self.pos, self.wide, self.endian = reader, 0, wide, endian

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.reader.size:
            raise GGUFError(f"needs {n} bytes at {self.pos}, past the end of the file")
        data = self.reader.pread(self.pos, n)
        self.pos += n
        return data

    def unpack(self, fmt: str) -> int | float | bool:
        fmt = self.endian + fmt[1:]
        value: int | float | bool = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value

    def count(self) -> int:
        value = self.unpack("<Q" if self.wide else "<I")
        assert isinstance(value, int)
        return value

    def string(self, keep: int) -> str | None:
        """A GGUF string; its text when at most `keep` bytes, else skipped (None)."""
        length = self.count()
        if length > keep:
            if self.pos + length > self.reader.size:
                raise GGUFError(f"string of {length} bytes runs past the end of the file")
            self.pos += length
            return None
        return self.take(length).decode("utf-8", "replace")


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
    size = stream_size(stream)
    reader = Reader(stream, size)
    head = reader.pread(0, 24)
    if len(head) < 8:
        ctx.emit(TRUNCATED.id, TRUNCATED.severity, "shorter than a GGUF header", location)
        return
    version, endian = struct.unpack("<I", head[4:8])[0], "<"
    if version > 0xFFFF and struct.unpack(">I", head[4:8])[0] in (1, 2, 3):
        version, endian = struct.unpack(">I", head[4:8])[0], ">"
    if version not in (1, 2, 3):
        ctx.emit(VERSION.id, VERSION.severity, f"version {version}", location)
        return
    cursor = _Cursor(reader, version >= 2, endian)
    cursor.pos = 8
    try:
        tensors, alignment = _header(cursor, location, ctx)
        _tensors(cursor, tensors, alignment, location, ctx)
    except GGUFError as err:
        cut = "past the end" in str(err) or "cannot fit" in str(err)
        rule_ = TRUNCATED if cut else MALFORMED
        ctx.emit(rule_.id, rule_.severity, str(err), location)


def _header(cursor: _Cursor, location: str, ctx: ScanContext) -> tuple[int, int]:
    tensors, entries = cursor.count(), cursor.count()
    left = cursor.reader.size - cursor.pos
    if entries * 12 > left or tensors * 24 > left:
        raise GGUFError(
            f"{tensors} tensors / {entries} metadata entries cannot fit in {left} bytes"
        )
    alignment = 32
    start = cursor.pos
    for _ in range(entries):
        if cursor.pos - start > ctx.limits.max_header_bytes:
            raise GGUFError(f"metadata larger than {ctx.limits.max_header_bytes} bytes")
        key = cursor.string(1 << 16)
        if key is None:
            raise GGUFError("metadata key longer than 64 KiB")
        kind = cursor.unpack("<I")
        assert isinstance(kind, int)
        value = _value(cursor, kind, key, location, ctx, depth=0)
        if key == "general.alignment":
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or value <= 0
                or value & (value - 1)
            ):
                raise GGUFError(f"general.alignment {value!r} is not a power of two")
            alignment = value
    return tensors, alignment


def _value(
    cursor: _Cursor, kind: int, key: str, location: str, ctx: ScanContext, *, depth: int
) -> object:
    if kind in SCALARS:
        return cursor.unpack(SCALARS[kind])
    if kind == STRING:
        text = cursor.string(ctx.limits.max_string_bytes)
        if text is not None and (
            key in TEMPLATE_KEYS
            or key.startswith("tokenizer.chat_template")
            or looks_like_template(text)
        ):
            from custos.modelfile.formats.chat_template import (
                check_template,  # Jinja2 only when needed
            )

            check_template(text, f"{location}!{key}", ctx)
        elif text is None:
            ctx.emit(MALFORMED.id, MALFORMED.severity, f"string value of {key} too long", location)
        return text
    if kind == ARRAY and depth < 4:
        item_kind = cursor.unpack("<I")
        count = cursor.count()
        assert isinstance(item_kind, int)
        if count > cursor.reader.size - cursor.pos:
            raise GGUFError(f"array {key} of {count} items cannot fit in the file")
        scan_strings = item_kind == STRING and not key.startswith("tokenizer.ggml.")
        for _ in range(count):
            if item_kind == STRING and not scan_strings:
                cursor.string(0)
            else:
                _value(cursor, item_kind, key, location, ctx, depth=depth + 1)
        return None
    raise GGUFError(f"metadata {key!r:.80} has unknown value type {kind}")


def _tensors(cursor: _Cursor, count: int, alignment: int, location: str, ctx: ScanContext) -> None:
    infos: list[tuple[str, int, int | None]] = []
    for _ in range(count):
        name = cursor.string(1 << 16) or "?"
        dims = cursor.unpack("<I")
        assert isinstance(dims, int)
        if dims > MAX_DIMS:
            raise GGUFError(f"tensor {name!r:.80} has {dims} dimensions")
        shape = [cursor.count() for _ in range(dims)]
        kind, offset = cursor.unpack("<I"), cursor.unpack("<Q")
        assert isinstance(kind, int)
        assert isinstance(offset, int)
        nbytes = None
        if kind in BLOCKS:
            per_block, block_bytes = BLOCKS[kind]
            elements = math.prod(shape)
            if elements % per_block:
                ctx.emit(
                    TENSOR.id,
                    TENSOR.severity,
                    f"{name}: {elements} elements do not fill blocks of {per_block}",
                    location,
                )
            nbytes = elements // per_block * block_bytes
        else:
            ctx.emit(TENSOR_TYPE.id, TENSOR_TYPE.severity, f"{name}: ggml type {kind}", location)
        infos.append((name, offset, nbytes))
    data = -(-cursor.pos // alignment) * alignment
    available = cursor.reader.size - data
    spans: list[tuple[int, int, str]] = []
    for name, offset, nbytes in infos:
        if offset % alignment:
            ctx.emit(
                TENSOR.id,
                TENSOR.severity,
                f"{name}: offset {offset} is not aligned to {alignment}",
                location,
            )
        end = offset + (nbytes or 0)
        if end > available:
            ctx.emit(
                TRUNCATED.id,
                TRUNCATED.severity,
                f"{name}: data [{offset}, {end}) past the {available} bytes of the data section",
                location,
            )
        spans.append((offset, end, name))
    last_end, last = 0, ""
    for offset, end, name in sorted(spans):
        if offset < last_end:
            ctx.emit(TENSOR.id, TENSOR.severity, f"{name} overlaps {last}", location)
        if end >= last_end:
            last_end, last = end, name

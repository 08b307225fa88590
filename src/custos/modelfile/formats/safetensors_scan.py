"""safetensors: the checks the reference loader makes, reported instead of raised.

Layout: an 8-byte little-endian header length N, N bytes of JSON (tensor name -> dtype, shape,
data_offsets; optional `__metadata__` of strings), then the data buffer. Tensors must cover the
buffer exactly, without overlaps or gaps. Data is never read; only the header is.
"""

from __future__ import annotations

import json
import math
import struct
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.readers.streamview import read_at, stream_size
from custos.modelfile.rules import rule

TOO_LARGE = rule(
    "safetensors/header-too-large", Severity.high, "The header is larger than the limit."
)
TRUNCATED = rule(
    "safetensors/truncated", Severity.high, "The file ends before its header or data do."
)
MALFORMED = rule(
    "safetensors/malformed", Severity.high, "The header is not valid UTF-8 JSON of the format."
)
DUPLICATE = rule(
    "safetensors/duplicate-key",
    Severity.high,
    "The header repeats a key; JSON parsers disagree on which value wins.",
)
BAD_TENSOR = rule(
    "safetensors/bad-tensor",
    Severity.high,
    "A tensor entry has an unknown dtype, a bad shape, or offsets that do not fit its size.",
)
OVERLAP = rule(
    "safetensors/overlapping-offsets", Severity.high, "Two tensors share bytes of the buffer."
)
OUT_OF_RANGE = rule(
    "safetensors/out-of-range", Severity.high, "A tensor's offsets lie outside the data buffer."
)
GAP = rule(
    "safetensors/unreferenced-data",
    Severity.medium,
    "Buffer bytes belong to no tensor (between tensors or after the last one).",
)
METADATA = rule(
    "safetensors/metadata-not-string",
    Severity.high,
    "__metadata__ is not a map of strings to strings.",
)
BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8, "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32,
    "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64, "F4": 4, "F6_E2M3": 6,
    "F6_E3M2": 6,
}  # fmt: skip


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
    size = stream_size(stream)
    prefix = read_at(stream, 0, 8)
    if len(prefix) < 8:
        ctx.emit(
            TRUNCATED.id, TRUNCATED.severity, "shorter than the 8-byte header length", location
        )
        return
    (length,) = struct.unpack("<Q", prefix)
    if length > ctx.limits.max_header_bytes:
        ctx.emit(
            TOO_LARGE.id,
            TOO_LARGE.severity,
            f"header of {length} bytes exceeds the {ctx.limits.max_header_bytes}-byte limit",
            location,
        )
        return
    if 8 + length > size:
        ctx.emit(
            TRUNCATED.id,
            TRUNCATED.severity,
            f"header of {length} bytes runs past the end of the {size}-byte file",
            location,
        )
        return
    header = _parse(read_at(stream, 8, length), location, ctx)
    if header is not None:
        _check(header, size - 8 - length, location, ctx)


def _parse(raw: bytes, location: str, ctx: ScanContext) -> dict[str, object] | None:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        result: dict[str, object] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    if not raw.startswith(b"{"):
        ctx.emit(MALFORMED.id, MALFORMED.severity, "header does not start with '{'", location)
        return None
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=pairs)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        ctx.emit(MALFORMED.id, MALFORMED.severity, f"header is not valid JSON: {err}", location)
        return None
    for key in dict.fromkeys(duplicates):
        ctx.emit(DUPLICATE.id, DUPLICATE.severity, f"key {key!r:.100} appears twice", location)
    if not isinstance(header, dict):
        ctx.emit(MALFORMED.id, MALFORMED.severity, "header is not a JSON object", location)
        return None
    return header


def _check(header: dict[str, object], buffer: int, location: str, ctx: ScanContext) -> None:
    spans: list[tuple[int, int, str]] = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                ctx.emit(METADATA.id, METADATA.severity, f"__metadata__ is {info!r:.100}", location)
            continue
        span = _tensor(name, info, location, ctx)
        if span is None:
            continue
        begin, end = span
        if end > buffer:
            ctx.emit(
                OUT_OF_RANGE.id,
                OUT_OF_RANGE.severity,
                f"tensor {name!r:.100} ends at {end}, the buffer holds {buffer} bytes",
                location,
            )
        spans.append((begin, end, name))
    cursor, last = 0, ""
    for begin, end, name in sorted(spans):
        if begin < cursor:
            ctx.emit(
                OVERLAP.id,
                OVERLAP.severity,
                f"tensor {name!r:.100} [{begin}, {end}) overlaps {last!r:.100}",
                location,
            )
        elif begin > cursor:
            ctx.emit(
                GAP.id, GAP.severity, f"bytes [{cursor}, {begin}) belong to no tensor", location
            )
        if end >= cursor:
            cursor, last = end, name
    if cursor < buffer:
        ctx.emit(
            GAP.id, GAP.severity, f"bytes [{cursor}, {buffer}) after the last tensor", location
        )


def _tensor(name: str, info: object, location: str, ctx: ScanContext) -> tuple[int, int] | None:
    def bad(why: str) -> None:
        ctx.emit(BAD_TENSOR.id, BAD_TENSOR.severity, f"tensor {name!r:.100}: {why}", location)

    if not isinstance(info, dict):
        bad("entry is not an object")
        return None
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in BITS:
        bad(f"unknown dtype {dtype!r:.40}")
        return None
    if not isinstance(shape, list) or not all(_natural(d) for d in shape):
        bad(f"shape {shape!r:.80} is not a list of non-negative integers")
        return None
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_natural(o) for o in offsets)
        or offsets[0] > offsets[1]
    ):
        bad(f"data_offsets {offsets!r:.80} are not [begin, end] with begin <= end")
        return None
    bits = math.prod(shape) * BITS[dtype]
    begin, end = offsets
    if bits % 8 or bits // 8 != end - begin:
        bad(f"{dtype} {shape} needs {bits / 8:g} bytes, offsets give {end - begin}")
    return begin, end


def _natural(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0

"""Bounded decompression into a spool: deflate, gzip, zlib, bzip2, xz/lzma.

Output is capped twice: by absolute size (`Limits.max_member_bytes`) and by ratio to the
compressed bytes consumed (`Limits.max_ratio`, checked once more than 1 MiB came out). When a
cap is hit, decompression stops and what came out so far is still handed on to be scanned.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from custos.modelfile.context import Limits
from custos.modelfile.readers.streamview import new_spool

IN_CHUNK = 1 << 16
OUT_CHUNK = 1 << 20
RATIO_FLOOR = 1 << 20


@dataclass
class Inflated:
    """Spooled output (rewound) and what happened on the way."""

    stream: BinaryIO
    size: int
    crc: int
    consumed: int
    cut: str | None = None  # "size", "ratio" or "room" (the file's budget) when one stopped it
    error: str | None = None  # the decoder's complaint, if any
    finished: bool = False  # the compressed stream reached its end marker
    trailing: int = 0  # bytes after the end marker (not another compressed member)


def decoder_for(kind: str, props: bytes = b"") -> Callable[[], object]:
    """A factory of decompressor objects for `kind`."""
    if kind == "deflate":
        return lambda: zlib.decompressobj(-zlib.MAX_WBITS)
    if kind == "zlib":
        return lambda: zlib.decompressobj(zlib.MAX_WBITS)
    if kind == "gzip":
        return lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)
    if kind == "bz2":
        return bz2.BZ2Decompressor
    if kind in ("xz", "lzma"):
        return lambda: lzma.LZMADecompressor(lzma.FORMAT_AUTO)
    if kind == "zip-lzma":
        filt = lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)  # type: ignore[attr-defined]
        return lambda: lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[filt])
    raise ValueError(f"no decoder for {kind}")


_ZLIB = type(zlib.decompressobj())


def _pieces(decoder: object, data: bytes) -> Iterator[bytes]:
    if isinstance(decoder, _ZLIB):
        while data:
            yield decoder.decompress(data, OUT_CHUNK)
            data = decoder.unconsumed_tail
            if decoder.eof:
                return
        return
    assert isinstance(decoder, bz2.BZ2Decompressor | lzma.LZMADecompressor)
    yield decoder.decompress(data, OUT_CHUNK)
    while not decoder.eof and not decoder.needs_input:
        yield decoder.decompress(b"", OUT_CHUNK)


def inflate(
    source: BinaryIO,
    make: Callable[[], object],
    limits: Limits,
    compressed_size: int | None = None,
    multi_member: bool = False,
    room: int | None = None,
) -> Inflated:
    """Decompress `source` (at most `compressed_size` bytes of it) within the limits, and to at
    most `room` bytes (what the file's budget has left, budget.py) when given."""
    out = new_spool()
    result = Inflated(out, 0, 0, 0)
    decoder = make()
    pending = b""
    while True:
        if not pending:
            want = (
                IN_CHUNK
                if compressed_size is None
                else min(IN_CHUNK, compressed_size - result.consumed)
            )
            pending = source.read(want) if want > 0 else b""
            result.consumed += len(pending)
            if not pending:
                break
        data, pending = pending, b""
        try:
            for piece in _pieces(decoder, data):
                out.write(piece)
                result.size += len(piece)
                result.crc = zlib.crc32(piece, result.crc)
                result.cut = _over(result, limits, room)
                if result.cut:
                    break
        except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as err:
            result.error = str(err) or type(err).__name__
            break
        if result.cut:
            break
        if _eof(decoder):
            rest = _unused(decoder)
            if multi_member and rest.strip(b"\0"):
                decoder, pending = make(), rest
                continue
            result.finished = True
            result.trailing = len(rest) + _drain(source, compressed_size, result)
            break
    out.seek(0)
    return result


def _over(result: Inflated, limits: Limits, room: int | None) -> str | None:
    if room is not None and result.size > room:
        return "room"
    if result.size > limits.max_member_bytes:
        return "size"
    if result.size > RATIO_FLOOR and result.size > limits.max_ratio * max(result.consumed, 1):
        return "ratio"
    return None


def _eof(decoder: object) -> bool:
    return bool(getattr(decoder, "eof", False))


def _unused(decoder: object) -> bytes:
    data = getattr(decoder, "unused_data", b"")
    return data if isinstance(data, bytes) else b""


def _drain(source: BinaryIO, compressed_size: int | None, result: Inflated) -> int:
    """Count (without keeping) what follows the end marker within the compressed region."""
    extra = 0
    while compressed_size is None or result.consumed < compressed_size:
        want = (
            IN_CHUNK
            if compressed_size is None
            else min(IN_CHUNK, compressed_size - result.consumed)
        )
        chunk = source.read(want)
        if not chunk:
            break
        result.consumed += len(chunk)
        extra += len(chunk)
    return extra

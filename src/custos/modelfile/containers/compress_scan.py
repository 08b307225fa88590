"""Compressed single streams (gzip, zlib, bzip2, xz, lzma, joblib's old "ZF" files), as joblib
writes them: decompressed within the limits and the content dispatched like any file."""

from __future__ import annotations

import re
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile import budget
from custos.modelfile.context import ScanContext
from custos.modelfile.readers.inflate import decoder_for, inflate
from custos.modelfile.rules import rule

BOMB = rule(
    "compress/bomb",
    Severity.high,
    "A compressed stream expands beyond the size or ratio limit; decompression was stopped.",
)
MALFORMED = rule(
    "compress/malformed", Severity.high, "A compressed stream is corrupt or cut short."
)
TRAILING = rule(
    "compress/trailing-data",
    Severity.medium,
    "Bytes follow the end of a compressed stream; some readers ignore them, others do not.",
)
UNSUPPORTED = rule(
    "compress/unsupported",
    Severity.medium,  # "not analysed", as every content Custos cannot open
    "A compression format Custos cannot decode (lz4 without the lz4 package); not analysed.",
)
FORMATS = ("gzip", "zlib", "bz2", "xz", "lzma", "joblib-zfile", "lz4")


def scan(stream: BinaryIO, location: str, ctx: ScanContext, kind: str) -> None:
    """Decompress a whole stream of `kind` (see FORMATS) and dispatch what comes out."""
    if kind == "lz4":
        message = "lz4-compressed stream Custos cannot decode; not analysed"
        ctx.emit(UNSUPPORTED.id, UNSUPPORTED.severity, message, location)
        return
    if not budget.admit(ctx, stream, location):  # its content counts as a member of the file
        return
    stream.seek(0)
    codec = kind
    if kind == "joblib-zfile":
        header = stream.read(22)
        match = re.match(rb"ZF(0x[0-9a-fA-F]+) *", header)
        stream.seek(len(match.group(0)) if match else 21)
        codec = "zlib"
    result = inflate(
        stream, decoder_for(codec), ctx.limits, multi_member=True, room=budget.room(ctx)
    )
    inner = f"{location}!<{kind}>"
    if result.cut == "room":
        budget.exhaust_bytes(ctx, location)
    else:
        budget.charge(ctx, result.size, location)
    if result.cut and result.cut != "room":
        ctx.emit(
            BOMB.id,
            BOMB.severity,
            f"{kind} stream exceeds the {result.cut} limit after {result.size} bytes "
            f"from {result.consumed} compressed; only that much was inspected",
            location,
        )
    if result.error:
        ctx.emit(
            MALFORMED.id,
            MALFORMED.severity,
            f"{kind} stream is corrupt after {result.size} bytes of output: {result.error}",
            location,
        )
    elif not result.finished and not result.cut:
        ctx.emit(
            MALFORMED.id,
            MALFORMED.severity,
            f"{kind} stream ends before its end marker ({result.size} bytes of output)",
            location,
        )
    if result.trailing:
        ctx.emit(
            TRAILING.id,
            TRAILING.severity,
            f"{result.trailing} bytes after the end of the {kind} stream",
            location,
        )
    try:
        if result.size:
            ctx.dispatch(result.stream, inner)
    finally:
        result.stream.close()

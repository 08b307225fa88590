"""One zip member: its local header compared with its central entry, its bytes read the way a
lenient reader (PyTorch's miniz) would, its CRC checked, and its content dispatched by content.

A member whose CRC is wrong, whose "encrypted" bit is set, or whose local name differs is still
scanned: `zipfile` refuses such members, which makes scanners built on it report nothing, while
`torch.load` reads them.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

from custos.checks.model import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.inflate import decoder_for, inflate
from custos.modelfile.rules import rule
from custos.modelfile.streamview import window
from custos.modelfile.zip_parse import (
    DATA_DESCRIPTOR,
    ENCRYPTED,
    CentralEntry,
    LocalHeader,
    ZipError,
    decode_name,
    read_local,
)

OPAQUE_CRC_BYTES = 1 << 20
CRC = rule(
    "zip/crc-mismatch",
    Severity.high,
    "A member's CRC-32 does not match its data; zipfile refuses it, torch.load does not.",
)
ENCRYPTED_FLAG = rule(
    "zip/encrypted-flag",
    Severity.high,
    "A member has the 'encrypted' flag bit set; zipfile refuses it, torch.load ignores the bit.",
)
NAME_MISMATCH = rule(
    "zip/name-mismatch",
    Severity.high,
    "A member's local header names a different file than its central directory entry.",
)
HEADER_MISMATCH = rule(
    "zip/header-mismatch",
    Severity.high,
    "A member's local header and central entry disagree (method, flags, sizes or CRC).",
)
SIZE_MISMATCH = rule(
    "zip/size-mismatch",
    Severity.high,
    "A member's data is not the size its headers declare.",
)
OUT_OF_BOUNDS = rule(
    "zip/out-of-bounds",
    Severity.high,
    "A member's data lies outside the archive or runs into the central directory.",
)
BOMB = rule(
    "zip/bomb",
    Severity.high,
    "A member expands beyond the size or ratio limit; decompression was stopped there.",
)
UNSUPPORTED = rule(
    "zip/unsupported-method",
    Severity.high,
    "A member uses a compression method Custos cannot decode; it was not inspected.",
)
PATH = rule(
    "zip/path-traversal",
    Severity.medium,
    "A member name is absolute or climbs out of the extraction directory with '..'.",
)
METHODS = {0: "stored", 8: "deflate", 12: "bz2", 14: "zip-lzma"}


def bad_path(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def check_central(
    stream: BinaryIO, size: int, entry: CentralEntry, location: str, ctx: ScanContext
) -> LocalHeader | None:
    """Compare an entry with its local header; returns the local header when there is one."""
    name = entry.display()
    if bad_path(name):
        ctx.emit(PATH.id, PATH.severity, f"member name {name!r} escapes the archive", location)
    try:
        local = read_local(stream, entry.header_offset, size)
    except ZipError as err:
        ctx.emit("zip/malformed", Severity.high, str(err), location)
        return None
    if local.name != entry.name:
        ctx.emit(
            NAME_MISMATCH.id,
            NAME_MISMATCH.severity,
            f"central directory says {name!r}, local header says "
            f"{decode_name(local.name, local.flags)!r}",
            location,
        )
    if entry.unicode_name is not None and entry.unicode_name != entry.name:
        ctx.emit(
            NAME_MISMATCH.id,
            NAME_MISMATCH.severity,
            f"unicode path extra field says {entry.unicode_name.decode('utf-8', 'replace')!r}, "
            f"central directory says {name!r}",
            location,
        )
    differences = []
    if local.method != entry.method:
        differences.append(f"method {local.method} vs {entry.method}")
    if (local.flags ^ entry.flags) & (ENCRYPTED | DATA_DESCRIPTOR):
        differences.append(f"flags 0x{local.flags:x} vs 0x{entry.flags:x}")
    if not local.flags & DATA_DESCRIPTOR:
        for what, mine, theirs in (
            ("crc", local.crc, entry.crc),
            ("compressed size", local.csize, entry.csize),
            ("size", local.usize, entry.usize),
        ):
            if mine != theirs:
                differences.append(f"{what} {mine} vs {theirs}")
    if differences:
        ctx.emit(
            HEADER_MISMATCH.id,
            HEADER_MISMATCH.severity,
            "local header and central directory disagree: " + ", ".join(differences),
            location,
        )
    if entry.flags & ENCRYPTED or local.flags & ENCRYPTED:
        ctx.emit(
            ENCRYPTED_FLAG.id,
            ENCRYPTED_FLAG.severity,
            "the 'encrypted' flag bit is set; scanned from the raw bytes as torch.load reads them",
            location,
        )
    return local


def scan_data(
    stream: BinaryIO,
    data_offset: int,
    csize: int,
    method: int,
    expect: tuple[int, int] | None,
    location: str,
    ctx: ScanContext,
    *,
    limit: int,
) -> int:
    """Read, check and dispatch one member's data; returns where the data ends.

    `expect` is the (crc, size) the headers promise, or None when they are unknown. `limit` is
    where member data may end (the central directory or the end of the file).
    """
    end = data_offset + csize
    if end > limit or data_offset > limit:
        ctx.emit(
            OUT_OF_BOUNDS.id,
            OUT_OF_BOUNDS.severity,
            f"data [{data_offset}, {end}) runs past byte {limit}; inspected what is there",
            location,
        )
        csize = max(0, limit - data_offset)
    raw = window(stream, data_offset, csize)
    codec = METHODS.get(method)
    if codec is None:
        ctx.emit(UNSUPPORTED.id, UNSUPPORTED.severity, f"compression method {method}", location)
        return end
    crc: int | None = None  # a stored member's CRC is computed after its content is known
    if codec == "stored":
        size = csize
        content = raw
        content.seek(0)
        finished = True
    else:
        props = b""
        if codec == "zip-lzma":
            head = raw.read(4)
            props = raw.read(int.from_bytes(head[2:4], "little"))
        result = inflate(raw, decoder_for(codec, props), ctx.limits, csize)
        crc, size, content = result.crc, result.size, result.stream
        finished = result.finished and not result.cut
        if result.cut:
            ctx.emit(
                BOMB.id,
                BOMB.severity,
                f"expands past the {result.cut} limit ({result.size} bytes from "
                f"{result.consumed}); only that much was inspected",
                location,
            )
        if result.error or (not result.finished and not result.cut):
            ctx.emit(
                "zip/malformed",
                Severity.high,
                f"compressed data is corrupt or cut short after {result.size} bytes: "
                f"{result.error or 'no end marker'}",
                location,
            )
    first = len(ctx.formats)
    try:
        if size:
            ctx.dispatch(content, location)
        if crc is None and not _opaque(ctx.formats[first : first + 1], csize):
            crc = _crc(raw)
    finally:
        content.close()
    if expect is not None and finished:
        _compare(expect, crc, size, location, ctx)
    return end


def _opaque(formats: list[str], size: int) -> bool:
    """A large member no loader parses (raw tensor storage): a wrong CRC there hides nothing
    (torch.load does not check it), and computing it would double the cost of a scan."""
    return formats == ["unknown"] and size > OPAQUE_CRC_BYTES


def _compare(
    expect: tuple[int, int], crc: int | None, size: int, location: str, ctx: ScanContext
) -> None:
    want_crc, want_size = expect
    if size != want_size:
        ctx.emit(
            SIZE_MISMATCH.id,
            SIZE_MISMATCH.severity,
            f"{size} bytes of data, headers declare {want_size}",
            location,
        )
    if crc is not None and crc != want_crc:
        ctx.emit(
            CRC.id,
            CRC.severity,
            f"CRC-32 is 0x{crc:08x}, headers declare 0x{want_crc:08x}; member scanned anyway",
            location,
        )


def _crc(stream: BinaryIO) -> int:
    crc = 0
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        crc = zlib.crc32(chunk, crc)
    return crc

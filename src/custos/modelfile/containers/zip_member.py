"""One zip member: its local header compared with its central entry, its bytes read the way a
lenient reader (PyTorch's miniz) would, its CRC checked, and its content dispatched by content.

A member whose CRC is wrong, whose "encrypted" bit is set, or whose local name differs is still
scanned: `zipfile` refuses such members, which makes scanners built on it report nothing, while
`torch.load` reads them. An "encrypted" member whose bytes do not read as plaintext is what the
bit says (password-protected): "not analysed" (medium), not a CRC mismatch.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile import budget
from custos.modelfile.containers.member_guard import not_analysed
from custos.modelfile.context import ScanContext
from custos.modelfile.readers.streamview import window
from custos.modelfile.readers.zip_decode import METHODS, decode
from custos.modelfile.readers.zip_parse import (
    DATA_DESCRIPTOR,
    ENCRYPTED,
    CentralEntry,
    LocalHeader,
    ZipError,
    decode_name,
    read_local,
)
from custos.modelfile.rules import rule

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
ENCRYPTED_MEMBER = rule(
    "zip/encrypted-member",
    Severity.medium,
    "A password-protected member (PKWARE or AES encryption): its content was not analysed.",
)
AES_METHOD = 99  # WinZip AES: the real method is in the 0x9901 extra field
EXPLAINED_BY_ENCRYPTION = frozenset({"zip/crc-mismatch", "zip/size-mismatch", "zip/malformed"})
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
    Severity.medium,  # "not analysed": neither zipfile nor torch.load reads it either
    "A member uses a compression method Custos cannot decode; it was not analysed.",
)
PATH = rule(
    "zip/path-traversal",
    Severity.medium,
    "A member name is absolute or climbs out of the extraction directory with '..'.",
)


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
    return local  # the 'encrypted' bit is judged with the data (scan_data's `flags`)


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
    flags: int = 0,
) -> int:
    """Read, check and dispatch one member's data; returns where the data ends.

    `expect` is the (crc, size) the headers promise, or None when they are unknown. `limit` is
    where member data may end (the central directory or the end of the file). `flags`: the
    general-purpose flags of both headers, or-ed.
    """
    mark = len(ctx.findings)
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
    if method == AES_METHOD:
        message = "AES-encrypted member (method 99); not analysed"
        ctx.emit(ENCRYPTED_MEMBER.id, ENCRYPTED_MEMBER.severity, message, location)
        return end
    codec = METHODS.get(method)
    if codec is None:
        message = f"compression method {method} Custos cannot decode; not analysed"
        ctx.emit(UNSUPPORTED.id, UNSUPPORTED.severity, message, location)
        return end
    stored = codec == "stored"
    if not budget.admit(ctx, stream, location):
        return end
    if stored and not budget.charge(ctx, csize, location):
        return end
    decoded = decode(raw, csize, codec, ctx.limits, budget.room(ctx))
    if decoded.unreadable:  # this member's finding; the archive goes on
        not_analysed(ctx, decoded.unreadable, location)
        return end
    # a stored member's CRC (None here) is computed after its content is known
    crc, size, content, finished = decoded.crc, decoded.size, decoded.stream, decoded.finished
    if decoded.cut == "room":
        budget.exhaust_bytes(ctx, location)
    elif not stored:
        budget.charge(ctx, size, location)
    if decoded.cut and decoded.cut != "room":
        ctx.emit(
            BOMB.id,
            BOMB.severity,
            f"expands past the {decoded.cut} limit ({size} bytes from "
            f"{decoded.consumed}); only that much was inspected",
            location,
        )
    if decoded.error or (not finished and not decoded.cut):
        ctx.emit(
            "zip/malformed",
            Severity.high,
            f"compressed data is corrupt or cut short after {size} bytes: "
            f"{decoded.error or 'no end marker'}",
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
    if flags & ENCRYPTED:
        # Plaintext: it decodes to the declared size, and its CRC matches or its content is
        # recognised. Ciphertext is 12 bytes longer (stored) or does not inflate (deflated).
        recognised = _recognised(ctx.formats[first:])
        if expect is None:
            plain = finished and recognised
        else:
            plain = finished and size == expect[1] and (crc in (None, expect[0]) or recognised)
        _judge_encrypted(plain, mark, location, ctx)
    return end


def _recognised(formats: list[str]) -> bool:
    return bool(formats) and formats[0] not in ("unknown", "empty")


def _judge_encrypted(plain: bool, mark: int, location: str, ctx: ScanContext) -> None:
    """Plain bytes under the bit are the trick torch.load falls for (high). Otherwise the member
    really is encrypted: the CRC, size and corrupt-data findings its ciphertext caused are
    dropped for one "not analysed" finding; anything found in the bytes stays."""
    if plain:
        message = "the 'encrypted' flag bit is set on readable data; scanned as torch.load reads it"
        ctx.emit(ENCRYPTED_FLAG.id, ENCRYPTED_FLAG.severity, message, location)
        return
    ctx.findings[mark:] = [
        f
        for f in ctx.findings[mark:]
        if f.location != location or f.rule not in EXPLAINED_BY_ENCRYPTION
    ]
    message = "encrypted member (PKWARE traditional encryption); not analysed"
    ctx.emit(ENCRYPTED_MEMBER.id, ENCRYPTED_MEMBER.severity, message, location)


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

"""Zip structures read with `struct`, not `zipfile`: the end record, the central directory and
local headers, each kept as written so the scanner can compare what different readers see.

Offsets follow `zipfile`: when the central directory is not where the end record says, the
difference (`shift`, data prepended to the archive) is added to every header offset.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from custos.modelfile.readers.streamview import read_at

EOCD = struct.Struct("<4s4H2LH")
EOCD64_LOCATOR = struct.Struct("<4sLQL")
EOCD64 = struct.Struct("<4sQ2H2L4Q")
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
LOCAL = struct.Struct("<4s2B4HL2L2H")
TAIL_SEARCH = EOCD.size + 0xFFFF
ENCRYPTED = 0x1
DATA_DESCRIPTOR = 0x8
UTF8_NAMES = 0x800


class ZipError(Exception):
    """A zip structure is malformed."""


@dataclass(frozen=True)
class EndRecord:
    offset: int  # where the end record starts
    cd_offset: int  # start of the central directory, shift applied
    cd_size: int
    entries: int
    comment_length: int
    shift: int  # bytes prepended before the archive (zipfile's "concat")
    zip64: bool


@dataclass(frozen=True)
class CentralEntry:
    index: int
    name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    header_offset: int  # shift applied
    unicode_name: bytes | None  # Info-ZIP unicode path extra field (0x7075), if any

    def display(self) -> str:
        return decode_name(self.name, self.flags)


@dataclass(frozen=True)
class LocalHeader:
    offset: int
    name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    data_offset: int


def decode_name(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & UTF8_NAMES else "cp437", "replace")


def find_eocd(stream: BinaryIO, size: int) -> EndRecord | None:
    """The last end-of-central-directory record whose directory is really there, or None
    (readers search backwards from the end, as zipfile and miniz do)."""
    return next(end_records(stream, size), None)


def end_records(stream: BinaryIO, size: int) -> Iterator[EndRecord]:
    """Every end record in the tail whose directory is really there, last first."""
    start = max(0, size - TAIL_SEARCH)
    tail = read_at(stream, start, size - start)
    at = len(tail)
    while (at := tail.rfind(b"PK\x05\x06", 0, at)) >= 0:
        record = _end_record(stream, size, start + at, tail[at : at + EOCD.size])
        if record is not None:
            yield record


def _end_record(stream: BinaryIO, size: int, offset: int, raw: bytes) -> EndRecord | None:
    if len(raw) < EOCD.size:
        return None
    _, disk, cd_disk, _, entries, cd_size, cd_offset, comment = EOCD.unpack(raw)
    zip64 = False
    cd_end = offset
    record64 = offset - EOCD64_LOCATOR.size - EOCD64.size
    if record64 >= 0 and read_at(stream, offset - EOCD64_LOCATOR.size, 4) == b"PK\x06\x07":
        raw64 = read_at(stream, record64, EOCD64.size)
        if raw64[:4] == b"PK\x06\x06":
            fields = EOCD64.unpack(raw64)
            entries, cd_size, cd_offset = fields[7], fields[8], fields[9]
            zip64, cd_end = True, record64
    if disk != 0 or cd_disk != 0:
        return None
    shift = cd_end - cd_size - cd_offset
    for candidate in (shift, 0) if shift else (0,):
        start = cd_offset + candidate
        if entries == 0 and cd_size == 0:
            return EndRecord(offset, start, 0, 0, comment, candidate, zip64)
        if 0 <= start < size and read_at(stream, start, 4) == b"PK\x01\x02":
            return EndRecord(offset, start, cd_size, entries, comment, candidate, zip64)
    return None


def read_central(stream: BinaryIO, end: EndRecord, limit: int) -> list[CentralEntry]:
    """Central directory entries, read by size (as zipfile does), at most `limit` of them."""
    entries: list[CentralEntry] = []
    pos, stop = end.cd_offset, end.cd_offset + end.cd_size
    data = read_at(stream, pos, end.cd_size)
    if len(data) < end.cd_size:
        raise ZipError("central directory runs past the end of the file")
    at = 0
    while at < len(data) and len(entries) < limit:
        fixed = data[at : at + CENTRAL.size]
        if len(fixed) < CENTRAL.size or fixed[:4] != b"PK\x01\x02":
            raise ZipError(f"bad central directory entry at byte {pos + at}")
        f = CENTRAL.unpack(fixed)
        flags, method, crc, csize, usize = f[5], f[6], f[9], f[10], f[11]
        name_len, extra_len, comment_len, offset = f[12], f[13], f[14], f[18]
        body = data[at + CENTRAL.size : at + CENTRAL.size + name_len + extra_len]
        if len(body) < name_len + extra_len:
            raise ZipError(f"central directory entry at byte {pos + at} is cut short")
        name, extra = body[:name_len], body[name_len:]
        usize, csize, offset = _zip64_extra(extra, usize, csize, offset)
        entries.append(
            CentralEntry(
                len(entries),
                name,
                flags,
                method,
                crc,
                csize,
                usize,
                offset + end.shift,
                _unicode_path(extra),
            )
        )
        at += CENTRAL.size + name_len + extra_len + comment_len
    if at > len(data) or pos + at > stop:
        raise ZipError("central directory entry runs past the directory's declared size")
    return entries


def _extra_fields(extra: bytes) -> list[tuple[int, bytes]]:
    fields, at = [], 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, at)
        fields.append((kind, extra[at + 4 : at + 4 + length]))
        at += 4 + length
    return fields


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    for kind, body in _extra_fields(extra):
        if kind != 1:
            continue
        values = list(struct.unpack_from(f"<{len(body) // 8}Q", body))
        if usize == 0xFFFFFFFF and values:
            usize = values.pop(0)
        if csize == 0xFFFFFFFF and values:
            csize = values.pop(0)
        if offset == 0xFFFFFFFF and values:
            offset = values.pop(0)
    return usize, csize, offset


def _unicode_path(extra: bytes) -> bytes | None:
    for kind, body in _extra_fields(extra):
        if kind == 0x7075 and len(body) > 5 and body[0] == 1:
            return body[5:]
    return None


def read_local(stream: BinaryIO, offset: int, size: int) -> LocalHeader:
    if offset < 0:
        raise ZipError(f"local header offset {offset} lies before the file")
    raw = read_at(stream, offset, LOCAL.size)
    if len(raw) < LOCAL.size or raw[:4] != b"PK\x03\x04":
        raise ZipError(f"no local file header at byte {offset}")
    f = LOCAL.unpack(raw)
    flags, method, crc, csize, usize, name_len, extra_len = (
        f[3],
        f[4],
        f[7],
        f[8],
        f[9],
        f[10],
        f[11],
    )
    body = read_at(stream, offset + LOCAL.size, name_len + extra_len)
    if len(body) < name_len + extra_len:
        raise ZipError(f"local header at byte {offset} is cut short")
    usize, csize, _ = _zip64_extra(body[name_len:], usize, csize, 0)
    data_offset = offset + LOCAL.size + name_len + extra_len
    return LocalHeader(offset, body[:name_len], flags, method, crc, csize, usize, data_offset)

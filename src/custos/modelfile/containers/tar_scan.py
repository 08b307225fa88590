"""Tar archives (plain, or PyTorch's legacy tar layout): every regular member is streamed and
dispatched by content; links, devices, absolute or climbing names and data after the end of
the archive are reported. Headers are parsed by `tarfile` (it only reads; nothing is extracted).
"""

from __future__ import annotations

import tarfile
from collections import Counter
from typing import BinaryIO, cast

from custos.findings import Severity
from custos.modelfile import budget
from custos.modelfile.containers import member_guard
from custos.modelfile.containers.zip_member import bad_path
from custos.modelfile.context import ScanContext
from custos.modelfile.formats import torch_scan
from custos.modelfile.readers.streamview import read_at, stream_size
from custos.modelfile.rules import rule

MALFORMED = rule("tar/malformed", Severity.high, "A tar header is malformed or cut short.")
PATH = rule(
    "tar/path-traversal",
    Severity.high,
    "A member (or link target) is absolute or climbs out of the extraction directory.",
)
LINK = rule(
    "tar/link-member",
    Severity.medium,
    "A symbolic or hard link member: extraction can make it point anywhere.",
)
SPECIAL = rule(
    "tar/special-member",
    Severity.medium,
    "A device, FIFO or other special member has no place in a model archive.",
)
DUPLICATE = rule(
    "tar/duplicate-name",
    Severity.high,
    "Two members share a name; extraction keeps the last, a scanner may read the first.",
)
TRAILING = rule(
    "tar/trailing-data",
    Severity.medium,
    "Non-zero data after the end-of-archive marker (read by tools that ignore zero blocks).",
)
TOO_MANY = rule(
    "tar/too-many-members", Severity.high, "More members than the limit; the rest not inspected."
)


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> str:
    stream.seek(0)
    try:
        archive = tarfile.open(fileobj=stream, mode="r:")  # noqa: SIM115 - closed below
    except tarfile.TarError as err:
        ctx.emit(MALFORMED.id, MALFORMED.severity, f"not a readable tar archive: {err}", location)
        return "tar"
    try:
        members = _members(archive, location, ctx)
        legacy = torch_scan.is_legacy_tar({m.name for m in members})
        names: Counter[str] = Counter()
        for member in members:
            names[member.name] += 1
            where = f"{location}!{member.name}"
            if names[member.name] > 1:
                where += f"#{names[member.name]}"
                ctx.emit(DUPLICATE.id, DUPLICATE.severity, f"{member.name!r} repeats", where)
            _check(member, where, ctx)
            if member.isfile() and budget.admit(ctx, stream, where):
                with member_guard.member(ctx, where):  # a failure is this member's finding
                    _read(archive, member, legacy, where, ctx)
        _trailing(stream, archive.offset, location, ctx)
    finally:
        archive.close()
    return "pytorch-tar" if legacy else "tar"


def _read(
    archive: tarfile.TarFile, member: tarfile.TarInfo, legacy: bool, where: str, ctx: ScanContext
) -> None:
    if not budget.charge(ctx, member.size, where):
        return
    content = archive.extractfile(member)
    if content is None:
        return
    with content:
        data = cast(BinaryIO, content)
        handled = legacy and torch_scan.scan_tar_member(member.name, data, where, ctx)
        if not handled and member.size:
            ctx.dispatch(data, where)


def _members(archive: tarfile.TarFile, location: str, ctx: ScanContext) -> list[tarfile.TarInfo]:
    members: list[tarfile.TarInfo] = []
    while True:
        try:
            member = archive.next()
        except tarfile.TarError as err:
            ctx.emit(
                MALFORMED.id, MALFORMED.severity, f"after {len(members)} members: {err}", location
            )
            break
        if member is None:
            break
        if len(members) >= ctx.limits.max_members:
            ctx.emit(
                TOO_MANY.id,
                TOO_MANY.severity,
                f"more than {ctx.limits.max_members} members; the rest were not inspected",
                location,
            )
            break
        members.append(member)
    return members


def _check(member: tarfile.TarInfo, where: str, ctx: ScanContext) -> None:
    if bad_path(member.name):
        ctx.emit(PATH.id, PATH.severity, f"member name {member.name!r} escapes", where)
    if member.issym() or member.islnk():
        kind = "symbolic" if member.issym() else "hard"
        ctx.emit(LINK.id, LINK.severity, f"{kind} link to {member.linkname!r}", where)
        target = member.linkname
        if member.issym() and not target.startswith("/"):
            parent = member.name.rsplit("/", 1)[0] if "/" in member.name else ""
            target = f"{parent}/{target}" if parent else target
        if bad_path(target) or _climbs(target):
            ctx.emit(PATH.id, PATH.severity, f"link target {member.linkname!r} escapes", where)
    elif not member.isfile() and not member.isdir():
        ctx.emit(SPECIAL.id, SPECIAL.severity, f"special member of type {member.type!r}", where)


def _climbs(path: str) -> bool:
    depth = 0
    for part in path.replace("\\", "/").split("/"):
        if part == "..":
            depth -= 1
        elif part not in ("", "."):
            depth += 1
        if depth < 0:
            return True
    return False


def _trailing(stream: BinaryIO, offset: int, location: str, ctx: ScanContext) -> None:
    size = stream_size(stream)
    at = offset
    while at < size:
        chunk = read_at(stream, at, 1 << 20)
        if not chunk:
            break
        if chunk.strip(b"\0"):
            ctx.emit(
                TRAILING.id,
                TRAILING.severity,
                f"{size - offset} bytes after the end of the archive, not all zero",
                location,
            )
            return
        at += len(chunk)

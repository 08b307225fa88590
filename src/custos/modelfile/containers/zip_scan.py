"""Zip archives (PyTorch, Keras, npz or plain), parsed from the end record, the central
directory and every local header, compared with each other and with the file's layout.

Every member is dispatched by content, whatever its name: a pickle called `weights.bin` is a
pickle. Bytes no directory entry accounts for (prepended, appended, between members) are
reported, and a local header hiding there is scanned as a member of its own.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile.containers import member_guard
from custos.modelfile.containers.zip_member import check_central, scan_data
from custos.modelfile.context import ScanContext
from custos.modelfile.formats import torch_scan
from custos.modelfile.readers.streamview import read_at, stream_size
from custos.modelfile.readers.zip_parse import (
    DATA_DESCRIPTOR,
    EOCD,
    EndRecord,
    ZipError,
    decode_name,
    end_records,
    find_eocd,
    read_central,
    read_local,
)
from custos.modelfile.rules import rule

MALFORMED = rule("zip/malformed", Severity.high, "A zip structure is malformed or cut short.")
DUPLICATE = rule(
    "zip/duplicate-name",
    Severity.high,
    "Two members share a name; readers disagree on which one they return.",
)
OVERLAP = rule(
    "zip/overlapping-members",
    Severity.high,
    "Members share bytes (overlapping headers or data): a bomb or a parser-differential trick.",
)
PREPENDED = rule(
    "zip/prepended-data",
    Severity.medium,
    "Data precedes the archive; zipfile shifts offsets to compensate, other readers do not.",
)
TRAILING = rule(
    "zip/trailing-data", Severity.medium, "Data follows the end-of-central-directory record."
)
UNREFERENCED = rule(
    "zip/unreferenced-data",
    Severity.medium,
    "Bytes between members or before the central directory belong to no listed member.",
)
HIDDEN = rule(
    "zip/hidden-member",
    Severity.high,
    "A local file header that the central directory does not list (seen by streaming readers).",
)
COUNT = rule(
    "zip/entry-count-mismatch",
    Severity.high,
    "The end record's member count differs from the entries in the central directory.",
)
SEVERAL_ENDS = rule(
    "zip/multiple-end-records",
    Severity.high,
    "More than one valid end-of-central-directory record: readers that search differently see "
    "different archives.",
)
TOO_MANY = rule(
    "zip/too-many-members", Severity.high, "More members than the limit; the rest not inspected."
)
SIG = b"PK\x03\x04"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    name: str


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> str:
    """Scan a zip archive; returns the refined format (pytorch-zip, torchscript, keras, npz)."""
    size = stream_size(stream)
    end = find_eocd(stream, size)
    if end is None:
        ctx.emit(
            MALFORMED.id,
            MALFORMED.severity,
            "no end-of-central-directory record; members read from local headers",
            location,
        )
        _local_chain(stream, size, location, ctx)
        return "zip"
    _check_end(end, size, location, ctx)
    try:
        entries = read_central(stream, end, ctx.limits.max_members + 1)
    except ZipError as err:
        ctx.emit(MALFORMED.id, MALFORMED.severity, str(err), location)
        _local_chain(stream, size, location, ctx)
        return "zip"
    if len(entries) > ctx.limits.max_members:
        ctx.emit(
            TOO_MANY.id,
            TOO_MANY.severity,
            f"more than {ctx.limits.max_members} members; the rest were not inspected",
            location,
        )
        entries = entries[: ctx.limits.max_members]
    elif len(entries) != end.entries:
        ctx.emit(
            COUNT.id,
            COUNT.severity,
            f"end record declares {end.entries} members, the directory holds {len(entries)}",
            location,
        )
    names = [e.display() for e in entries]
    kind = torch_scan.zip_kind(names, location, ctx) or _other_kind(names)
    spans: list[Span] = []
    with torch_scan.member_policy(ctx, kind):
        seen: Counter[str] = Counter()
        views: set[tuple[int, int, int]] = set()
        configs: set[tuple[int, int, int]] = set()
        for entry, name in zip(entries, names, strict=True):
            seen[name] += 1
            where = f"{location}!{name}" if seen[name] == 1 else f"{location}!{name}#{seen[name]}"
            if seen[name] == 2:
                ctx.emit(
                    DUPLICATE.id, DUPLICATE.severity, f"{name!r} appears more than once", where
                )
            local = check_central(stream, size, entry, where, ctx)
            if local is None or (name.endswith("/") and entry.csize == 0):
                continue
            view = (local.data_offset, entry.csize, entry.method)
            stop = local.data_offset + entry.csize
            # The same bytes read the same way are scanned once (the overlap is reported); a
            # member that fails is its own finding and the next is read (member_guard).
            if view not in views:
                views.add(view)
                with member_guard.member(ctx, where):
                    stop = scan_data(
                        stream,
                        *view,
                        (entry.crc, entry.usize),
                        where,
                        ctx,
                        limit=end.cd_offset,
                        flags=entry.flags | local.flags,
                    )
            if kind == "keras":  # keras_scan is imported for Keras archives only
                from custos.modelfile.formats import keras_scan

                config = name in keras_scan.CONFIG_MEMBERS
                if config and view not in configs and not ctx.spent.exhausted:
                    configs.add(view)  # judged once per view, whatever name read it first
                    with member_guard.member(ctx, where):
                        keras_scan.scan_zip_config(stream, local.data_offset, entry, where, ctx)
            spans.append(
                Span(entry.header_offset, stop + _descriptor(stream, stop, entry.flags), name)
            )
    _layout(stream, spans, end, location, ctx)
    _other_directories(stream, size, end, spans, location, ctx)
    return kind


def _other_directories(
    stream: BinaryIO,
    size: int,
    chosen: EndRecord,
    spans: list[Span],
    location: str,
    ctx: ScanContext,
) -> None:
    """Earlier valid end records outside every member (those inside are nested archives)
    describe other archives in the same bytes: scan the members only they list."""
    done = {span.start for span in spans}
    inside = _inside(spans)
    directories: set[tuple[int, int]] = {(chosen.cd_offset, chosen.cd_size)}
    for other in end_records(stream, size):
        if other.offset == chosen.offset or inside(other.offset):
            continue
        ctx.emit(
            SEVERAL_ENDS.id,
            SEVERAL_ENDS.severity,
            f"another end record at byte {other.offset} lists its own directory",
            location,
        )
        if (other.cd_offset, other.cd_size) in directories:
            continue  # a directory already read: thousands of records cannot make it re-read
        directories.add((other.cd_offset, other.cd_size))
        try:
            entries = read_central(stream, other, ctx.limits.max_members)
        except ZipError as err:
            ctx.emit(MALFORMED.id, MALFORMED.severity, str(err), location)
            continue
        for entry in entries:
            if entry.header_offset in done:
                continue
            done.add(entry.header_offset)
            where = f"{location}!{entry.display()}@directory{other.offset}"
            local = check_central(stream, size, entry, where, ctx)
            if local is None or not entry.csize:
                continue
            with member_guard.member(ctx, where):
                scan_data(
                    stream,
                    local.data_offset,
                    entry.csize,
                    entry.method,
                    (entry.crc, entry.usize),
                    where,
                    ctx,
                    limit=other.cd_offset,
                    flags=entry.flags | local.flags,
                )


def _inside(spans: list[Span]) -> Callable[[int], bool]:
    """Whether an offset lies inside a member: by bisection, not by a walk over every member."""
    ordered = sorted(spans, key=lambda s: s.start)
    starts = [span.start for span in ordered]
    reach = list(accumulate((span.end for span in ordered), max))

    def test(offset: int) -> bool:
        at = bisect_right(starts, offset) - 1
        return at >= 0 and reach[at] > offset

    return test


def _other_kind(names: list[str]) -> str:
    from custos.modelfile.formats import keras_scan

    if keras_scan.is_keras_zip(names):
        return "keras"
    files = [n for n in names if not n.endswith("/")]
    if files and all(n.endswith(".npy") for n in files):
        return "npz"
    return "zip"


def _check_end(end: EndRecord, size: int, location: str, ctx: ScanContext) -> None:
    if end.shift > 0:
        ctx.emit(
            PREPENDED.id,
            PREPENDED.severity,
            f"{end.shift} bytes precede the archive; offsets are shifted as zipfile does",
            location,
        )
    after = size - (end.offset + EOCD.size + end.comment_length)
    if after > 0:
        ctx.emit(TRAILING.id, TRAILING.severity, f"{after} bytes after the end record", location)
    elif after < 0:
        ctx.emit(MALFORMED.id, MALFORMED.severity, "archive comment is cut short", location)


def _descriptor(stream: BinaryIO, at: int, flags: int) -> int:
    if not flags & DATA_DESCRIPTOR:
        return 0
    return 16 if read_at(stream, at, 4) == b"PK\x07\x08" else 12


def _layout(
    stream: BinaryIO, spans: list[Span], end: EndRecord, location: str, ctx: ScanContext
) -> None:
    """Overlaps, and bytes that no member accounts for (a local header there is scanned)."""
    cursor = max(0, end.shift)
    previous: Span | None = None
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if previous is not None and span.start < previous.end:
            ctx.emit(
                OVERLAP.id,
                OVERLAP.severity,
                f"{span.name!r} starts at byte {span.start}, inside {previous.name!r} "
                f"(ends at {previous.end})",
                f"{location}!{span.name}",
            )
        elif span.start > cursor:
            _gap(stream, cursor, span.start, location, ctx)
        cursor = max(cursor, span.end)
        previous = span if previous is None or span.end >= previous.end else previous
    if end.cd_offset > cursor:
        _gap(stream, cursor, end.cd_offset, location, ctx)
    records = end.offset - (end.cd_offset + end.cd_size)
    if records > (76 if end.zip64 else 0):
        ctx.emit(
            UNREFERENCED.id,
            UNREFERENCED.severity,
            f"{records} bytes between the central directory and the end record",
            location,
        )


def _gap(stream: BinaryIO, start: int, stop: int, location: str, ctx: ScanContext) -> None:
    if read_at(stream, start, 4) == SIG:
        _scan_local(stream, start, stop, location, ctx, hidden=True)
        return
    ctx.emit(
        UNREFERENCED.id,
        UNREFERENCED.severity,
        f"bytes [{start}, {stop}) belong to no member",
        location,
    )


def _scan_local(
    stream: BinaryIO, start: int, stop: int, location: str, ctx: ScanContext, *, hidden: bool
) -> int:
    """Scan the member whose local header is at `start`; `stop` bounds data of unknown size."""
    try:
        local = read_local(stream, start, stop)
    except ZipError as err:
        ctx.emit(MALFORMED.id, MALFORMED.severity, str(err), location)
        return stop
    name = decode_name(local.name, local.flags)
    where = f"{location}!{name}"
    if hidden:
        where += f"@hidden{start}"
        ctx.emit(
            HIDDEN.id,
            HIDDEN.severity,
            f"local header for {name!r} at byte {start} is not in the central directory",
            where,
        )
    csize, limit = local.csize, stream_size(stream)
    if local.flags & DATA_DESCRIPTOR and csize == 0:
        csize, limit = stop - local.data_offset, stop
    expect = None if local.flags & DATA_DESCRIPTOR else (local.crc, local.usize)
    with member_guard.member(ctx, where):
        return scan_data(
            stream,
            local.data_offset,
            csize,
            local.method,
            expect,
            where,
            ctx,
            limit=limit,
            flags=local.flags,
        )
    return local.data_offset + csize  # the member failed (reported): the chain goes on


def _local_chain(stream: BinaryIO, size: int, location: str, ctx: ScanContext) -> None:
    """Without a central directory: follow local headers from the start, as streaming readers do."""
    at, count = 0, 0
    while at < size and read_at(stream, at, 4) == SIG and count < ctx.limits.max_members:
        count += 1
        end = _scan_local(
            stream, at, _next_signature(stream, at + 4, size), location, ctx, hidden=False
        )
        at = max(end, at + 4)
        if read_at(stream, at, 4) != SIG:
            at = _next_signature(stream, at, size)


def _next_signature(stream: BinaryIO, start: int, size: int) -> int:
    at = start
    while at < size:
        chunk = read_at(stream, at, 1 << 20)
        found = chunk.find(SIG)
        if found >= 0:
            return at + found
        if len(chunk) < 4:
            break
        at += len(chunk) - 3
    return size

"""Budgets of one file, shared by every nesting level: members read, bytes read out of members,
wall time (`Limits.max_file_*`, `Limits.max_seconds`; the state is `ScanContext.spent`).

Per-member limits bound one member; these bound the whole file, so that nesting (zips of zips
of zips) or many directory entries over the same bytes cannot multiply the work: what a file
may cost grows linearly with its size. Containers (zip, tar, compressed streams) ask `admit`
before reading a member and `charge` the bytes it yields. The first budget to run out is
reported once (`limits/<budget>`, high: what follows is not inspected) and no member is read
after it.
"""

from __future__ import annotations

import time
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.readers.streamview import stream_size
from custos.modelfile.rules import rule

MEMBERS = rule(
    "limits/file-members",
    Severity.high,
    "A file holds more archive members (all nesting levels together) than its budget; the rest "
    "were not inspected.",
)
BYTES = rule(
    "limits/file-bytes",
    Severity.high,
    "Members of a file (all nesting levels together) yield more bytes than its budget "
    "(a multiple of the file's size); the rest were not inspected.",
)
TIME = rule(
    "limits/time",
    Severity.high,
    "Scanning a file took longer than the time budget; the rest was not inspected.",
)
BYTES_PER_MEMBER = 64  # a zip member takes at least 76 bytes of headers, a tar member 512


def admit(ctx: ScanContext, stream: BinaryIO, location: str) -> bool:
    """Whether one more member of `stream` (a container) may be read; counts it if so."""
    spent, limits = ctx.spent, ctx.limits
    if spent.file_size is None:
        spent.file_size = stream_size(stream)
    if spent.exhausted:
        return False
    if time.monotonic() - spent.started > limits.max_seconds:
        return _exhaust(
            ctx,
            TIME.id,
            f"more than {limits.max_seconds:g} s spent (time budget, max_seconds)",
            location,
        )
    allowed = min(limits.max_file_members, max(limits.member_floor, _size(ctx) // BYTES_PER_MEMBER))
    if spent.members >= allowed:
        return _exhaust(
            ctx,
            MEMBERS.id,
            f"more than {allowed} members read (member budget, max_file_members)",
            location,
        )
    spent.members += 1
    return True


def room(ctx: ScanContext) -> int:
    """Bytes members may still yield."""
    return max(0, allowed_bytes(ctx) - ctx.spent.bytes)


def allowed_bytes(ctx: ScanContext) -> int:
    limits = ctx.limits
    relative = max(limits.file_bytes_floor, limits.max_file_ratio * _size(ctx))
    return min(limits.max_file_bytes, relative)


def charge(ctx: ScanContext, size: int, location: str) -> bool:
    """Record `size` bytes read out of a member; False (reported) when that overdraws."""
    if size > room(ctx):
        ctx.spent.bytes = allowed_bytes(ctx)
        return exhaust_bytes(ctx, location)
    ctx.spent.bytes += size
    return True


def exhaust_bytes(ctx: ScanContext, location: str) -> bool:
    """Report the byte budget as spent (a decoder stopped at `room`); always False."""
    message = f"members yield more than {allowed_bytes(ctx)} bytes (byte budget, max_file_bytes)"
    return _exhaust(ctx, BYTES.id, message, location)


def _size(ctx: ScanContext) -> int:
    return ctx.spent.file_size or 0


def _exhaust(ctx: ScanContext, rule_id: str, what: str, location: str) -> bool:
    if not ctx.spent.exhausted:
        ctx.spent.exhausted = rule_id
        ctx.emit(
            rule_id,
            Severity.high,
            f"{what}: budget of the file spent; rest not inspected",
            location,
        )
    return False

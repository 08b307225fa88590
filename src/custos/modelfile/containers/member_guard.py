"""One archive member's failure is that member's finding, never the end of the archive.

A member whose decoder cannot even be built (LZMA properties a decoder refuses), or whose reading
fails in a way no check foresaw, is reported as not analysed (medium: the default gate fails,
since the member could carry code) with the reason, and the container goes on with the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.rules import rule

NOT_ANALYSED = rule(
    "archive/member-not-analysed",
    Severity.medium,
    "An archive member could not be read (its decoder or reader failed); it was not analysed, "
    "the rest of the archive was.",
)


def not_analysed(ctx: ScanContext, reason: str, location: str) -> None:
    ctx.emit(NOT_ANALYSED.id, NOT_ANALYSED.severity, f"not analysed: {reason}", location)


@contextmanager
def member(ctx: ScanContext, location: str) -> Iterator[None]:
    """Run one member's reading; an exception becomes its finding and the caller goes on."""
    depth = ctx.depth
    try:
        yield
    except Exception as err:  # any failure is reported, never the end of the archive
        ctx.depth = depth
        not_analysed(ctx, f"{type(err).__name__}: {str(err)[:200]}", location)

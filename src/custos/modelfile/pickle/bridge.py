"""The one way containers hand pickle bytes to the pickle analyser (`scan`).

Kept apart so container modules do not import the dispatcher, and so a missing analyser is a
finding (`format/unscanned`), never a silent pass.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
from typing import BinaryIO, cast

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.readers.streamview import Segments
from custos.modelfile.rules import rule

UNSCANNED = rule(
    "format/unscanned",
    Severity.high,
    "Content that needs an analyser that is not available was not inspected.",
)


def scan_pickles(
    stream: BinaryIO, location: str, ctx: ScanContext, *, all_pickles: bool = True
) -> frozenset[str] | None:
    """Analyse the pickle(s) in `stream` (every stacked pickle when `all_pickles`); returns the
    globals they import ("module.name"), None when that is not known."""
    try:
        module = importlib.import_module("custos.modelfile.pickle.scan")
    except ImportError:
        ctx.emit(UNSCANNED.id, UNSCANNED.severity, "pickle analyser unavailable", location)
        return None
    stream.seek(0)
    result = module.scan_pickle_stream(stream, location, ctx, all_pickles=all_pickles)
    names = getattr(result, "imports", None)
    return names if isinstance(names, frozenset) else None


def scan_pickle(stream: BinaryIO, location: str, ctx: ScanContext) -> bool:
    """Analyse a file or member whose content is a pickle (the analyser's default mode).
    True when the stream imports joblib's array wrapper (see joblib_scan)."""
    try:
        module = importlib.import_module("custos.modelfile.pickle.scan")
    except ImportError:
        ctx.emit(UNSCANNED.id, UNSCANNED.severity, "pickle analyser unavailable", location)
        return False
    stream.seek(0)
    result = module.scan(stream, location, ctx)
    return bool(getattr(result, "joblib", False))


def scan_ranges(
    stream: BinaryIO, ranges: list[tuple[int, int]], location: str, ctx: ScanContext
) -> frozenset[str] | None:
    """Analyse the pickles held in `ranges` of `stream` as one stacked stream; returns the
    globals they import (see scan_pickles).

    Offsets in the analyser's findings (`location@N`) are mapped back to `stream`'s own.
    """
    view = Segments(stream, ranges)
    first = len(ctx.findings)
    with io.BufferedReader(view, buffer_size=1 << 16) as buffered:
        names = scan_pickles(cast(BinaryIO, buffered), location, ctx, all_pickles=True)
    prefix = f"{location}@"
    for i in range(first, len(ctx.findings)):
        finding = ctx.findings[i]
        tail = finding.location[len(prefix) :]
        if finding.location.startswith(prefix) and tail.isdigit():
            real = view.real(int(tail))
            ctx.findings[i] = dataclasses.replace(finding, location=f"{prefix}{real}")
    return names

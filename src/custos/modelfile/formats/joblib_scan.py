"""joblib files: a pickle with NumPy array bytes written inside it.

joblib (numpy_pickle.py) pickles a `NumpyArrayWrapper` in place of each array and writes the
array right after the wrapper's BUILD opcode, straight to the file (after the current pickle
frame): one padding-length byte plus that many padding bytes when the wrapper carries
`numpy_array_alignment_bytes`, then `prod(shape) * itemsize` raw bytes. For an object dtype
it writes a nested pickle instead. `NumpyUnpickler.load_build` reads them back the same way.

The pickle analyser says when a stream imports the wrapper (by its resolved name, however it
is spelled); only then is the stream followed this way, so other pickles are never read twice.
This module follows that layout with the static machine of `opwalk`, then shows the pickle
analyser the pickle bytes only (raw arrays cut out, offsets mapped back) and analyses each
nested object-array pickle on its own. A wrapper whose array length cannot be worked out
statically is a finding, never a reason to skip the rest of the stream.

A joblib file has two readings, and both are reported: joblib's, and plain `pickle.load`'s,
which reads the array bytes after the first wrapper as opcodes (bytes that joblib takes for
array data can be a payload to pickle.load). `plain_reading` keeps what the plain reading
found in those bytes, up to where pickle.load would stop; its errors there are expected
(array data is rarely opcodes) and dropped, as is what it shares with joblib's reading.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import BinaryIO

from custos.findings import Finding, Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.formats.dtypes import typestr_info
from custos.modelfile.pickle.bridge import scan_ranges
from custos.modelfile.pickle.joblib_names import WRAPPER_MODULES
from custos.modelfile.pickle.opwalk import Global, Machine, Obj, Source, WalkError
from custos.modelfile.readers.streamview import read_at, stream_size
from custos.modelfile.rules import rule

UNRESOLVED = rule(
    "joblib/unresolved-array",
    Severity.high,
    "A joblib array wrapper whose data length cannot be worked out statically; the bytes "
    "after it may be read as array data by joblib and as opcodes by a scanner.",
)
# The pickle analyser's rules for where a reading stops or goes astray (pickle.scan).
_STOPS = frozenset({"pickle/malformed", "pickle/truncated", "pickle/trailing-data"})
_ASTRAY = _STOPS | {"pickle/frame-straddle"}


@dataclass
class Layout:
    """Where the pickle bytes are, and where the nested object-array pickles are."""

    pickle_ranges: list[tuple[int, int]] = field(default_factory=list)
    nested: list[tuple[int, int]] = field(default_factory=list)
    wrappers: int = 0
    problem: str | None = None


def is_wrapper(cls: object) -> bool:
    if not isinstance(cls, Global):
        return False
    full = f"{cls.module}.{cls.name}"
    return any(full == f"{module}.NumpyArrayWrapper" for module in WRAPPER_MODULES)


def layout(stream: BinaryIO) -> Layout:
    """Follow a joblib stream to the end of its main pickle."""
    size = stream_size(stream)
    result = Layout()
    source = Source(stream, 0, size)
    cursor = 0

    def on_build(machine: Machine, target: object) -> None:
        nonlocal cursor
        if not isinstance(target, Obj) or not is_wrapper(target.cls):
            return
        result.wrappers += 1
        attrs = _attributes(target)
        dtype = _dtype(attrs.get("dtype"))
        shape = attrs.get("shape")
        if dtype is None or not _is_shape(shape):
            raise WalkError(
                source.pos,
                f"array wrapper #{result.wrappers} has no static "
                f"dtype/shape ({_short(attrs.get('dtype'))}, {_short(shape)})",
            )
        assert isinstance(shape, tuple)
        itemsize, has_object = dtype
        # the loader reads from the file, after the current frame
        raw_start = source.file_pos
        result.pickle_ranges.append((cursor, raw_start - cursor))
        if has_object:
            nested = Machine(Source(stream, raw_start, size))
            end = nested.run()
            result.nested.append((raw_start, end - raw_start))
            source.raw_skip(end - raw_start)
        else:
            if attrs.get("numpy_array_alignment_bytes") is not None:
                pad = read_at(stream, raw_start, 1)
                source.raw_skip(1 + (pad[0] if pad else 0))
            count = 1
            for dim in shape:
                count *= dim
            source.raw_skip(count * itemsize)
        cursor = source.file_pos

    machine = Machine(source, on_build=on_build)
    try:
        machine.run()
    except WalkError as err:
        result.problem = str(err)
    result.pickle_ranges.append((cursor, size - cursor))
    return result


def scan(stream: BinaryIO, location: str, ctx: ScanContext, found: Layout) -> None:
    """Analyse a stream `layout` found wrappers in."""
    if found.problem:
        ctx.emit(
            UNRESOLVED.id,
            UNRESOLVED.severity,
            f"{found.problem}; the rest of the stream is analysed as pickle bytes",
            location,
        )
    scan_ranges(stream, found.pickle_ranges, location, ctx)
    for start, length in found.nested:
        scan_ranges(stream, [(start, length)], location, ctx)


def plain_reading(findings: list[Finding], found: Layout, location: str) -> list[Finding]:
    """What plain `pickle.load` reaches that joblib's reading does not: of `findings` (the
    analyser's plain reading of the whole stream), those in the bytes joblib reads as array
    data (from the first array on) and before the first place pickle.load stops, marked as
    that reading's. The prefix both readings share is left to joblib's."""
    if not found.wrappers or not found.pickle_ranges:
        return []
    start = found.pickle_ranges[0][1]  # the readings part where the first array starts
    placed = [(_offset(f.location, location), f) for f in findings]
    stop = min((at for at, f in placed if f.rule in _STOPS and at is not None), default=None)
    kept = []
    for at, finding in placed:
        if finding.rule in _ASTRAY or (at is not None and at < start):
            continue
        if at is not None and stop is not None and at >= stop:
            continue
        note = (
            f" (plain pickle.load reading: joblib reads the bytes from {start} on as array "
            "data, pickle.load as opcodes)"
        )
        kept.append(dataclasses.replace(finding, message=finding.message + note))
    return kept


def _offset(where: str, location: str) -> int | None:
    """The stream offset of an analyser finding at `location@N` (or `location@N!nested...`)."""
    prefix = f"{location}@"
    if not where.startswith(prefix):
        return None
    tail = where[len(prefix) :]
    digits = len(tail) - len(tail.lstrip("0123456789"))
    return int(tail[:digits]) if digits else None


def _short(value: object) -> str:
    """At most 80 characters of `value`'s repr; never raises (values may nest a million deep)."""
    try:
        return f"{value!r:.80}"
    except (RecursionError, ValueError):
        return f"<{type(value).__name__}>"


def _attributes(wrapper: Obj) -> dict[str, object]:
    names = ("subclass", "shape", "order", "dtype", "allow_mmap", "numpy_array_alignment_bytes")
    attrs: dict[str, object] = {}
    if wrapper.init:  # the class was called: __init__ set the attributes and their defaults
        attrs = {"allow_mmap": False, "numpy_array_alignment_bytes": 16}
        attrs.update(zip(names, wrapper.args, strict=False))
    attrs.update(wrapper.state)
    return attrs


def _dtype(value: object) -> tuple[int, bool] | None:
    if not isinstance(value, Obj) or not isinstance(value.cls, Global):
        return None
    if not value.cls.module.startswith("numpy") or value.cls.name != "dtype" or not value.args:
        return None
    spec = value.args[0]
    info = typestr_info(spec) if isinstance(spec, str) else None
    if info is None:
        return None
    itemsize, has_object = info
    state = value.state.get("__state__")
    if isinstance(state, tuple) and len(state) >= 8:
        elsize, flags = state[5], state[7]
        if isinstance(elsize, int) and elsize > 0:
            itemsize = elsize
        if isinstance(flags, int) and flags & 1:
            has_object = True
    return itemsize, has_object


def _is_shape(value: object) -> bool:
    return isinstance(value, tuple) and all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in value
    )

"""NumPy `.npy` files (npz archives are zips whose members land here).

The header is a Python dict literal read with `ast.literal_eval` on the header bytes only (it
evaluates literals, never code). An object array's data is a pickle (`np.load` needs
`allow_pickle=True` and then unpickles it): that pickle is analysed like any other. Numeric data
is checked against the shape and dtype and never read.

An object array whose pickle imports only NumPy's own reconstruction of arrays, dtypes and
scalars (what `np.save` writes for strings, numbers and lists) is low: the risk is the
`allow_pickle=True` its loader needs, which the repository scanner reports in code. Any other
global keeps the array medium, and the pickle's own findings (a critical `os.system`) stand.
"""

from __future__ import annotations

import ast
import math
import struct
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.formats.dtypes import descr_info
from custos.modelfile.pickle.bridge import scan_ranges
from custos.modelfile.readers.streamview import read_at, stream_size
from custos.modelfile.rules import rule

MALFORMED = rule("npy/malformed", Severity.high, "An .npy header is malformed.")
TRUNCATED = rule(
    "npy/truncated", Severity.high, "An .npy file holds less data than its header declares."
)
OBJECT = rule(
    "npy/object-array",
    Severity.medium,
    "An object array: its data is a pickle that np.load runs when allow_pickle=True.",
)
PLAIN_OBJECT = rule(
    "npy/object-array-numpy-only",
    Severity.low,
    "An object array whose pickle imports only NumPy's array, dtype and scalar reconstruction "
    "(np.save of strings, numbers, lists): loading it still needs allow_pickle=True.",
)
# What np.save writes for an object array, in NumPy 1 (numpy.core) and 2 (numpy._core) spelling.
RECONSTRUCTION = frozenset(
    {"numpy.ndarray", "numpy.dtype"}
    | {
        f"numpy.{core}.multiarray.{name}"
        for core in ("core", "_core")
        for name in ("_reconstruct", "scalar")
    }
)
TRAILING = rule("npy/trailing-data", Severity.low, "Bytes follow the array data of an .npy file.")
DTYPE = rule(
    "npy/unknown-dtype",
    Severity.medium,
    "An .npy dtype Custos does not understand; the data was not checked.",
)
MAX_HEADER = 1 << 20


class NpyError(Exception):
    pass


def read_header(stream: BinaryIO) -> tuple[dict[str, object], int]:
    """The header dict and the offset where array data starts."""
    prefix = read_at(stream, 0, 12)
    if len(prefix) < 10 or not prefix.startswith(b"\x93NUMPY"):
        raise NpyError("not an .npy file")
    major = prefix[6]
    if major == 1:
        (length,), start = struct.unpack("<H", prefix[8:10]), 10
    elif major in (2, 3):
        if len(prefix) < 12:
            raise NpyError("header length cut short")
        (length,), start = struct.unpack("<I", prefix[8:12]), 12
    else:
        raise NpyError(f"unsupported .npy format version {major}.{prefix[7]}")
    if length > MAX_HEADER:
        raise NpyError(f"header of {length} bytes is larger than {MAX_HEADER}")
    raw = read_at(stream, start, length)
    if len(raw) < length:
        raise NpyError("header cut short")
    try:
        text = raw.decode("utf-8" if major == 3 else "latin-1")
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError) as err:
        raise NpyError(f"header is not a Python literal: {err}") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise NpyError(f"header keys are not descr/fortran_order/shape: {header!r:.200}")
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise NpyError(f"shape {shape!r:.100} is not a tuple of non-negative ints")
    if not isinstance(header["fortran_order"], bool):
        raise NpyError("fortran_order is not a bool")
    return header, start + length


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
    try:
        header, data = read_header(stream)
    except NpyError as err:
        ctx.emit(MALFORMED.id, MALFORMED.severity, str(err), location)
        return
    size = stream_size(stream)
    info = descr_info(header["descr"])
    if info is None:
        ctx.emit(DTYPE.id, DTYPE.severity, f"dtype {header['descr']!r:.200}", location)
        if "O" in repr(header["descr"]):
            info = (8, True)
        else:
            return
    itemsize, has_object = info
    if has_object:
        mark = len(ctx.findings)
        names = scan_ranges(stream, [(data, size - data)], location, ctx)
        shape = header["shape"]
        if names is None:
            found, text = OBJECT, "was not fully analysed"
        elif names <= RECONSTRUCTION:
            found, text = PLAIN_OBJECT, "imports only NumPy's reconstruction"
        else:
            others = sorted(names - RECONSTRUCTION)
            found, text = OBJECT, "also imports " + ", ".join(others[:5])
        message = f"object array of shape {shape}: its data is a pickle that {text}"
        ctx.emit(found.id, found.severity, message, location)
        ctx.findings.insert(mark, ctx.findings.pop())  # the array first, then its pickle
        return
    assert isinstance(header["shape"], tuple)
    expected = itemsize * math.prod(header["shape"])
    have = size - data
    if have < expected:
        ctx.emit(
            TRUNCATED.id,
            TRUNCATED.severity,
            f"{have} bytes of data, the header declares {expected}",
            location,
        )
    elif have > expected:
        ctx.emit(
            TRAILING.id, TRAILING.severity, f"{have - expected} bytes after the data", location
        )

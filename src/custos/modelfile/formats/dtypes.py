"""NumPy dtype descriptions read without NumPy: item size and whether items are Python objects.

Covers what `.npy` headers and pickled `numpy.dtype` objects carry: type strings ('<f8', '|O',
'<U10', 'V12', 'M8[s]'), one-letter type codes, common names, and structured descriptions
(lists of (name, format[, shape]) tuples).
"""

from __future__ import annotations

import math
import re

_TYPESTR = re.compile(r"[<>|=]?([a-zA-Z?])(\d*)(?:\[[^\]]*\])?")
_CODES = {
    "?": 1, "b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "l": 8, "L": 8, "q": 8, "Q": 8,
    "p": 8, "P": 8, "e": 2, "f": 4, "d": 8, "g": 16, "F": 8, "D": 16, "G": 32, "O": 8,
    "M": 8, "m": 8, "S": 0, "a": 0, "U": 0, "V": 0, "c": 1,
}  # fmt: skip
_NAMES = {
    "bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
    "int64": 8, "uint64": 8, "float16": 2, "float32": 4, "float64": 8, "complex64": 8,
    "complex128": 16, "object": 8, "float": 8, "int": 8, "complex": 16,
}  # fmt: skip


def typestr_info(text: str) -> tuple[int, bool] | None:
    """(itemsize, has_object) of a type string, or None when it is not understood."""
    if text in _NAMES:
        return _NAMES[text], text == "object"
    match = _TYPESTR.fullmatch(text)
    if match is None:
        return None
    kind, digits = match.group(1), match.group(2)
    if not digits:
        size = _CODES.get(kind)
        return None if size is None else (size, kind == "O")
    count = int(digits)
    if kind == "U":
        return 4 * count, False
    if kind in "biufcSaVmMO?":
        return count, kind == "O"
    return None


def descr_info(descr: object, depth: int = 0) -> tuple[int, bool] | None:
    """(itemsize, has_object) of an `.npy` header `descr`, or None when it is not understood."""
    if depth > 32:
        return None
    if isinstance(descr, str):
        return typestr_info(descr)
    if not isinstance(descr, list):
        return None
    total, has_object = 0, False
    for item in descr:
        if not isinstance(item, tuple) or len(item) not in (2, 3):
            return None
        sub = descr_info(item[1], depth + 1)
        if sub is None:
            return None
        shape = item[2] if len(item) == 3 else ()
        if isinstance(shape, int):
            shape = (shape,)
        if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
            return None
        total += sub[0] * math.prod(shape)
        has_object = has_object or sub[1]
    return total, has_object

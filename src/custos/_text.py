"""Text every store and output format can keep.

Checks quote what they examined: file names (undecodable bytes arrive as lone surrogates
through `os.fsdecode`), pickle global names, member names. A lone surrogate cannot be encoded
as UTF-8 and PostgreSQL refuses NUL in text columns, so one hostile name could otherwise stop a
whole scan from being stored. Both are written as visible escapes instead: the evidence still
shows what was there.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar, cast

T = TypeVar("T")

_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: str) -> str:
    """`text` with every lone surrogate written as `\\uXXXX` (valid UTF-8 from then on)."""
    if _SURROGATE.search(text) is None:  # the common case: no copy
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def storable(text: str) -> str:
    """`safe_text`, and NUL written as `\\x00` (unchanged otherwise)."""
    return safe_text(text.replace("\x00", "\\x00") if "\x00" in text else text)


def safe_json(value: T) -> T:
    """A JSON-ready value (dicts, lists, strings, numbers) with `safe_text` applied to every
    string in it, keys included (tuples come back as lists, as JSON has them)."""
    return cast(T, _safe(value))


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    return value

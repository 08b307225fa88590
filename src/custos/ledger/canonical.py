"""RFC 8785 (JCS) canonical JSON: one byte string per value, so a ledger hash is reproducible.

The same entry must hash the same on every machine and in every language an auditor uses, so
entries are serialised with the JSON Canonicalization Scheme (sorted keys, ECMAScript number
form, UTF-8, no whitespace) via the `rfc8785` package. Before that, a walk over the value rejects
what JSON cannot carry (NaN, infinities, bytes, non-string keys, integers beyond 2**53) with a
message naming where in the value the problem is; silently coercing would make evidence lie.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from typing import Any

import rfc8785

from custos.errors import UserError

# JSON numbers are IEEE doubles; integers beyond this lose precision in other languages' parsers.
_SAFE_INT = 2**53 - 1
_MAX_DEPTH = 64


def canonical_json(value: object, *, what: str = "value") -> bytes:
    """The RFC 8785 bytes of a JSON value; UserError naming the offending place otherwise."""
    return encode(value, what=what)[0]


def encode(value: object, *, what: str = "value") -> tuple[bytes, Any]:
    """(RFC 8785 bytes, those bytes parsed back): the round trip is a deep copy the caller
    may keep, made for free on the fast path."""
    fast = _fast(value)
    if fast is not None:
        return fast
    _check(value, what, 0)  # raises, naming the place, for what JSON cannot carry
    try:
        data = rfc8785.dumps(value)  # type: ignore[arg-type]  # checked by _check above
    except rfc8785.CanonicalizationError as exc:  # e.g. lone surrogates in a string
        raise UserError(f"{what}: cannot be canonical JSON: {exc}") from exc
    return data, json.loads(data)


_SEEN = threading.local()  # set by the decoder hooks below when a value needs the careful path


def _seen_float(text: str) -> float:
    _SEEN.unusual = True
    return float(text)


def _seen_int(text: str) -> int:
    number = int(text)
    if not -_SAFE_INT <= number <= _SAFE_INT:
        _SEEN.unusual = True
    return number


# Built once: json.dumps/loads with options construct a new encoder/decoder on every call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_DECODER = json.JSONDecoder(parse_float=_seen_float, parse_int=_seen_int)


def _fast(value: object) -> tuple[bytes, Any] | None:
    """The stdlib's C encoder writes exactly the JCS bytes for a value without floats, with
    integers within 2**53 and ASCII keys (same escapes; code-point order is UTF-16 order for
    ASCII) - about 25 times faster than the pure-Python rfc8785, which appends need. Parsing
    the text back proves those conditions in C: it must equal the input (a tuple, a non-string
    key or an unusual subclass makes it differ) and the hooks must have seen no float or big
    integer. None sends the value down the careful path."""
    try:
        text = _ENCODER.encode(value)
        data = text.encode("utf-8")
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError):
        return None
    if text.count("{") + text.count("[") > _MAX_DEPTH and _depth(value) > _MAX_DEPTH:
        return None
    _SEEN.unusual = False
    parsed = _DECODER.decode(text)
    if _SEEN.unusual or parsed != value or type(parsed) is not type(value):
        return None
    if not text.isascii() and not _ascii_keys(parsed):
        return None
    return data, parsed


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _ascii_keys(value: object) -> bool:
    if isinstance(value, dict):
        return all(k.isascii() and _ascii_keys(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_ascii_keys(v) for v in value)
    return True


def canonical_object(value: Mapping[str, Any], *, what: str = "object") -> bytes:
    """Like `canonical_json`, for values that must be a JSON object (ledger entries are)."""
    if not isinstance(value, Mapping):
        raise UserError(f"{what}: must be a JSON object, got {type(value).__name__}")
    return canonical_json(value, what=what)


def parse_canonical(data: bytes, *, what: str = "value") -> Any:
    """Parse bytes that must already be canonical JSON (as written by `canonical_json`).

    Re-serialising and comparing makes any non-canonical input (extra spaces, unsorted keys,
    escaped characters) an error rather than a second, different encoding of the same entry.
    """
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{what}: not valid JSON: {exc}") from exc
    if canonical_json(value, what=what) != data:
        raise UserError(f"{what}: JSON is not in RFC 8785 canonical form")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _check(value: object, where: str, depth: int) -> bool:
    """Raise, naming the place, for what JSON cannot carry (True when it holds a float or a
    key that is not ASCII)."""
    if depth > _MAX_DEPTH:
        raise UserError(f"{where}: nested deeper than {_MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        return False
    if isinstance(value, int):
        if abs(value) > _SAFE_INT:
            raise UserError(f"{where}: integer {value} is beyond 2**53 and not exact in JSON")
        return False
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UserError(f"{where}: {value} is not allowed in JSON")
        return True
    if isinstance(value, Mapping):
        full = False
        for key, item in value.items():
            if not isinstance(key, str):
                raise UserError(f"{where}: key {key!r} is not a string")
            full = _check(item, f"{where}.{key}", depth + 1) or full or not key.isascii()
        return full
    if isinstance(value, (list, tuple)):
        full = False
        for index, item in enumerate(value):
            full = _check(item, f"{where}[{index}]", depth + 1) or full
        return full
    raise UserError(f"{where}: {type(value).__name__} is not a JSON type")

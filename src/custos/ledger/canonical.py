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
from collections.abc import Mapping
from typing import Any

import rfc8785

from custos.errors import UserError

# JSON numbers are IEEE doubles; integers beyond this lose precision in other languages' parsers.
_SAFE_INT = 2**53 - 1
_MAX_DEPTH = 64


def canonical_json(value: object, *, what: str = "value") -> bytes:
    """The RFC 8785 bytes of a JSON value; UserError naming the offending place otherwise."""
    if not _needs_full_encoder(value, what):
        try:
            # No floats and ASCII keys: the stdlib's C encoder writes exactly the JCS bytes
            # (same escapes, same integer form, code-point order = UTF-16 order for ASCII).
            # About 25 times faster than the pure-Python rfc8785, which evidence appends need.
            return json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            ).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 below says so in its own words
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]  # checked by _check above
    except rfc8785.CanonicalizationError as exc:  # e.g. lone surrogates in a string
        raise UserError(f"{what}: cannot be canonical JSON: {exc}") from exc


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


class _Unusual(Exception):
    """Raised by the quick scan for anything it does not vouch for; `_check` then decides."""


def _needs_full_encoder(value: object, what: str) -> bool:
    """`_check`'s answer, from a quick scan of exact JSON types without building location
    strings (appends run at 100k entries/s); anything unusual goes through `_check`."""
    try:
        return _quick(value, 0)
    except _Unusual:
        return _check(value, what, 0)


def _quick(value: object, depth: int) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return False
    if kind is int:
        if -_SAFE_INT <= value <= _SAFE_INT:  # type: ignore[operator]
            return False
        raise _Unusual
    if kind is float:
        if math.isfinite(value):  # type: ignore[arg-type]
            return True
        raise _Unusual
    if depth >= _MAX_DEPTH:
        raise _Unusual
    full = False
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                raise _Unusual
            if _quick(item, depth + 1) or not key.isascii():
                full = True
        return full
    if kind is list or kind is tuple:
        for item in value:  # type: ignore[attr-defined]
            if _quick(item, depth + 1):
                full = True
        return full
    raise _Unusual


def _check(value: object, where: str, depth: int) -> bool:
    """Raise for what JSON cannot carry; True when the value needs the full RFC 8785 encoder
    (it holds a float, or a key that is not ASCII)."""
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

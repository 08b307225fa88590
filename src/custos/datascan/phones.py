"""Phone numbers through Google's libphonenumber rules (the `phonenumbers` port): a number is
taken when its length is possible for its country, written with a country code (+..) or for
`region` without one. Imported on first use: most scans meet no phone-shaped value."""

from __future__ import annotations

import functools
import re
from typing import Any


@functools.cache
def _lib() -> Any:
    import phonenumbers

    return phonenumbers


_DECIMAL = re.compile(r"\d+[.,]\d{1,2}")
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|#)\s*\d{1,6}$", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)
def phone_number(text: str, region: str = "US") -> bool:
    """`text` is a complete phone number (not only a local one) of a possible length. A
    leading 00 is the international prefix of most of the world (ITU E.164), read as +."""
    if _DECIMAL.fullmatch(text) is not None:  # an amount (1234.56), not a phone number
        return False
    number = _EXTENSION.sub("", text.strip())
    digits = sum(ch.isdigit() for ch in number)
    if not 7 <= digits <= 17:
        return False
    if number.startswith("00"):
        number = "+" + number[2:].lstrip("-. ")
    lib = _lib()
    try:
        parsed = lib.parse(number, region)
    except lib.NumberParseException:
        return False
    reason = lib.is_possible_number_with_reason(parsed)
    return bool(reason == lib.ValidationResult.IS_POSSIBLE)

"""Personal data inside running text (comments, notes, chat logs, prompts): each type's pattern
finds candidates, its validator decides, and a span taken by one type is not read again as
another (a card number is not also a phone number). Phone numbers count when written as phone
numbers (a country code, brackets or separators), or as a bare run of digits right after a word
that says so ("call", "phone", "mobile" ...): a bare run alone is as likely an order id. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from custos.datascan import validators
from custos.datascan.phones import phone_number
from custos.datascan.recognizers import Hit, Options, enabled
from custos.datascan.secrets import secret_in

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}(?![\w-])"
)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_NINO = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{1,8}){1,5}"
    r"(?:\s*(?:x|ext\.?)\s*\d{1,6})?(?![\w-])"
    r"|(?<![\w+])\+\d{7,15}(?![\w-])",
    re.IGNORECASE,
)


_BARE_PHONE = re.compile(r"(?<![\w+.-])\d{10,15}(?![\w-])")
# Words that, just before a bare run of digits, say it is a phone number (not an order id).
_PHONE_CONTEXT = re.compile(
    r"\b(?:call(?:ed)?|phone|tel|telephone|mobile|cell|sms|text|whatsapp|ring|dial|contact|"
    r"reach|number|no\.|nr\.?)\b[^.\n]{0,24}$",
    re.IGNORECASE,
)


def _phone(value: str, options: Options) -> bool:
    written = value.startswith("+") or "(" in value or not value.replace(" ", "").isdigit()
    return written and validators.parse_date(value) is None and phone_number(value, options.region)


# In priority order: a span one type takes is not read as another.
FINDERS: tuple[tuple[str, re.Pattern[str], Callable[[str, Options], bool]], ...] = (
    ("email", _EMAIL, lambda v, o: True),
    ("iban", _IBAN, lambda v, o: validators.iban(v)),
    ("card", _CARD, lambda v, o: validators.card_number(v)),
    ("ssn", _SSN, lambda v, o: validators.us_ssn(v)),
    ("nino", _NINO, lambda v, o: validators.gb_nino(v)),
    ("ip", _IPV4, lambda v, o: validators.ip_address(v)),
    ("ip", _IPV6, lambda v, o: ":" in v and validators.ip_address(v)),
    ("phone", _PHONE, _phone),
)


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in taken)


def find_in_text(text: str, options: Options) -> list[tuple[str, str]]:
    """(type, value) for each piece of personal data in `text`."""
    found: list[tuple[str, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern, valid in FINDERS:
        if not enabled(kind, options):
            continue
        for match in pattern.finditer(text):
            start, end = match.span()
            if _overlaps(start, end, taken) or not valid(match.group(), options):
                continue
            found.append((kind, match.group()))
            taken.append((start, end))
    if enabled("phone", options):
        for match in _BARE_PHONE.finditer(text):
            start, end = match.span()
            if _overlaps(start, end, taken) or not _PHONE_CONTEXT.search(
                text[max(0, start - 40) : start]
            ):
                continue
            if phone_number(match.group(), options.region):
                found.append(("phone", match.group()))
                taken.append((start, end))
    found.extend(("secret", secret) for _label, secret in secret_in(text))
    return found


def text_hits(values: Sequence[str], options: Options) -> list[Hit]:
    """The types found in a column of running text: rows holding each, and examples."""
    rows: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    labels: dict[str, None] = {}
    for value in values:
        seen = set()
        for kind, piece in find_in_text(value, options):
            if kind not in seen:
                seen.add(kind)
                rows[kind] = rows.get(kind, 0) + 1
            kept = examples.setdefault(kind, [])
            if len(kept) < 3 and piece not in kept:
                kept.append(piece)
        if "secret" in seen:
            labels.update(dict.fromkeys(label for label, _ in secret_in(value)))
    if options.names_in_text is not None:
        named = [names for names in options.names_in_text(values) if names]
        if named:
            rows["name"] = rows.get("name", 0) + len(named)
            examples["name"] = list(dict.fromkeys(n for names in named for n in names))[:3]
    return [
        Hit(kind, n, tuple(examples[kind]), tuple(labels) if kind == "secret" else ())
        for kind, n in rows.items()
    ]

"""Checksums and structural rules of the identifiers the data scanner looks for. Pure
functions on one candidate string each; the patterns that find candidates are in
`recognizers` and `freetext`. Facts (IIN ranges, IBAN lengths, SSN rules) are public
specifications, restated here in our own code."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re

# -- payment cards: Luhn, and the issuer (IIN) ranges and lengths of the major networks -------

# (first digits low, high, allowed lengths): Visa, Mastercard (51-55 and 2221-2720), Amex,
# Discover, JCB, Diners Club, UnionPay, Maestro. A number outside every range is no card.
_IIN: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),
    ("51", "55", frozenset({16})),
    ("2221", "2720", frozenset({16})),
    ("34", "34", frozenset({15})),
    ("37", "37", frozenset({15})),
    ("6011", "6011", frozenset({16, 17, 18, 19})),
    ("644", "649", frozenset({16, 17, 18, 19})),
    ("65", "65", frozenset({16, 17, 18, 19})),
    ("3500", "3599", frozenset({16, 17, 18, 19})),  # JCB (3528-3589 today; older cards below)
    ("2131", "2131", frozenset({15})),
    ("1800", "1800", frozenset({15})),
    ("300", "305", frozenset({14, 15, 16, 17, 18, 19})),
    ("36", "36", frozenset({14, 15, 16, 17, 18, 19})),
    ("38", "39", frozenset({14, 16, 17, 18, 19})),
    ("62", "62", frozenset({16, 17, 18, 19})),
    ("5018", "5018", frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ("5020", "5020", frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ("5038", "5038", frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ("56", "58", frozenset({12, 13, 14, 15, 16, 17, 18, 19})),  # Maestro
    ("6304", "6304", frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ("6390", "6390", frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ("6759", "6763", frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    ("0604", "0604", frozenset({12, 13, 14, 15, 16, 17, 18, 19})),  # Maestro's old range
)


def luhn(digits: str) -> bool:
    """The Luhn (mod 10) check digit holds for this string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_issuer_known(digits: str) -> bool:
    """The number starts with a known issuer range and has a length that network issues."""
    n = len(digits)  # prefixes compared as text: at equal widths that is numeric order
    return any(n in lengths and low <= digits[: len(low)] <= high for low, high, lengths in _IIN)


def card_number(text: str) -> bool:
    """A payment card number: 12-19 digits (spaces or dashes between groups allowed), a known
    issuer range and length, and a valid Luhn check digit; not one repeated digit."""
    digits = text.replace(" ", "").replace("-", "")
    if not (12 <= len(digits) <= 19 and digits.isdigit()) or len(set(digits)) == 1:
        return False
    return card_issuer_known(digits) and luhn(digits)


# -- IBAN: country, length, ISO 7064 mod 97-10 ------------------------------------------------

IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def iban(text: str) -> bool:
    """An IBAN: a known country, that country's length, and the mod 97 check (= 1)."""
    compact = text.replace(" ", "").upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    if not compact.isalnum() or not compact.isascii():
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


# -- national identifiers (country packs) -------------------------------------------------------


def us_ssn(text: str) -> bool:
    """A US Social Security number by the SSA's rules: area not 000, 666 or 900-999, group not
    00, serial not 0000 (dashes or spaces between the parts allowed); not one repeated digit."""
    digits = text.replace("-", "").replace(" ", "")
    if len(digits) != 9 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    area, group, serial = int(digits[:3]), digits[3:5], digits[5:]
    return area not in (0, 666) and area < 900 and group != "00" and serial != "0000"


_NINO = re.compile(
    r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]"
)


def gb_nino(text: str) -> bool:
    """A UK National Insurance number: two prefix letters from the allowed set (not D, F, I, Q,
    U, V; O not second; not BG, GB, KN, NK, NT, TN, ZZ), six digits, suffix A-D."""
    return _NINO.fullmatch(text.upper()) is not None


# -- network and time ---------------------------------------------------------------------------


def ip_address(text: str) -> bool:
    """An IPv4 (dotted quad) or IPv6 address."""
    if not 2 < len(text) <= 45:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# Numeric dates: year first (2024-05-17, 2024/05/17, 20240517) or last (17/05/2024, 05-17-2024,
# 17.05.2024; day first when the first part is above 12, else month first as in the US).
_YEAR_FIRST = re.compile(r"(\d{4})([-/.]?)(\d{1,2})\2(\d{1,2})")
_YEAR_LAST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})")


def parse_date(text: str) -> dt.date | None:
    """A calendar date in one of the common numeric layouts (a time after it is ignored)."""
    head = text.strip()
    head = head.split("T", 1)[0].split(" ", 1)[0]
    found = _YEAR_FIRST.fullmatch(head)
    if found is not None:
        if not found.group(2) and len(head) != 8:
            return None
        year, month, day = int(found.group(1)), int(found.group(3)), int(found.group(4))
    else:
        found = _YEAR_LAST.fullmatch(head)
        if found is None:
            return None
        first, second, year = int(found.group(1)), int(found.group(3)), int(found.group(4))
        month, day = (second, first) if first > 12 or found.group(2) == "." else (first, second)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def birth_date(text: str, today: dt.date) -> bool:
    """A date that can be a living person's birth date: not in the future, at most 120 years
    ago."""
    found = parse_date(text)
    return found is not None and dt.date(today.year - 120, 1, 1) <= found <= today

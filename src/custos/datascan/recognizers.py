"""Which values of a column are personal data or secrets, and when a column as a whole holds a
type. Pure: values in, counts out.

A validator alone is not enough on a whole column: one random 16-digit order id in ten passes
Luhn and a known card range, and most 10-digit ids are possible phone numbers. So a type is
reported for a column only when the values of its shape mostly validate (`min_valid`: far above
what chance gives), and the types that look like common ids (bare phone digits, bare 9-digit
SSNs, dates of birth, names) also need the column's name or the values' formatting to say so.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from custos.datascan import validators
from custos.datascan.phones import phone_number
from custos.datascan.sample import SEED
from custos.datascan.secrets import secret_in

TYPES = ("email", "phone", "card", "iban", "ssn", "nino", "ip", "dob", "name", "secret")
PACKS = {"us": ("ssn",), "gb": ("nino",)}  # national identifier types per country pack
VALIDATE_ALL = 1000  # distinct values of a type's shape always validated one by one
ESTABLISHED = 0.98  # ... and the share of them that establishes the type for the rest

_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_PHONE_SHAPE = re.compile(r"\+?[\d().\s/-]{7,24}(?:\s*(?:x|ext\.?|#)\s*\d{1,6})?", re.IGNORECASE)
_CARD_SHAPE = re.compile(r"\d[\d -]{10,24}\d")
_IBAN_SHAPE = re.compile(r"[A-Za-z]{2}\d{2}[A-Za-z0-9 ]{10,36}")
_SSN_SHAPE = re.compile(r"\d{3}([- ]?)\d{2}\1\d{4}")
_NINO_SHAPE = re.compile(r"[A-Za-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-Da-d]")
_IP_SHAPE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}|(?=.*:)[0-9A-Fa-f:.]{2,45}")
_DATE_SHAPE = re.compile(r"\d{1,4}[-/.]?\d{1,2}[-/.]?\d{1,4}(?:[T ].*)?")
_WORD = r"[^\W\d_][^\W\d_'\u2019.-]*(?:[-'\u2019.][^\W\d_]+)*\.?"  # a letter first: O'Neil
_NAME = re.compile(rf"{_WORD}(?: {_WORD}){{0,4}}")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")

# Column-name words that say what a column holds (camelCase and snake_case both split).
PHONE_HINTS = frozenset({"phone", "mobile", "tel", "telephone", "msisdn", "fax", "cell"})
SSN_HINTS = frozenset({"ssn", "social", "tin", "taxpayer"})
DOB_HINTS = frozenset({"dob", "birth", "birthday", "birthdate", "born"})
NAME_HINTS = frozenset({
    "name", "firstname", "lastname", "fullname", "surname", "forename", "givenname",
    "familyname", "middlename", "maidenname",
})  # fmt: skip
# ... unless the name is of a thing, not a person.
NOT_PERSON = frozenset({
    "file", "filename", "product", "model", "column", "table", "host", "hostname", "domain",
    "company", "merchant", "brand", "item", "category", "city", "country", "street", "project",
    "app", "service", "feature", "class", "label", "dataset", "bank", "device", "user",
    "username", "org", "organisation", "organization", "business", "store", "shop", "team",
    "group", "role", "state", "region", "branch", "vendor", "supplier", "plan", "campaign",
    "event", "job", "task", "queue", "bucket", "key", "field", "type", "tag", "node",
})  # fmt: skip


def name_words(column: str) -> frozenset[str]:
    """The words of a column name, lower case: `customerFirstName` and `customer_first_name`
    give {customer, first, name, firstname}; adjacent pairs are joined too."""
    words = [w.lower() for part in re.split(r"[^A-Za-z0-9]+", column) for w in _WORDS.findall(part)]
    pairs = {a + b for a, b in itertools.pairwise(words)}
    return frozenset(words) | pairs


# Texts -> the person names found in each (an NER model's PERSON entities).
PersonFinder = Callable[[Sequence[str]], list[list[str]]]


@dataclass(frozen=True)
class Options:
    """What the scan looks for: the national-id packs, the phone region for numbers without a
    country code, and the day (dates of birth are in the past)."""

    packs: tuple[str, ...] = tuple(PACKS)
    region: str = "US"
    today: dt.date = field(default_factory=dt.date.today)
    # Person names in running text, from an NER model the user installed (custos.datascan.ner);
    # None: names are found from name-like columns only.
    names_in_text: PersonFinder | None = field(default=None, compare=False)
    names_method: str = "column names"


@dataclass(frozen=True)
class Hit:
    """A type found in a column: how many sampled rows hold it, and some of the values (for
    masking: never written out as they are)."""

    kind: str
    rows: int
    values: tuple[str, ...]
    labels: tuple[str, ...] = ()  # what kind of secret, for the finding's message


@dataclass(frozen=True)
class _Type:
    kind: str
    shape: re.Pattern[str] | None  # candidate values (fullmatch); None: every value
    valid: Callable[[str, Options], bool]
    min_valid: float  # share of shape-matching rows that must validate
    hints: frozenset[str] = frozenset()
    # True: the column's name must hint it; "formatted": the name or the values' formatting
    needs: bool | str = False


def _phone_valid(value: str, options: Options) -> bool:
    return validators.parse_date(value) is None and phone_number(value, options.region)


def _name_valid(value: str, _options: Options) -> bool:
    """Words of letters (any case: exports lower- or upper-case names), at most five; the
    column's name has already said it holds people's names."""
    return _NAME.fullmatch(value) is not None


# In priority order: a value one type validates is not a candidate for the types after it (a
# valid IP address or card number is never also read as a phone number).
STRUCTURED: tuple[_Type, ...] = (
    _Type("email", _EMAIL_SHAPE, lambda v, o: _EMAIL.fullmatch(v) is not None, 0.5),
    _Type("ip", _IP_SHAPE, lambda v, o: validators.ip_address(v), 0.8),
    _Type("iban", _IBAN_SHAPE, lambda v, o: validators.iban(v), 0.5),
    _Type("card", _CARD_SHAPE, lambda v, o: validators.card_number(v), 0.5),
    _Type("ssn", _SSN_SHAPE, lambda v, o: validators.us_ssn(v), 0.8, SSN_HINTS, "formatted"),
    _Type("nino", _NINO_SHAPE, lambda v, o: validators.gb_nino(v), 0.8),
    _Type("dob", _DATE_SHAPE, lambda v, o: validators.birth_date(v, o.today), 0.8, DOB_HINTS, True),
    _Type("phone", _PHONE_SHAPE, _phone_valid, 0.6, PHONE_HINTS, "formatted"),
    _Type("name", None, _name_valid, 0.8, NAME_HINTS, True),
)


def _formatted(kind: str, value: str) -> bool:
    """The value carries the punctuation its type is written with (not a bare run of digits)."""
    if kind == "ssn":
        return not value.isdigit()
    return value.startswith("+") or "(" in value or not value.replace(" ", "").isdigit()


def enabled(kind: str, options: Options) -> bool:
    national = {t for pack in PACKS.values() for t in pack}
    return kind not in national or any(kind in PACKS.get(p, ()) for p in options.packs)


def structured_hits(column: str, counts: Counter[str], options: Options) -> list[Hit]:
    """The types a column of short values holds; `counts` is each distinct value's number of
    rows in the sample."""
    words = name_words(column)
    person = bool(words & NAME_HINTS) and not (words & NOT_PERSON)
    hits = []
    claimed: set[str] = set()
    # One search over the column's values joined by lines tells, in C, whether any value has
    # a type's shape at all; most columns have none for most types (values holding a line
    # break are always looked at one by one).
    joined = "\n".join(v for v in counts if "\n" not in v)
    broken = any("\n" in v for v in counts)
    for t in STRUCTURED:
        if not enabled(t.kind, options):
            continue
        hinted = person if t.kind == "name" else bool(words & t.hints)
        if t.needs is True and not hinted:
            continue
        if t.shape is not None and not broken and _gate(t.shape).search(joined) is None:
            continue
        # Without a name hint, only values written the type's way are candidates (a column of
        # bare digits is ids, not phone numbers): they are not even validated.
        written = t.needs != "formatted" or hinted
        shaped = {
            v: n for v, n in counts.items()
            if v not in claimed and (t.shape is None or t.shape.fullmatch(v))
            and (written or _formatted(t.kind, v))
        }  # fmt: skip
        shaped_rows = sum(shaped.values())
        if not shaped_rows:
            continue
        valid, valid_rows = _validated(t, shaped, options)
        claimed.update(valid)
        if not valid_rows or valid_rows < t.min_valid * shaped_rows:
            continue
        hits.append(Hit(t.kind, valid_rows, _examples(valid)))
    # a value that is an email, a card or any other type is no credential
    secrets = _secret_rows(Counter({v: n for v, n in counts.items() if v not in claimed}))
    if secrets:
        hits.append(secrets)
    return hits


@functools.cache
def _gate(shape: re.Pattern[str]) -> re.Pattern[str]:
    """`shape` as a whole line: a search for any value of that shape among lines."""
    return re.compile(rf"^(?:{shape.pattern})$", shape.flags | re.MULTILINE)


def _validated(t: _Type, shaped: dict[str, int], options: Options) -> tuple[dict[str, int], int]:
    """The values of `shaped` that validate, and the rows they stand for. Beyond
    VALIDATE_ALL distinct values, a uniform subset is validated first; when nearly all of it
    validates, the type is established and the rest is counted at that rate (and taken as
    this type's), so a column of 10,000 phone numbers costs 1,000 parses. Otherwise every
    value is validated: a rare type among other values is never estimated away."""
    if len(shaped) <= VALIDATE_ALL:
        valid = {v: n for v, n in shaped.items() if t.valid(v, options)}
        return valid, sum(valid.values())
    order = sorted(shaped)
    random.Random(SEED).shuffle(order)  # noqa: S311 (a uniform, repeatable subset)
    head = {v: shaped[v] for v in order[:VALIDATE_ALL]}
    valid = {v: n for v, n in head.items() if t.valid(v, options)}
    head_rows, valid_rows = sum(head.values()), sum(valid.values())
    if valid_rows >= ESTABLISHED * head_rows:
        rest = {v: shaped[v] for v in order[VALIDATE_ALL:]}
        estimate = valid_rows + round(sum(rest.values()) * valid_rows / head_rows)
        return {**valid, **rest}, estimate
    valid.update((v, shaped[v]) for v in order[VALIDATE_ALL:] if t.valid(v, options))
    return valid, sum(valid.values())


def _secret_rows(counts: Counter[str]) -> Hit | None:
    found: dict[str, int] = {}
    labels: dict[str, None] = {}
    rows = 0
    for value, n in counts.items():
        matched = secret_in(value)
        if matched:
            rows += n
            found.setdefault(value if len(value) <= 200 else matched[0][1], n)
            labels.update(dict.fromkeys(label for label, _ in matched))
    if not rows:
        return None
    return Hit("secret", rows, tuple(list(found)[:3]), tuple(labels))


def _examples(values: dict[str, int]) -> tuple[str, ...]:
    return tuple(sorted(values, key=lambda v: -values[v])[:3])


def is_free_text(values: Iterable[str]) -> bool:
    """Most values are running text (several words), not one token each."""
    total = text = 0
    for value in values:
        total += 1
        if len(value) > 24 and value.count(" ") >= 3:
            text += 1
    return total > 0 and text >= 0.5 * total

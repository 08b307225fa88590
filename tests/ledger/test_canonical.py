"""RFC 8785 canonical JSON: the RFC's own examples, and refusal of what JSON cannot carry."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from custos.errors import UserError
from custos.ledger.canonical import canonical_json, canonical_object, parse_canonical


def test_rfc8785_section_3_2_3_example() -> None:
    # Input and output as printed in RFC 8785 section 3.2.3.
    value = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_key_order_is_utf16() -> None:
    # Keys from RFC 8785 section 3.2.3: sorted by UTF-16 code units, so the emoji (a surrogate
    # pair starting 0xD83D) sorts before U+FB33 although its code point is larger.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonical_json(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_equal_values_give_equal_bytes_whatever_the_insertion_order() -> None:
    one = {"b": [1, 2.0, {"y": None, "x": True}], "a": "é"}
    two = {"a": "é", "b": (1, 2, {"x": True, "y": None})}
    assert (
        canonical_json(one)
        == canonical_json(two)
        == '{"a":"é","b":[1,2,{"x":true,"y":null}]}'.encode()
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"x": float("nan")}, r"payload\.x: nan is not allowed"),
        ({"x": [1, float("inf")]}, r"payload\.x\[1\]: inf is not allowed"),
        ({"x": -float("inf")}, r"payload\.x: -inf"),
        ({"x": b"raw"}, r"payload\.x: bytes is not a JSON type"),
        ({"x": {1: "a"}}, r"payload\.x: key 1 is not a string"),
        ({"x": {"a", "b"}}, r"payload\.x: set is not a JSON type"),
        ({"x": 2**53}, r"payload\.x: integer 9007199254740992 is beyond 2\*\*53"),
        ({"x": "\ud800"}, r"payload: cannot be canonical JSON"),
    ],
)
def test_non_json_values_are_refused_naming_the_place(value: object, message: str) -> None:
    with pytest.raises(UserError, match=message):
        canonical_json(value, what="payload")


def test_objects_only_where_an_object_is_required() -> None:
    with pytest.raises(UserError, match="must be a JSON object, got list"):
        canonical_object([1, 2], what="entry")  # type: ignore[arg-type]


def test_deep_nesting_is_refused_not_a_crash() -> None:
    value: object = 1
    for _ in range(100):
        value = [value]
    with pytest.raises(UserError, match="nested deeper than 64"):
        canonical_json(value)


def test_parse_accepts_only_canonical_bytes() -> None:
    assert parse_canonical(b'{"a":1,"b":[true]}') == {"a": 1, "b": [True]}
    for data in (b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":1,"a":1}', b'{"a":1.0}'):
        with pytest.raises(UserError, match="not in RFC 8785 canonical form"):
            parse_canonical(data)
    for data in (b'{"a":NaN}', b"{", b"\xff"):
        with pytest.raises(UserError, match="not valid JSON"):
            parse_canonical(data)


_SAFE_INTS = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | _SAFE_INTS
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_fast_path_writes_exactly_what_rfc8785_writes(value: object) -> None:
    # canonical_json uses the stdlib encoder when no float and no non-ASCII key is present;
    # whichever path it takes, the bytes must be the reference implementation's.
    try:
        reference = rfc8785.dumps(value)  # type: ignore[arg-type]
    except rfc8785.CanonicalizationError:
        with pytest.raises(UserError):
            canonical_json(value)
        return
    assert canonical_json(value) == reference

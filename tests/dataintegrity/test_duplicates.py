"""Exact and near duplicates: the normalising rule (NFKC, case folding, whitespace, numbers at
six significant digits), pairs of (row, first row it repeats), rows that repeat an earlier row's
features under another label; and none at all on unique data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from custos.dataintegrity.duplicates import duplicates
from custos.dataintegrity.normalise import near_key, round_number, round_numbers
from custos.dataintegrity.table import load
from tests.dataintegrity.planted import write


def _wide(text: str) -> str:
    """`text` in full-width letters, which NFKC turns back."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_near_key_rule() -> None:
    assert near_key("  Red \t Car ") == near_key("red car") == near_key(_wide("RED CAR"))
    assert near_key("1.50") == near_key("1.5") == near_key("1.5000001") == near_key("15e-1")
    assert near_key("1000") == near_key("1e3")
    assert near_key("1.5") != near_key("1.50001")  # the sixth significant digit counts
    assert near_key("N/A") == near_key("") == near_key("null")
    assert near_key("red") != near_key("reds")
    assert round_number(-0.0) == 0.0
    values = np.array([123456.7, 0.000123456789, 9.9999999, -2.5e-12, 0.0, np.nan])
    expected = [round_number(v) for v in values]
    np.testing.assert_array_equal(round_numbers(values), np.array(expected))


def test_pairs_name_the_first_row(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text(
        "text,amount,label\n"
        "Red car,1.5,a\n"  # 0
        "blue car,2,b\n"  # 1
        "Red car,1.5,a\n"  # 2: exact copy of 0
        "  RED   car ,1.50000001,a\n"  # 3: near copy of 0
        "Red car,1.5,b\n"  # 4: row 0's features, another label
        f"{_wide('blue')} car,2.0,b\n"  # 5: near copy of 1
        "green car,3,a\n"  # 6
    )
    found = duplicates(load([path], "label"))
    assert found.exact == ((2, 0),)
    assert found.near == ((3, 0), (5, 1))
    assert found.conflicting == ((4, 0),)


def test_no_duplicates_on_unique_data(tmp_path: Path) -> None:
    for seed in (21, 22):
        planted = write(tmp_path / f"clean{seed}.csv", 1500, seed, clean=True)
        found = duplicates(load([planted.path], "label"))
        assert (found.exact, found.near, found.conflicting) == ((), (), ())


def test_planted_duplicates_are_all_found(tmp_path: Path) -> None:
    planted = write(tmp_path / "planted.csv", 3000, 3)
    found = duplicates(load([planted.path], "label"))
    assert {row for row, _ in found.exact} == planted.exact
    assert {row for row, _ in found.near} == planted.near
    assert all(first < row for row, first in (*found.exact, *found.near))

"""Recall and false positives of the data scanner on labelled data it has never seen: Faker's
personal data in its own formats, beside decoy columns that look like identifiers (ids failing
Luhn, digests, UUIDs, SKUs, amounts, merchant codes, timestamps, versions, zip codes) and
running text with and without personal data in it. Several seeds, so no one sample is tuned."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.datascan.columns import column_hits
from custos.datascan.recognizers import Options
from custos.datascan.scan import Settings, scan_file
from tests.datascan.labelled import DECOY_COLUMNS, PII_COLUMNS, dataset, notes

ROWS = 2000
RECALL = {"phone": 0.97, "card": 0.98}  # the rest: 0.99


@pytest.mark.parametrize("seed", [11, 23, 42])
def test_every_planted_type_is_found_and_no_decoy_column_is(tmp_path: Path, seed: int) -> None:
    labelled = dataset(tmp_path / "customers.csv", ROWS, seed)
    report = scan_file(labelled.path, Settings(sample=None))
    assert report.error is None
    assert report.rows_scanned == ROWS
    found = {c.name: {t.kind: t.count for t in c.pii} for c in report.columns}
    for column, kind in PII_COLUMNS.items():
        recall = found[column].get(kind, 0) / ROWS
        assert recall >= RECALL.get(kind, 0.99), (column, kind, recall)
        assert set(found[column]) == {kind}, (column, found[column])  # nothing else reported
    flagged = {c: found[c] for c in DECOY_COLUMNS if found[c]}
    assert not flagged, flagged
    assert report.suggested_classification == "restricted"


@pytest.mark.parametrize("seed", [5, 17])
def test_personal_data_in_running_text(seed: int) -> None:
    texts, planted = notes(1500, seed)
    hits = {h.kind: h.rows for h in column_hits("notes", texts, Options())}
    for kind, count in planted.items():
        assert hits.get(kind, 0) >= 0.97 * count, (kind, hits, planted)
        assert hits.get(kind, 0) <= count, (kind, hits, planted)  # no row counted twice or made up
    assert set(hits) <= set(planted)


def test_text_without_personal_data_is_clean() -> None:
    texts, _planted = notes(800, 99)
    quoted = ("Reach me", "Call back", "Card used")
    plain = [t for t in texts if not any(q in t for q in quoted)]
    assert len(plain) > 300
    assert column_hits("comment", plain, Options()) == []


def test_a_column_of_random_ids_is_not_a_card_or_phone_column() -> None:
    import random

    rng = random.Random(3)
    for length in (9, 10, 11, 12, 13, 14, 15, 16, 19):
        ids = ["".join(rng.choice("0123456789") for _ in range(length)) for _ in range(2000)]
        assert column_hits("reference", ids, Options()) == [], length


def test_a_large_column_is_counted_from_a_validated_subset() -> None:
    """10,000 distinct phone numbers cost about VALIDATE_ALL parses, and the count is exact
    when they all validate; a column below the established share is validated value by value."""
    from custos.datascan.phones import phone_number
    from custos.datascan.recognizers import VALIDATE_ALL

    phone_number.cache_clear()
    phones = [f"+1 415 {200 + i // 10_000:03d} {i % 10_000:04d}" for i in range(10_000)]
    (hit,) = column_hits("contact", phones, Options())
    assert (hit.kind, hit.rows) == ("phone", 10_000)
    assert phone_number.cache_info().misses <= VALIDATE_ALL + 5

    phone_number.cache_clear()
    short = [f"+1 415 {i:04d}" for i in range(3_000)]  # too short to be possible
    mixed = phones[:7_000] + short
    (hit,) = column_hits("contact", mixed, Options())
    assert hit.rows == 7_000  # every value validated: nothing estimated
    assert phone_number.cache_info().misses >= 10_000 - 100

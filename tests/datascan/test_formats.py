"""Formats by content (not by extension), compression, headers, sampling, and bad input: each
data file is read the way its bytes say, and what is not data is refused in one line."""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from custos.datascan.sample import reservoir
from custos.datascan.scan import Settings, scan_file, scan_paths
from custos.datascan.sniff import sniff

EMAILS = [f"person{i}@example.org" for i in range(300)]


def _csv(path: Path, delimiter: str = ",", header: bool = True) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        if header:
            writer.writerow(["id", "email", "amount"])
        writer.writerows([i, e, f"{i * 1.5:.2f}"] for i, e in enumerate(EMAILS))
    return path


def _kinds(path: Path, **settings: object) -> dict[str, list[str]]:
    report = scan_file(path, Settings(**settings))  # type: ignore[arg-type]
    assert report.error is None, report.error
    return {c.name: [t.kind for t in c.pii] for c in report.columns}


def test_formats_are_read_by_content(tmp_path: Path) -> None:
    assert sniff(_csv(tmp_path / "a.csv")).format == "csv"
    assert sniff(_csv(tmp_path / "b.txt", "\t")).format == "tsv"  # the name is not trusted
    assert sniff(_csv(tmp_path / "c.data", ";")).delimiter == ";"
    lines = tmp_path / "d.csv"  # JSON Lines under a .csv name
    lines.write_text("\n".join(json.dumps({"user": {"mail": e}}) for e in EMAILS) + "\n")
    assert sniff(lines).format == "jsonl"
    assert _kinds(lines) == {"user.mail": ["email"]}
    prose = tmp_path / "e.jsonl"
    prose.write_text(
        "Dear team, please write to jane.doe@example.com about the refund.\n"
        "It arrived late; the box was open, the manual missing, and the cable, too.\n"
        "Thanks for the quick answer\n" * 20
    )
    assert sniff(prose).format == "text"
    assert _kinds(prose) == {"text": ["email"]}


@pytest.mark.parametrize(
    ("name", "opener"),
    [("gz", gzip.open), ("bz2", bz2.open), ("xz", lzma.open)],
)
def test_compressed_files(tmp_path: Path, name: str, opener: object) -> None:
    plain = _csv(tmp_path / "plain.csv").read_bytes()
    packed = tmp_path / f"data.{name}"
    with opener(packed, "wb") as f:  # type: ignore[operator]
        f.write(plain)
    report = scan_file(packed, Settings())
    assert report.format.startswith("csv+")
    assert [c.name for c in report.columns if c.pii] == ["email"]


def test_zstd(tmp_path: Path) -> None:
    packed = tmp_path / "data.zst"
    packed.write_bytes(zstandard.ZstdCompressor().compress(_csv(tmp_path / "p.csv").read_bytes()))
    report = scan_file(packed, Settings())
    assert report.format == "csv+zstd"
    assert report.rows_total == len(EMAILS)


def test_parquet(tmp_path: Path) -> None:
    table = pa.table({
        "card": [4111111111111111, 5555555555554444] * 200,
        "email": (EMAILS * 2)[:400], "score": [0.5] * 400,
    })  # fmt: skip
    path = tmp_path / "t.bin"
    pq.write_table(table, path, row_group_size=64)
    report = scan_file(path, Settings(sample=100))
    assert report.format == "parquet"
    assert (report.rows_scanned, report.rows_total) == (100, 400)
    assert {c.name: [t.kind for t in c.pii] for c in report.columns} == {
        "card": ["card"], "email": ["email"], "score": [],
    }  # fmt: skip


def test_headerless_first_row_is_data_never_a_column_name(tmp_path: Path) -> None:
    path = _csv(tmp_path / "raw.csv", header=False)
    report = scan_file(path, Settings())
    names = [c.name for c in report.columns]
    assert names == ["column_1", "column_2", "column_3"]
    assert report.rows_total == len(EMAILS)
    assert EMAILS[0] not in json.dumps(report.to_json())


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"PK\x03\x04" + b"\x00" * 40, "zip archive"),
        (b"\x93NUMPY\x01\x00" + b"\x00" * 40, "NumPy array"),
        (bytes(range(256)) * 8, "binary content"),
        (b"\x1f\x8b\x08\x00broken gzip", "damaged gzip"),
    ],
)
def test_what_is_not_data_is_refused_in_one_line(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(content)
    report = scan_file(path, Settings())
    assert report.error is not None
    assert says in report.error
    assert str(path) in report.error
    assert "\n" not in report.error


def test_a_directory_walk_skips_non_data_files(tmp_path: Path) -> None:
    _csv(tmp_path / "users.csv")
    (tmp_path / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (tmp_path / ".hidden.csv").write_text("email\nsomeone@example.org\n")
    reports = scan_paths([tmp_path], Settings())
    assert [r.path.name for r in reports] == ["users.csv"]


def test_a_sorted_file_is_not_judged_by_its_head(tmp_path: Path) -> None:
    """The personal data sits in the last 5% of a 100,000-row file sorted by kind."""
    path = tmp_path / "sorted.csv"
    rows = 100_000
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "contact"])
        for i in range(rows):
            writer.writerow([i, f"user{i}@example.com" if i >= rows * 0.95 else f"n/a {i % 7}"])
    report = scan_file(path, Settings(sample=2000))
    _ids, column = report.columns
    (found,) = column.pii
    assert found.kind == "email"
    assert 0.03 < found.share < 0.07  # about 5% of a uniform sample, not 0% (the head)
    assert report.rows_total == rows


def test_reservoir_is_uniform_and_counts_everything() -> None:
    seen = [0] * 10
    for seed in range(200):
        kept, total = reservoir(iter(range(10_000)), 50, seed)
        assert total == 10_000
        assert kept == sorted(kept)
        assert len(set(kept)) == 50
        for item in kept:
            seen[item // 1000] += 1
    assert min(seen) > 0.8 * max(seen)  # each tenth of the stream equally likely
    assert reservoir(iter(range(7)), 50) == (list(range(7)), 7)
    assert reservoir(iter(range(9)), None) == (list(range(9)), 9)

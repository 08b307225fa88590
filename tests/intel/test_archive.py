"""Reading many advisories: a zip like OSV's per-ecosystem all.zip, streamed member by member
(never extracted), and a directory tree; malformed members are skipped and tallied."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from custos.intel import osv
from custos.intel.osv import ArchiveTally, iter_archive
from tests.intel.builders import ADVISORIES

GOOD = ["GHSA-53q9-r3pm-6pq6.json", "GHSA-8q59-q68h-6hv4.json", "PYSEC-2021-142.json"]
BAD = b'{"id": "BROKEN-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {}}]}'


def write_zip(path: Path, *, deep: bool = True) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in GOOD:
            archive.writestr(name, (ADVISORIES / name).read_bytes())
        archive.writestr("BROKEN-1.json", BAD)
        if deep:
            archive.writestr("deep.json", b"[" * 200_000)  # exhausts a recursive parser
        archive.writestr("README.txt", "not an advisory")  # not .json: not read
        archive.writestr("nested/", "")  # a folder entry
    return path


def test_zip_three_good_one_malformed(tmp_path: Path) -> None:
    tally = ArchiveTally()
    got = list(iter_archive(write_zip(tmp_path / "all.zip", deep=False), tally))
    assert sorted(a.id for a in got) == ["GHSA-53q9-r3pm-6pq6", "GHSA-8q59-q68h-6hv4",
                                         "PYSEC-2021-142"]  # fmt: skip
    assert tally.advisories == 3
    assert len(tally.malformed) == 1
    member, reason = tally.malformed[0]
    assert member == "BROKEN-1.json"
    assert "BROKEN-1" in reason
    assert "'ecosystem' must be a non-empty string" in reason


def test_zip_is_streamed_not_extracted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = write_zip(tmp_path / "all.zip")

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("extracted to disk")

    monkeypatch.setattr(zipfile.ZipFile, "extract", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", refuse)
    tally = ArchiveTally()
    stream = iter_archive(archive, tally)
    first = next(stream)  # lazily: one member read, the rest not yet
    assert first.id == "GHSA-53q9-r3pm-6pq6"
    assert len(list(stream)) == 2
    assert [m for m, _ in tally.malformed] == ["BROKEN-1.json", "deep.json"]
    assert tally.malformed[1][1] == "deep.json: not JSON (nested too deeply)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.zip"]


def test_directory_tree_three_good_one_malformed(tmp_path: Path) -> None:
    root = tmp_path / "osv"
    (root / "PyPI" / "torch").mkdir(parents=True)
    (root / "PyPI" / "pyyaml").mkdir(parents=True)
    (root / "PyPI" / "torch" / GOOD[0]).write_bytes((ADVISORIES / GOOD[0]).read_bytes())
    for name in GOOD[1:]:
        (root / "PyPI" / "pyyaml" / name).write_bytes((ADVISORIES / name).read_bytes())
    (root / "PyPI" / "broken.json").write_text("{not json")
    (root / "notes.md").write_text("# not an advisory")
    tally = ArchiveTally()
    got = [a.id for a in iter_archive(root, tally)]
    # a sorted walk: files of a folder, then its subfolders in name order
    assert got == ["GHSA-8q59-q68h-6hv4", "PYSEC-2021-142", "GHSA-53q9-r3pm-6pq6"]
    assert tally.advisories == 3
    assert [(m, r.split(":")[0]) for m, r in tally.malformed] == [("PyPI/broken.json",
                                                                   "PyPI/broken.json")]  # fmt: skip
    assert "not JSON" in tally.malformed[0][1]


def test_single_file_and_default_tally(tmp_path: Path) -> None:
    assert [a.id for a in iter_archive(ADVISORIES / GOOD[0])] == ["GHSA-53q9-r3pm-6pq6"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([1, 2]))
    tally = ArchiveTally()
    assert list(iter_archive(bad, tally)) == []
    assert "must be a JSON object" in tally.malformed[0][1]


def test_oversized_and_corrupt_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(osv, "MAX_MEMBER_BYTES", 4000)
    path = tmp_path / "all.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.json", b" " * 50_000 + b"{}")  # small packed, large unpacked
        archive.writestr(GOOD[1], (ADVISORIES / GOOD[1]).read_bytes())
    tally = ArchiveTally()
    assert [a.id for a in iter_archive(path, tally)] == ["GHSA-8q59-q68h-6hv4"]
    assert tally.malformed == [("big.json", "larger than 4000 bytes")]
    # garble the middle of the good member's compressed data: inflating or its CRC fails
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(GOOD[1])
    data = bytearray(path.read_bytes())
    middle = info.header_offset + 30 + len(GOOD[1]) + info.compress_size // 2
    data[middle : middle + 16] = bytes(16)
    path.write_bytes(bytes(data))
    tally = ArchiveTally()
    assert list(iter_archive(path, tally)) == []
    assert [m for m, _ in tally.malformed] == ["big.json", GOOD[1]]
    assert tally.malformed[1][1].startswith("unreadable: ")


def test_not_an_archive(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"neither a directory, a zip nor a \.json file"):
        list(iter_archive(text))
    with pytest.raises(ValueError, match="neither"):
        list(iter_archive(tmp_path / "missing.zip"))

"""Zip containers: every member by content, and the tricks that fooled scanners."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from custos.checks.model import Severity
from custos.modelfile.context import Limits
from custos.modelfile.dispatch import scan_file
from tests.modelfile.conftest import FakeAnalyser, Scan, globals_seen, rules, worst
from tests.modelfile.zips import (
    BENIGN,
    EVIL,
    central_offset,
    local_offset,
    make_zip,
    patch,
    set_flags,
    torch_zip,
)

DATA = b"archive/data.pkl"


def test_benign_torch_zip(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    report = scan_bytes(torch_zip(BENIGN), "model.pt")
    assert report.format == "pytorch-zip"
    assert globals_seen(report) == {"collections.OrderedDict"}
    assert worst(report) <= Severity.low
    assert report.error is None


def test_every_pickle_member_is_scanned_whatever_its_name(
    scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    data = torch_zip(BENIGN, [("archive/weights.bin", EVIL), ("archive/notes.txt", EVIL)])
    report = scan_bytes(data, "model.pt")
    hits = {f.location.rsplit("@", 1)[0] for f in report.findings if f.message == "os.system"}
    assert hits == {f"{report.path}!archive/weights.bin", f"{report.path}!archive/notes.txt"}


def test_crc_mismatch_is_reported_and_member_still_scanned(
    scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    data = torch_zip(EVIL)
    at = data.find(b"echo pwned")
    data = patch(data, at, b"echo PWNED")
    report = scan_bytes(data, "model.pt")
    assert "zip/crc-mismatch" in rules(report)
    assert "os.system" in globals_seen(report)


@pytest.mark.parametrize(("length", "reported"), [(4096, True), (3 << 20, False)])
def test_crc_of_raw_storage_is_checked_only_when_small(
    length: int, reported: bool, scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    # Large members no loader parses are not CRC-checked: a wrong CRC there hides no code and
    # checking it would read every weight twice. Small ones and anything parsed still are.
    storage = bytes(range(256))[7:] * (length // 249)
    data = torch_zip(BENIGN, [("archive/data/1", storage)])
    at = data.find(storage[100:116])
    data = patch(data, at, bytes(16))
    report = scan_bytes(data, "model.pt")
    assert ("zip/crc-mismatch" in rules(report)) is reported


def test_encrypted_flag_is_reported_and_member_still_scanned(
    scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    report = scan_bytes(set_flags(torch_zip(EVIL), DATA, 0x1), "model.pt")
    assert "zip/encrypted-flag" in rules(report)
    assert "os.system" in globals_seen(report)


def test_local_and_central_name_mismatch(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = torch_zip(EVIL)
    data = patch(data, local_offset(data, DATA) + 30, b"archive/data.txt")
    report = scan_bytes(data, "model.pt")
    assert "zip/name-mismatch" in rules(report)
    assert "os.system" in globals_seen(report)


def test_header_method_mismatch(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = torch_zip(EVIL)
    data = patch(data, local_offset(data, DATA) + 8, struct.pack("<H", 8))
    report = scan_bytes(data, "model.pt")
    assert "zip/header-mismatch" in rules(report)
    assert "os.system" in globals_seen(report)


def test_nested_zip(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    inner = make_zip([("payload.pkl", EVIL)], zipfile.ZIP_DEFLATED)
    outer = make_zip([("models/inner.zip", inner), ("readme.md", b"# hi\n")])
    report = scan_bytes(outer, "bundle.zip")
    evil = [f for f in report.findings if f.message == "os.system"]
    assert evil
    assert evil[0].location.startswith(f"{report.path}!models/inner.zip!payload.pkl@")


def test_nesting_limit(tmp_path: Path, fake_pickle: FakeAnalyser) -> None:
    data = EVIL
    for level in range(5):
        data = make_zip([(f"level{level}.zip", data)])
    path = tmp_path / "deep.zip"
    path.write_bytes(data)
    report = scan_file(path, None, Limits(max_depth=3))
    assert "limits/depth" in rules(report)


def test_zip_bomb_stops_decompression(tmp_path: Path, fake_pickle: FakeAnalyser) -> None:
    data = make_zip([("zeros.bin", b"\0" * (8 << 20))], zipfile.ZIP_DEFLATED)
    path = tmp_path / "bomb.zip"
    path.write_bytes(data)
    report = scan_file(path, None, Limits(max_ratio=50))
    assert "zip/bomb" in rules(report)
    assert worst(report) >= Severity.high


def test_absolute_size_limit(tmp_path: Path, fake_pickle: FakeAnalyser) -> None:
    data = make_zip([("big.bin", bytes(range(256)) * 8192)], zipfile.ZIP_DEFLATED)
    path = tmp_path / "big.zip"
    path.write_bytes(data)
    report = scan_file(path, None, Limits(max_member_bytes=1 << 20))
    assert "zip/bomb" in rules(report)


def test_duplicate_names_are_both_scanned(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = make_zip([("data.pkl", BENIGN), ("data.pkl", EVIL)])
    report = scan_bytes(data, "dup.zip")
    assert "zip/duplicate-name" in rules(report)
    assert globals_seen(report) == {"collections.OrderedDict", "os.system"}


def test_overlapping_members(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = make_zip([("a.pkl", EVIL), ("b.pkl", BENIGN)])
    first = local_offset(data, b"a.pkl")
    data = patch(data, central_offset(data, b"b.pkl") + 42, struct.pack("<L", first))
    report = scan_bytes(data, "overlap.zip")
    assert "zip/overlapping-members" in rules(report)


def test_prepended_and_appended_data(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = b"JUNK" * 8 + make_zip([("a.pkl", EVIL)]) + b"TRAILER"
    report = scan_bytes(data, "wrapped.zip")
    assert {"zip/prepended-data", "zip/trailing-data"} <= rules(report)
    assert "os.system" in globals_seen(report)


def test_pickle_with_zip_appended_is_a_polyglot(
    scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    data = EVIL + make_zip([("a.pkl", BENIGN)])
    report = scan_bytes(data, "poly.pt")
    assert report.format == "pickle"
    assert "format/polyglot" in rules(report)
    assert globals_seen(report) >= {"os.system", "collections.OrderedDict"}


def test_hidden_local_member(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    visible = make_zip([("a.txt", b"hello")])
    hidden = make_zip([("evil.pkl", EVIL)])
    cd = visible.find(b"PK\x01\x02")
    local_part = hidden[: hidden.find(b"PK\x01\x02")]
    data = visible[:cd] + local_part + visible[cd:]
    end = data.rfind(b"PK\x05\x06")
    data = patch(data, end + 16, struct.pack("<L", cd + len(local_part)))
    report = scan_bytes(data, "hidden.zip")
    assert "zip/hidden-member" in rules(report)
    assert "os.system" in globals_seen(report)


def test_entry_count_mismatch(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = make_zip([("a.txt", b"a"), ("b.pkl", EVIL)])
    end = data.rfind(b"PK\x05\x06")
    data = patch(data, end + 8, struct.pack("<HH", 1, 1))
    report = scan_bytes(data, "count.zip")
    assert "zip/entry-count-mismatch" in rules(report)
    assert "os.system" in globals_seen(report)


def test_member_data_out_of_bounds(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = make_zip([("a.pkl", EVIL)])
    central = central_offset(data, b"a.pkl")
    data = patch(data, central + 20, struct.pack("<L", 10_000))
    report = scan_bytes(data, "oob.zip")
    assert "zip/out-of-bounds" in rules(report)


def test_truncated_zip_falls_back_to_local_headers(
    scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    data = make_zip([("a.pkl", EVIL)])
    report = scan_bytes(data[: data.find(b"PK\x01\x02")], "cut.zip")
    assert "zip/malformed" in rules(report)
    assert "os.system" in globals_seen(report)


def test_path_traversal_name(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    report = scan_bytes(make_zip([("../../etc/cron.d/x", b"* * * * * id\n")]), "t.zip")
    assert "zip/path-traversal" in rules(report)


def test_torchscript_is_reported(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = torch_zip(BENIGN, [("archive/constants.pkl", BENIGN), ("archive/code/m.py", b"")])
    report = scan_bytes(data, "scripted.pt")
    assert report.format == "torchscript"
    assert "torch/torchscript" in rules(report)


def test_npz_and_deflate(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header) + 1) + header + b"\n" + b"\0" * 16
    report = scan_bytes(make_zip([("a.npy", npy)], zipfile.ZIP_DEFLATED), "arrays.npz")
    assert report.format == "npz"
    assert worst(report) <= Severity.low


def test_tensor_bytes_that_start_like_a_pickle_are_data(
    scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    members = [
        ("archive/data/1", b"N." + bytes(range(200))),  # a tiny pickle, then raw data
        ("archive/data/2", b"N" * 100_000),  # an int8 tensor full of 78
        ("archive/data/3", b"\x80\x02K\x01." + b"\xff" * 64),  # PROTO, data, then junk
        ("archive/data/4", b"(((" + b"\x00" * 64),  # invalid before importing anything
    ]
    report = scan_bytes(torch_zip(BENIGN, members), "model.pt")
    assert [call[0].rsplit("!", 1)[1] for call in fake_pickle.calls] == ["archive/data.pkl"]
    assert worst(report) <= Severity.low


def test_padded_pickle_member_is_still_a_pickle(
    scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    padding = b"(" + b"K\x01J\x02\x00\x00\x00N" * 10_000 + b"1"  # 90 KB of pushes, popped
    report = scan_bytes(torch_zip(BENIGN, [("archive/data/9", padding + EVIL)]), "model.pt")
    assert "os.system" in globals_seen(report)


def test_two_archives_in_one_file(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    hidden = make_zip([("evil.pkl", EVIL)])
    visible = make_zip([("ok.txt", b"fine")])
    # readers search the end record backwards and see ok.txt (shifting offsets past the
    # prepended bytes); the first archive's own end record is still valid
    report = scan_bytes(hidden + visible, "two.zip")
    assert {"zip/multiple-end-records", "zip/prepended-data"} <= rules(report)
    assert "os.system" in globals_seen(report)


def _fan_out(inner: bytes, copies: int) -> bytes:
    """A zip whose directory lists `copies` entries that all point at one stored member."""
    data = make_zip([(f"m{i}.zip", inner if i == 0 else b"") for i in range(copies)])
    end = data.rfind(b"PK\x05\x06")
    cd = struct.unpack_from("<L", data, end + 16)[0]
    entry = data[cd : cd + 46 + len(b"m0.zip")]
    directory = b"".join(entry[:46] + b"m%d.zip" % i for i in range(copies))
    record = bytearray(data[end:])
    struct.pack_into("<HHLL", record, 8, copies, copies, len(directory), cd)
    return data[:cd] + directory + bytes(record)


def test_overlapping_fan_out_does_not_amplify(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = make_zip([("evil.pkl", EVIL)])
    for _ in range(6):
        data = _fan_out(data, 10)  # 10**6 paths to the pickle if every entry were rescanned
    report = scan_bytes(data, "fan.zip")
    assert "zip/overlapping-members" in rules(report)
    assert len(fake_pickle.calls) == 1

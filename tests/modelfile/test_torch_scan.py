"""PyTorch legacy stacked-pickle files (the zip layout is covered in test_zip_scan)."""

from __future__ import annotations

import io
import pickle
import struct

from tests.modelfile.conftest import FakeAnalyser, Scan, globals_seen, rules
from tests.modelfile.zips import BENIGN, EVIL

MAGIC = 0x1950A86A20F9469CFC6C


def legacy(main: bytes, keys_pickle: bytes | None = None, raw: bytes = b"") -> bytes:
    out = io.BytesIO()
    for value in (MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(value, out, protocol=2)
    out.write(main)
    out.write(keys_pickle if keys_pickle is not None else pickle.dumps(["0"], protocol=2))
    out.write(raw)
    return out.getvalue()


def test_legacy_file_every_pickle_scanned(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    raw = struct.pack("<q", 4) + b"\xff" * 16
    report = scan_bytes(legacy(BENIGN, EVIL, raw), "old.pth")
    assert report.format == "pytorch-legacy"
    assert "os.system" in globals_seen(report)  # in the fifth pickle, not the first
    assert "test/malformed" not in rules(report)  # raw storage bytes never shown as pickle
    assert "torch/legacy-layout" not in rules(report)


def test_legacy_file_with_magic_in_protocol_0(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = legacy(EVIL).replace(pickle.dumps(MAGIC, protocol=2), b"L%dL\n." % MAGIC, 1)
    report = scan_bytes(data, "old.pth")
    assert report.format == "pytorch-legacy"
    assert "os.system" in globals_seen(report)


def test_legacy_file_cut_short(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = legacy(EVIL)
    report = scan_bytes(data[: len(data) - 6], "old.pth")
    assert "torch/legacy-layout" in rules(report)
    assert "os.system" in globals_seen(report)

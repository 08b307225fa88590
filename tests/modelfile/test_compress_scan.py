"""Compressed single streams: decompressed within limits and dispatched."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from pathlib import Path

import pytest

from custos.modelfile.context import Limits
from custos.modelfile.dispatch import scan_file
from tests.modelfile.conftest import FakeAnalyser, Scan, globals_seen, rules
from tests.modelfile.zips import EVIL

CODECS = {
    "gzip": gzip.compress,
    "zlib": zlib.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "lzma": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
}


@pytest.mark.parametrize("kind", sorted(CODECS))
def test_compressed_pickle_is_dispatched(
    kind: str, scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    report = scan_bytes(CODECS[kind](EVIL), "model.pkl")
    assert report.format == kind
    hit = next(f for f in report.findings if f.message == "os.system")
    assert hit.location.startswith(f"{report.path}!<{kind}>@")


def test_multi_member_gzip(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    report = scan_bytes(gzip.compress(b"(lp0\n") + gzip.compress(EVIL[:-1] + b"a."), "m.gz")
    assert "os.system" in globals_seen(report)


def test_bomb(tmp_path: Path, fake_pickle: FakeAnalyser) -> None:
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(b"\0" * (16 << 20)))
    report = scan_file(path, None, Limits(max_ratio=100))
    assert "compress/bomb" in rules(report)


def test_corrupt_and_trailing(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = gzip.compress(EVIL * 50)
    assert "compress/malformed" in rules(scan_bytes(data[: len(data) // 2], "cut.gz"))
    report = scan_bytes(zlib.compress(EVIL) + b"garbage", "t.z")
    assert "compress/trailing-data" in rules(report) or "compress/malformed" in rules(report)
    assert "os.system" in globals_seen(report)


def test_joblib_zfile_and_lz4(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    zfile = b"ZF" + b"0x%x" % len(EVIL) + b" " * 12 + zlib.compress(EVIL)
    report = scan_bytes(zfile[:21] + zfile[21:], "old.pkl")
    assert report.format == "joblib-zfile"
    assert "os.system" in globals_seen(report)
    lz4 = scan_bytes(b"\x04\x22\x4d\x18" + b"\0" * 32, "m.lz4")
    assert "compress/unsupported" in rules(lz4)

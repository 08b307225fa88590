"""NumPy .npy files: header parsing, object arrays (pickles), sizes."""

from __future__ import annotations

import io
import struct

import pytest

from custos.checks.model import Severity
from tests.modelfile.conftest import FakeAnalyser, Scan, globals_seen, rules, worst
from tests.modelfile.zips import EVIL

np = pytest.importorskip("numpy")


def npy(array: object) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


def raw_npy(header: str, payload: bytes) -> bytes:
    text = header.encode("latin-1") + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + payload


def test_numeric_npy_is_clean(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    arrays = (
        np.arange(12.0).reshape(3, 4),
        np.zeros((2, 2), dtype=[("a", "<f4"), ("b", "<i8")]),
        np.array(["ab", "c"]),
        np.asfortranarray(np.ones((3, 2), dtype=np.int16)),
    )
    for array in arrays:
        report = scan_bytes(npy(array), "a.npy")
        assert report.format == "npy"
        assert worst(report) <= Severity.low, report.findings


def test_object_array_pickle_is_analysed(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    report = scan_bytes(raw_npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", EVIL))
    assert "npy/object-array" in rules(report)
    assert "os.system" in globals_seen(report)
    evil = next(f for f in report.findings if f.message == "os.system")
    assert evil.location == f"{report.path}@{report.path.stat().st_size - len(EVIL)}"


def test_real_object_array(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    report = scan_bytes(npy(np.array([1, "x", None], dtype=object)))
    assert "npy/object-array" in rules(report)
    assert any("ndarray" in g for g in globals_seen(report))


def test_structured_dtype_with_object_field(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    header = "{'descr': [('a', '<f8'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }"
    report = scan_bytes(raw_npy(header, EVIL))
    assert "os.system" in globals_seen(report)


@pytest.mark.parametrize(
    "header",
    [
        "{'descr': '<f8', 'fortran_order': False}",
        "__import__('os').system('id')",
        "{'descr': '<f8', 'fortran_order': 'no', 'shape': (1,), }",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }",
    ],
)
def test_malformed_headers(header: str, scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    report = scan_bytes(raw_npy(header, b"\0" * 8))
    assert "npy/malformed" in rules(report)


def test_truncated_data(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }"
    report = scan_bytes(raw_npy(header, b"\0" * 8))
    assert "npy/truncated" in rules(report)

"""safetensors: real files from the safetensors library, and broken headers."""

from __future__ import annotations

import io
import json
import struct

import pytest

from custos.checks.model import Severity
from tests.modelfile.conftest import Scan, rules, worst

F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


def build(header: dict[str, object] | bytes, data: bytes) -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def test_real_file_is_clean(scan_bytes: Scan) -> None:
    np = pytest.importorskip("numpy")
    st = pytest.importorskip("safetensors.numpy")
    data = st.save(
        {
            "w": np.ones((3, 4), np.float32),
            "b": np.zeros(7, np.int64),
            "h": np.zeros((2, 2), np.float16),
        },
        metadata={"format": "np"},
    )
    report = scan_bytes(data, "model.safetensors")
    assert report.format == "safetensors"
    assert report.findings == ()


@pytest.mark.parametrize(
    ("blob", "rule"),
    [
        (build({"a": F32, "b": F32}, b"\0" * 8), "safetensors/overlapping-offsets"),
        (build({"a": {**F32, "data_offsets": [0, 16]}}, b"\0" * 8), "safetensors/bad-tensor"),
        (
            build({"a": {**F32, "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8),
            "safetensors/out-of-range",
        ),
        (build({"a": {**F32, "dtype": "PY_OBJECT"}}, b"\0" * 8), "safetensors/bad-tensor"),
        (build({"a": {**F32, "shape": [-2]}}, b"\0" * 8), "safetensors/bad-tensor"),
        (build({"a": {**F32, "data_offsets": [8, 0]}}, b"\0" * 8), "safetensors/bad-tensor"),
        (build({"a": F32, "__metadata__": {"k": 1}}, b"\0" * 8), "safetensors/metadata-not-string"),
        (
            build(
                b'{"a": ' + json.dumps(F32).encode() + b', "a": ' + json.dumps(F32).encode() + b"}",
                b"\0" * 8,
            ),
            "safetensors/duplicate-key",
        ),
        (build(b'{"a": {"dtype": "F32",', b"\0" * 8), "safetensors/malformed"),
        (build(b'{"a": "\xff\xfe"}', b""), "safetensors/malformed"),
        (build({"a": F32}, b"\0" * 16), "safetensors/unreferenced-data"),
        (
            build({"a": {**F32, "data_offsets": [8, 16]}}, b"\0" * 16),
            "safetensors/unreferenced-data",
        ),
    ],
)
def test_broken_headers(blob: bytes, rule: str, scan_bytes: Scan) -> None:
    report = scan_bytes(blob, "model.safetensors")
    assert report.format == "safetensors"
    assert rule in rules(report)


def test_header_too_large(scan_bytes: Scan) -> None:
    blob = struct.pack("<Q", 200 << 20) + b"{" + b" " * 1000
    report = scan_bytes(blob, "model.safetensors")
    assert "safetensors/header-too-large" in rules(report)


def test_truncated(scan_bytes: Scan) -> None:
    blob = build({"a": {**F32, "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 16)
    report = scan_bytes(blob[:40], "model.safetensors")
    assert worst(report) >= Severity.high


def test_safetensors_name_but_pickle_content(scan_bytes: Scan) -> None:
    import pickle

    report = scan_bytes(pickle.dumps({"a": 1}), "model.safetensors")
    assert report.format == "pickle"


def test_header_only_read(scan_bytes: Scan) -> None:
    stream = io.BytesIO(build({"a": F32}, b"\0" * 8))
    assert stream.getvalue()[8:9] == b"{"

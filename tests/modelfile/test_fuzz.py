"""Fuzzing the container and format parsers: no crash, no hang, no error reported as clean.

Inputs are valid files with random byte edits, truncations and insertions, plus raw noise.
Every parser must either finish or fail with its own error type; through the dispatcher a
failure must always surface as a high finding.
"""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import struct
import tarfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custos.checks.model import Severity
from custos.modelfile.context import Limits, ScanContext
from custos.modelfile.dispatch import scan_stream
from custos.modelfile.formats import (
    gguf_scan,
    numpy_scan,
    onnx_scan,
    safetensors_scan,
    savedmodel_scan,
)
from custos.modelfile.formats.protowire import ProtoError, Reader
from custos.modelfile.pickle.opwalk import Machine, Source, WalkError
from custos.modelfile.readers.zip_parse import ZipError, find_eocd, read_central, read_local
from tests.modelfile.protobuf import graph, node, saved_model
from tests.modelfile.zips import BENIGN, EVIL, make_zip, torch_zip

SETTINGS = settings(
    max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("a.pkl")
        info.size = len(EVIL)
        archive.addfile(info, io.BytesIO(EVIL))
    return out.getvalue()


def _safetensors() -> bytes:
    header = json.dumps(
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "__metadata__": {"k": "v"}}
    ).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 8


def _gguf() -> bytes:
    def string(text: bytes) -> bytes:
        return struct.pack("<Q", len(text)) + text

    kv = string(b"tokenizer.chat_template") + struct.pack("<I", 8) + string(b"{{ x.y }}")
    tensor = string(b"w") + struct.pack("<I", 1) + struct.pack("<Q", 4) + struct.pack("<IQ", 0, 0)
    body = b"GGUF" + struct.pack("<IQQ", 3, 1, 1) + kv + tensor
    return body + b"\0" * (-len(body) % 32) + b"\0" * 16


SEEDS = [
    torch_zip(EVIL),
    make_zip(
        [("a.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': '|O'}"), ("b", EVIL)], zipfile.ZIP_DEFLATED
    ),
    _tar(),
    _safetensors(),
    _gguf(),
    saved_model(graph([node("a", "ReadFile")], [("f", [node("b", "PyFunc")])])),
    pickle.dumps({"a": [1, 2, (3, "x")]}, protocol=4),
    b"\x93NUMPY\x01\x00\x46\x00{'descr': '|O', 'fortran_order': False, 'shape': (1,), }" + EVIL,
    BENIGN,
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        choice = draw(st.integers(0, 3))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if choice == 0 and data:
            data[at] = draw(st.integers(0, 255))
        elif choice == 1:
            del data[at:]
        elif choice == 2:
            data[at:at] = draw(st.binary(max_size=16))
        elif len(data) >= 4:
            value = draw(st.integers(0, 2**32 - 1))
            struct.pack_into("<I", data, min(at, len(data) - 4), value)
    return bytes(data)


def _scan(data: bytes) -> ScanContext:
    ctx = ScanContext(policy=None, limits=Limits(max_member_bytes=1 << 22), dispatcher=scan_stream)
    scan_stream(io.BytesIO(data), "fuzz", ctx)
    return ctx


@SETTINGS
@given(mutated())
def test_dispatcher_never_crashes_and_errors_are_high(data: bytes) -> None:
    ctx = _scan(data)
    crashes = [f for f in ctx.findings if "scanner failed" in f.message]
    assert all(f.severity >= Severity.high for f in crashes)


@SETTINGS
@given(st.one_of(mutated(), st.binary(max_size=512)))
def test_parsers_raise_only_their_own_errors(data: bytes) -> None:
    stream = io.BytesIO(data)
    with contextlib.suppress(WalkError):
        Machine(Source(stream, 0, len(data)), max_items=10_000).run()
    with contextlib.suppress(ProtoError):
        list(Reader(stream, len(data)).fields(0, len(data)))
    end = find_eocd(stream, len(data))
    try:
        if end is not None:
            read_central(stream, end, 1000)
        read_local(stream, 0, len(data))
    except ZipError:
        pass
    for scanner in (
        safetensors_scan.scan,
        gguf_scan.scan,
        numpy_scan.scan,
        onnx_scan.scan,
        savedmodel_scan.scan,
    ):
        scanner(io.BytesIO(data), "fuzz", ScanContext(policy=None))


def test_deep_nesting_terminates(tmp_path: Path) -> None:
    data = EVIL
    for _ in range(40):
        data = make_zip([("x.zip", data)])
    ctx = _scan(data)
    assert any(f.rule == "limits/depth" for f in ctx.findings)

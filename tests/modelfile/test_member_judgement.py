"""An archive member is judged like a file, and one member's failure is that member's finding.

Generated from issue 24's fuzz classes: a FRAME that claims more bytes than a member holds (the
pure-Python unpickler, which joblib and dill build on, still reaches the call), a member whose
decoder cannot be built (LZMA properties a decoder refuses) followed by a payload, and Keras
archives whose members use bzip2 or LZMA.
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
from typing import Any

import pytest

from custos.checks.model import Severity
from custos.modelfile.dispatch import scan_file
from custos.modelfile.policy import Policy
from custos.modelfile.report import FileReport
from tests.modelfile.conftest import FakeAnalyser, Scan, globals_seen, rules, worst
from tests.modelfile.test_keras_scan import dense, keras3, layer
from tests.modelfile.zips import BENIGN, EVIL, local_offset, make_zip, patch, torch_zip

POLICY = Policy.default()
CALL = b"\x8c\x02os\x8c\x06system\x93\x8c\x04echo\x85R."  # os.system('echo'), protocol 4 ops
NOT_ANALYSED = "archive/member-not-analysed"


def overclaiming_frame(extra: int) -> bytes:
    """PROTO 4, then a FRAME claiming `extra` bytes more than the rest of the stream holds."""
    return b"\x80\x04\x95" + struct.pack("<Q", len(CALL) + extra) + CALL


class Recorder(pickle._Unpickler):  # type: ignore[name-defined,misc]
    """The oracle: pickle.py's own unpickler, whose globals are recorded and never imported."""

    reached: list[tuple[str, str]]

    def find_class(self, module: str, name: str) -> Any:
        self.reached.append((module, name))
        return lambda *args: args


def reached(data: bytes) -> list[tuple[str, str]]:
    oracle = Recorder(io.BytesIO(data))
    oracle.reached = []
    with contextlib.suppress(Exception):  # only what it reached before failing matters
        oracle.load()
    return oracle.reached


def scan(tmp_path: Path, data: bytes, name: str) -> FileReport:
    path = tmp_path / name
    path.write_bytes(data)
    return scan_file(path, POLICY)


def at(report: FileReport, where: str) -> set[tuple[str, Severity]]:
    return {(f.rule, f.severity) for f in report.findings if f.location.endswith(where)}


@pytest.mark.parametrize("extra", [1, 7, 50, 4096, 1 << 20])
def test_overclaiming_frame_is_judged_in_a_member_as_at_top_level(
    tmp_path: Path, extra: int
) -> None:
    payload = overclaiming_frame(extra)
    assert reached(payload) == [("os", "system")]  # the premise: pickle.py gets to the call
    alone = scan(tmp_path, payload, "model.pkl")
    for container, member in (
        (torch_zip(payload), "archive/data.pkl"),
        (make_zip([("weights.bin", payload)], zipfile.ZIP_DEFLATED), "weights.bin"),
        (make_zip([("a/b.pkl", payload)], zipfile.ZIP_BZIP2), "a/b.pkl"),
    ):
        report = scan(tmp_path, container, "model.zip")
        assert worst(report) >= Severity.high, report.findings
        assert at(report, f"!{member}") == at(alone, "model.pkl"), report.findings


@pytest.mark.parametrize("protocol", [4, 5])
def test_honest_frames_in_a_member_stay_clean(tmp_path: Path, protocol: int) -> None:
    data = pickle.dumps({"weights": [1.0, 2.0], "name": "x" * 300}, protocol=protocol)
    report = scan(tmp_path, torch_zip(data), "model.pt")
    assert worst(report) <= Severity.low, report.findings


def bad_lzma(archive: bytes, name: bytes, props: bytes) -> bytes:
    """Replace the LZMA properties of member `name` (after its 4-byte LZMA header)."""
    header = local_offset(archive, name)
    name_len, extra_len = struct.unpack_from("<2H", archive, header + 26)
    data = header + 30 + name_len + extra_len
    size = struct.unpack_from("<H", archive, data + 2)[0]
    assert len(props) == size
    return patch(archive, data + 4, props)


def lzma_then_payload(props: bytes, payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("first.bin", b"filler " * 64, zipfile.ZIP_LZMA)
        archive.writestr("second.pkl", payload, zipfile.ZIP_STORED)
        archive.writestr("third.pkl", payload, zipfile.ZIP_DEFLATED)
    return bad_lzma(buf.getvalue(), b"first.bin", props)


@pytest.mark.parametrize("props", [b"\xff\x00\x00\x01\x00", b"\xe1\x00\x00\x01\x00", b"\xff" * 5])
def test_member_with_bad_lzma_properties_does_not_end_the_zip(
    props: bytes, scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    report = scan_bytes(lzma_then_payload(props, EVIL), "model.zip")
    assert globals_seen(report) == {"os.system"}
    found = [f.location.rsplit("!", 1)[1] for f in report.findings if f.rule == "test/global"]
    seen = {where.split("@")[0] for where in found}
    assert seen == {"second.pkl", "third.pkl"}  # both members after the failed one were read
    first = at(report, "!first.bin")
    assert (NOT_ANALYSED, Severity.medium) in first, report.findings
    assert "zip/malformed" not in rules(report)  # the archive itself was fine


def test_bad_lzma_member_before_a_benign_one_is_medium_only(
    scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    report = scan_bytes(lzma_then_payload(b"\xff\x00\x00\x01\x00", BENIGN), "model.zip")
    assert worst(report) == Severity.medium, report.findings
    assert rules(report) == {NOT_ANALYSED, "test/global"}


def test_a_failing_tar_member_is_its_own_finding(
    scan_bytes: Scan, fake_pickle: FakeAnalyser, monkeypatch: pytest.MonkeyPatch
) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for name, data in (("broken.bin", b"x" * 100), ("payload.pkl", EVIL)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    real = tarfile.TarFile.extractfile

    def failing(self: tarfile.TarFile, member: Any) -> Any:
        if getattr(member, "name", member) == "broken.bin":
            raise tarfile.StreamError("cannot extract")
        return real(self, member)

    monkeypatch.setattr(tarfile.TarFile, "extractfile", failing)
    report = scan_bytes(buf.getvalue(), "model.tar")
    assert globals_seen(report) == {"os.system"}
    assert (NOT_ANALYSED, Severity.medium) in at(report, "!broken.bin")
    assert "tar/malformed" not in rules(report)


def lambda_layer() -> dict[str, object]:
    return layer("Lambda", function={"class_name": "__lambda__", "config": {"code": "YQ=="}})


def keras_rezipped(config: dict[str, object], method: int) -> bytes:
    return make_zip(
        [
            ("metadata.json", json.dumps({"keras_version": "3.6.0"}).encode()),
            ("config.json", json.dumps(config).encode()),
            ("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64),
        ],
        method,
    )


METHODS = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]


@pytest.mark.parametrize("method", METHODS)
def test_benign_keras_rezipped_with_any_method_is_clean(tmp_path: Path, method: int) -> None:
    config = keras3([layer("InputLayer", batch_shape=[None, 3]), dense()])
    report = scan(tmp_path, keras_rezipped(config, method), "model.keras")
    assert report.format == "keras"
    assert worst(report) <= Severity.low, report.findings


@pytest.mark.parametrize("method", METHODS)
def test_lambda_keras_rezipped_with_any_method_is_flagged(tmp_path: Path, method: int) -> None:
    config = keras3([layer("InputLayer", batch_shape=[None, 3]), lambda_layer()])
    report = scan(tmp_path, keras_rezipped(config, method), "model.keras")
    assert "keras/lambda-layer" in rules(report), report.findings
    assert "keras/malformed" not in rules(report)
    assert worst(report) >= Severity.high

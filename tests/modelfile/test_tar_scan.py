"""Tar containers, including PyTorch's legacy tar layout."""

from __future__ import annotations

import io
import pickle
import struct
import tarfile

from custos.checks.model import Severity
from tests.modelfile.conftest import FakeAnalyser, Scan, globals_seen, rules, worst
from tests.modelfile.zips import BENIGN, EVIL


def make_tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def test_plain_tar_members_are_dispatched(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = make_tar([(member("model/weights.dat"), EVIL), (member("model/ok.pkl"), BENIGN)])
    report = scan_bytes(data, "model.tar")
    assert report.format == "tar"
    assert globals_seen(report) == {"os.system", "collections.OrderedDict"}


def test_traversal_links_and_devices(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = make_tar(
        [
            (member("../../etc/passwd"), b"root:x:0:0\n"),
            (member("/abs/file"), b"x"),
            (member("link", tarfile.SYMTYPE, "../../../home/user/.ssh/id_rsa"), None),
            (member("hard", tarfile.LNKTYPE, "/etc/shadow"), None),
            (member("dev", tarfile.CHRTYPE), None),
        ]
    )
    report = scan_bytes(data, "evil.tar")
    assert {"tar/path-traversal", "tar/link-member", "tar/special-member"} <= rules(report)
    traversal = [f for f in report.findings if f.rule == "tar/path-traversal"]
    assert len(traversal) == 4


def test_trailing_data_after_end_of_archive(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = make_tar([(member("a.txt"), b"hello")]) + EVIL
    report = scan_bytes(data, "t.tar")
    assert "tar/trailing-data" in rules(report)


def test_truncated_tar_member(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = make_tar([(member("a.pkl"), EVIL + b"\0" * 2000)])
    report = scan_bytes(data[:1500], "t.tar")
    assert worst(report) >= Severity.high


def _legacy_storages() -> bytes:
    out = io.BytesIO()
    pickle.dump(1, out, protocol=2)
    out.write(
        b"\x80\x02X\x01\x00\x00\x000X\x03\x00\x00\x00cpuctorch\nFloatStorage\nq\x00\x87q\x01."
    )
    out.write(struct.pack("<q", 3) + b"\x00" * 12)  # 3 float32 elements
    pickle.dump([], out, protocol=2)
    return out.getvalue()


def _legacy_tensors() -> bytes:
    out = io.BytesIO()
    pickle.dump(1, out, protocol=2)
    out.write(b"\x80\x02X\x01\x00\x00\x001X\x01\x00\x00\x000ctorch\nFloatTensor\nq\x00\x87q\x01.")
    out.write(struct.pack("<ii", 1, 0) + struct.pack("<q", 3) + struct.pack("<q", 1))
    out.write(struct.pack("<q", 0))
    return out.getvalue()


def test_legacy_torch_tar_layout(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = make_tar(
        [
            (member("sys_info"), pickle.dumps({"little_endian": True}, protocol=2)),
            (member("pickle"), BENIGN),
            (member("storages"), _legacy_storages() + EVIL),
            (member("tensors"), _legacy_tensors()),
        ]
    )
    report = scan_bytes(data, "old.pt")
    assert report.format == "pytorch-tar"
    assert "torch/legacy-layout" not in rules(report)
    assert "test/malformed" not in rules(report), report.findings
    assert "os.system" in globals_seen(report)
    evil = next(f for f in report.findings if f.message == "os.system")
    assert evil.location.endswith(f"!storages@{len(_legacy_storages())}")


def test_legacy_tar_with_unknown_storage_type(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    storages = _legacy_storages().replace(b"FloatStorage", b"EvilXStorage")
    data = make_tar(
        [
            (member("pickle"), BENIGN),
            (member("storages"), storages),
            (member("tensors"), _legacy_tensors()),
        ]
    )
    report = scan_bytes(data, "old.pt")
    assert "torch/legacy-layout" in rules(report)

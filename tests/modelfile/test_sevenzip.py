"""7z archives: opened with py7zr, members judged like zip and tar members, within the limits;
what cannot be opened (encrypted, py7zr missing) is "not analysed" at medium, never low."""

from __future__ import annotations

import builtins
import io
import json
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custos.checks.model import Severity
from custos.modelfile.context import Limits
from custos.modelfile.dispatch import scan_file
from custos.modelfile.policy import Policy
from tests.modelfile.conftest import rules, worst
from tests.modelfile.zips import BENIGN, EVIL, make_zip

py7zr = pytest.importorskip("py7zr")


def seven(path: Path, members: list[tuple[str, bytes]], **options: Any) -> Path:
    with py7zr.SevenZipFile(path, "w", **options) as archive:
        for name, data in members:
            archive._writef(io.BytesIO(data), name)  # the public writef refuses '../' names
    return path


def scan(path: Path, limits: Limits | None = None) -> Any:
    return scan_file(path, Policy.default(), limits)


def test_pickle_in_7z_is_found(tmp_path: Path) -> None:
    report = scan(seven(tmp_path / "model.7z", [("weights/model.pkl", EVIL)]))
    assert report.format == "7z"
    assert worst(report) == Severity.critical
    assert any(f.location.endswith("model.7z!weights/model.pkl@0") for f in report.findings)


def test_clean_7z_is_clean(tmp_path: Path) -> None:
    members = [("model.pkl", BENIGN), ("README.md", b"# model\n"), ("a/b.npy", b"\0" * 300)]
    report = scan(seven(tmp_path / "model.7z", members))
    assert report.findings == ()


def test_nested_archives_are_walked(tmp_path: Path) -> None:
    inner = make_zip([("archive/data.pkl", EVIL)])
    report = scan(seven(tmp_path / "model.7z", [("inner.zip", inner)]))
    assert worst(report) == Severity.critical


@pytest.mark.parametrize("header_encryption", [False, True])
def test_password_protected_7z_is_not_analysed_medium(
    tmp_path: Path, header_encryption: bool
) -> None:
    path = seven(
        tmp_path / "model.7z",
        [("model.pkl", EVIL)],
        password="infected",  # noqa: S106 - a test archive
        header_encryption=header_encryption,
    )
    report = scan(path)
    assert rules(report) == {"7z/encrypted"}
    assert worst(report) == Severity.medium


def test_member_judgement_paths_duplicates_and_links(tmp_path: Path) -> None:
    report = scan(
        seven(tmp_path / "m.7z", [("../up.pkl", EVIL), ("x.pkl", BENIGN), ("x.pkl", EVIL)])
    )
    assert {"7z/path-traversal", "7z/duplicate-name"} <= rules(report)
    assert worst(report) == Severity.critical  # the second x.pkl is scanned too


def test_member_limit(tmp_path: Path) -> None:
    path = seven(tmp_path / "m.7z", [(f"{i}.pkl", BENIGN) for i in range(5)])
    report = scan(path, Limits(max_members=3))
    assert "7z/too-many-members" in rules(report)


def test_bomb_is_stopped_and_its_start_still_scanned(tmp_path: Path) -> None:
    path = seven(tmp_path / "bomb.7z", [("model.pkl", EVIL + b"\0" * (4 << 20))])
    report = scan(path, Limits(max_ratio=10))
    assert "7z/bomb" in rules(report)
    assert any(f.severity == Severity.critical for f in report.findings)


def test_truncated_7z_is_malformed(tmp_path: Path) -> None:
    path = seven(tmp_path / "m.7z", [("model.pkl", EVIL * 50)])
    path.write_bytes(path.read_bytes()[:60])
    report = scan(path)
    assert report.format == "7z"
    assert worst(report) >= Severity.medium


def test_without_py7zr_a_7z_is_not_analysed_medium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = seven(tmp_path / "m.7z", [("model.pkl", BENIGN)])
    real_import = builtins.__import__

    def no_py7zr(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "py7zr" or name.startswith("py7zr."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_py7zr)
    monkeypatch.setattr("importlib.import_module", lambda name: no_py7zr(name, fromlist=["_"]))
    report = scan(path)
    assert rules(report) == {"7z/not-analysed"}
    assert "custos[archives]" in report.findings[0].message


def test_pickle_in_7z_passes_no_longer_the_default_gate(tmp_path: Path) -> None:
    # The corpus case: before, "format not recognised; not analysed" at low.
    report = scan(seven(tmp_path / "payload.7z", [("p", pickle.dumps(print))]))
    assert worst(report) >= Severity.medium


_SEED_7Z: dict[str, bytes] = {}


def _seed_archive() -> bytes:
    """One 7z holding a payload pickle beside a benign member (built once per session)."""
    if "evil" not in _SEED_7Z:
        buffer = io.BytesIO()
        with py7zr.SevenZipFile(buffer, "w") as archive:
            archive.writestr(BENIGN, "a/benign.pkl")
            archive.writestr(EVIL, "b/model.pkl")
        _SEED_7Z["evil"] = buffer.getvalue()
    return _SEED_7Z["evil"]


@settings(
    max_examples=int(os.environ.get("CUSTOS_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_7z_never_raises_and_never_passes_its_payload(
    tmp_path: Path, data: st.DataObject
) -> None:
    """Bytes flipped, cut, inserted or dropped anywhere in a 7z holding a payload: the scan
    ends with a report (no exception, no error swallowed into a pass), its JSON encodes, and
    while the bytes still start as a 7z the verdict is never below medium (the payload is
    either found or its archive is reported as not analysed or malformed)."""
    raw = bytearray(_seed_archive())
    for _ in range(data.draw(st.integers(1, 4))):
        if len(raw) < 2:
            break
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "drop"]))
        if action == "flip":
            raw[at] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del raw[max(at, 1) :]
        elif action == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        else:
            del raw[at : at + data.draw(st.integers(1, 16))]
    path = tmp_path / "fuzzed.7z"
    path.write_bytes(bytes(raw))
    report = scan(path)
    json.dumps(report.to_json())
    if bytes(raw).startswith(b"7z\xbc\xaf\x27\x1c"):
        assert report.format == "7z"
        verdict = worst(report)
        assert verdict is not None, report
        assert verdict >= Severity.medium, report.findings

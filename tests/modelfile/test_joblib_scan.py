"""joblib files: arrays written inside the pickle stream are skipped exactly as joblib does."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest

from custos.checks.model import Severity
from custos.modelfile.dispatch import scan_file
from custos.modelfile.formats import joblib_scan
from custos.modelfile.policy import Policy
from tests.modelfile.conftest import FakeAnalyser, Scan, globals_seen, rules, worst
from tests.modelfile.zips import EVIL

np = pytest.importorskip("numpy")
joblib = pytest.importorskip("joblib")


def dump(value: object, **kwargs: object) -> bytes:
    out = io.BytesIO()
    joblib.dump(value, out, **kwargs)
    return out.getvalue()


def test_arrays_are_cut_out_of_the_pickle(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    value = {
        "w": np.arange(1000.0),
        "b": np.ones((3, 7), dtype=np.int32, order="F"),
        "s": np.array(["x", "yz"]),
        "o": np.array([1, "x"], dtype=object),
        "n": 3,
    }
    report = scan_bytes(dump(value), "model.joblib")
    assert report.format == "joblib"
    assert "test/malformed" not in rules(report), report.findings
    assert "joblib.numpy_pickle.NumpyArrayWrapper" in globals_seen(report)
    assert worst(report) <= Severity.low


def test_code_after_an_array_is_still_found(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    data = dump([np.arange(64.0), "tail"])
    assert data.endswith(b".")
    # replace the final STOP by a REDUCE of os.system: what joblib would run after the array
    evil = data[:-1] + b"0" + EVIL[:-1] + b"0."
    report = scan_bytes(evil, "model.joblib")
    assert "os.system" in globals_seen(report)
    hit = next(f for f in report.findings if f.message == "os.system")
    assert int(hit.location.rsplit("@", 1)[1]) == len(data)


def test_array_bytes_that_look_like_opcodes_are_skipped(
    scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    array = np.frombuffer(EVIL + b"\0" * (-len(EVIL) % 8), dtype=np.uint8).copy()
    report = scan_bytes(dump({"a": array}), "model.joblib")
    assert "os.system" not in globals_seen(report)  # data, not code: joblib never runs it
    assert "test/malformed" not in rules(report)


def test_compressed_joblib(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    for compress in ("zlib", "gzip", "bz2", "xz", "lzma"):
        report = scan_bytes(dump({"w": np.arange(50.0)}, compress=compress), "m.joblib")
        assert report.format == compress, report.findings
        assert "joblib.numpy_pickle.NumpyArrayWrapper" in globals_seen(report)
        assert worst(report) <= Severity.low, (compress, report.findings)


def test_object_array_nested_pickle_is_analysed(
    scan_bytes: Scan, fake_pickle: FakeAnalyser
) -> None:
    data = dump({"o": np.array([1, "x"], dtype=object)})
    nested = data.index(b"\x80\x05", 2)
    layout = joblib_scan.layout(io.BytesIO(data))
    assert layout.wrappers == 1
    assert layout.nested[0][0] == nested
    report = scan_bytes(data, "m.joblib")
    assert "test/malformed" not in rules(report)


def test_wrapper_name_spelled_with_escapes_is_followed(tmp_path: Path) -> None:
    # STACK_GLOBAL fed by protocol-0 strings with escapes: the analyser resolves the name as
    # the Unpickler would, so the stream is still read the way joblib reads it.
    plain = dump({"w": np.arange(4.0)}, protocol=4)
    hidden = plain.replace(b"\x8c\x11NumpyArrayWrapper", b"S'\\x4eumpyArrayWrapper'\n")
    assert hidden != plain
    path = tmp_path / "m.joblib"
    path.write_bytes(hidden)
    report = scan_file(path, Policy.default())
    assert report.format == "joblib"
    assert worst(report) <= Severity.low, report.findings


def test_unresolvable_wrapper_is_reported(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    stream = (
        b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}(U\x05shapeK\x03\x85U\x05dtype"
        b"cos\ngetcwd\n)Rub" + EVIL
    )
    report = scan_bytes(stream, "m.joblib")
    assert "joblib/unresolved-array" in rules(report)
    assert "os.system" in globals_seen(report)


def test_plain_pickle_is_not_joblib(scan_bytes: Scan, fake_pickle: FakeAnalyser) -> None:
    report = scan_bytes(pickle.dumps({"a": 1}), "x.joblib")
    assert report.format == "pickle"

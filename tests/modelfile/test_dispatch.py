"""The dispatcher end to end: directories, crashes as findings, and the real pickle analyser
on files made by the real libraries (benign: nothing above low; malicious: found)."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import pytest

from custos.checks.model import Severity
from custos.modelfile import dispatch
from custos.modelfile.dispatch import scan_file
from custos.modelfile.scan import scan_paths
from tests.modelfile.conftest import FakeAnalyser, rules, worst
from tests.modelfile.zips import EVIL, make_zip, torch_zip


def test_scan_paths_walks_and_reports_symlinks_out_of_the_root(
    tmp_path: Path, fake_pickle: FakeAnalyser
) -> None:
    outside = tmp_path / "outside.pkl"
    outside.write_bytes(EVIL)
    root = tmp_path / "model"
    (root / "sub").mkdir(parents=True)
    (root / "a.pkl").write_bytes(EVIL)
    (root / "sub" / "b.txt").write_text("hello")
    os.symlink(outside, root / "link.pkl")
    os.symlink(root / "a.pkl", root / "sub" / "inside.pkl")
    reports = {r.path.name: r for r in scan_paths([root], None)}
    assert set(reports) == {"a.pkl", "b.txt", "link.pkl", "inside.pkl"}
    assert rules(reports["link.pkl"]) == {"path/symlink-outside"}
    assert reports["inside.pkl"].format == "pickle"
    assert reports["b.txt"].format == "text"


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        scan_paths([tmp_path / "nope"], None)


def test_scanner_crash_becomes_a_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("parser bug")

    dispatch.load_all_rules()  # npy/malformed is registered by numpy_scan, which boom replaces
    monkeypatch.setitem(dispatch.SCANNERS, "npy", boom)
    path = tmp_path / "a.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + b"\0" * 30)
    report = scan_file(path, None)
    assert "npy/malformed" in rules(report)
    assert report.error is not None
    assert "parser bug" in report.error
    assert worst(report) == Severity.high


def test_unknown_and_empty_files_are_reported_low(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "empty.pt").write_bytes(b"")
    reports = {r.path.name: r for r in scan_paths([tmp_path], None)}
    assert rules(reports["blob"]) == {"format/unknown"}
    assert rules(reports["empty.pt"]) == {"format/empty"}
    assert worst(reports["blob"]) == Severity.low


# ---- with the real pickle analyser and the default policy ----------------------------------

policy_module = pytest.importorskip("custos.modelfile.policy")
pytest.importorskip("custos.modelfile.pickle.scan")


@pytest.fixture
def scan(tmp_path: Path):  # type: ignore[no-untyped-def]
    policy = policy_module.Policy.default()

    def run(data: bytes, name: str) -> object:
        path = tmp_path / name
        path.write_bytes(data)
        return scan_file(path, policy)

    return run


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (EVIL, "notes.txt"),
        (torch_zip(EVIL), "model.safetensors"),
        (make_zip([("x/y/evil.bin", make_zip([("p.pkl", EVIL)]))], zipfile.ZIP_DEFLATED), "m.zip"),
    ],
)
def test_malicious_is_critical(data: bytes, name: str, scan) -> None:  # type: ignore[no-untyped-def]
    report = scan(data, name)
    assert worst(report) == Severity.critical, report.findings


def test_benign_numpy_files(scan) -> None:  # type: ignore[no-untyped-def]
    np = pytest.importorskip("numpy")
    out = io.BytesIO()
    np.save(out, np.arange(10.0))
    assert worst(scan(out.getvalue(), "a.npy")) <= Severity.low
    out = io.BytesIO()
    np.savez_compressed(out, a=np.arange(10.0), b=np.ones((3, 3)))
    report = scan(out.getvalue(), "a.npz")
    assert report.format == "npz"
    assert worst(report) <= Severity.low, report.findings


def test_benign_torch_style_zip(scan) -> None:  # type: ignore[no-untyped-def]
    payload = pickle.dumps({"epoch": 3, "lr": 0.1, "names": ["a", "b"]}, protocol=2)
    report = scan(torch_zip(payload), "model.pt")
    assert report.format == "pytorch-zip"
    assert worst(report) <= Severity.low, report.findings


def test_benign_sklearn_joblib(scan) -> None:  # type: ignore[no-untyped-def]
    joblib = pytest.importorskip("joblib")
    linear = pytest.importorskip("sklearn.linear_model")
    np = pytest.importorskip("numpy")
    model = linear.LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    for compress in (0, 3):
        out = io.BytesIO()
        joblib.dump(model, out, compress=compress)
        report = scan(out.getvalue(), "model.joblib")
        assert worst(report) <= Severity.low, report.findings


def test_torchscript_names_allowed_only_inside_torchscript_archives(tmp_path: Path) -> None:
    from custos.modelfile.policy import Policy

    scripted_class = b"\x80\x02c__torch__.torch.nn.modules.linear\nLinear\nq\x00)\x81q\x01."
    archive = make_zip(
        [
            ("m/data.pkl", scripted_class),
            ("m/code/__torch__/torch/nn/modules/linear.py", b"class Linear(Module):\n  pass\n"),
            ("m/constants.pkl", EVIL),
            ("m/version", b"3\n"),
        ]
    )
    path = tmp_path / "scripted.pt"
    path.write_bytes(archive)
    report = scan_file(path, Policy.default())
    assert report.format == "torchscript"
    by_member = {f.location.split("!")[-1].split("@")[0]: f for f in report.findings}
    assert by_member["m/constants.pkl"].severity == Severity.critical  # still os.system
    assert "m/data.pkl" not in by_member  # __torch__ classes come from the archive's code/
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(scripted_class)
    assert worst(scan_file(plain, Policy.default())) == Severity.medium  # outside: unknown


@pytest.mark.parametrize("extra", [-1, 0, 1, 4096])
def test_files_either_side_of_the_in_memory_size_are_judged_alike(
    tmp_path: Path, extra: int
) -> None:
    """A file up to SMALL_FILE is read into memory, a larger one streamed: the same torch zip
    with a payload member, padded to either side of the line, gives the same findings."""
    pad = dispatch.SMALL_FILE + extra
    base = torch_zip(EVIL)
    filler = b"\0" * max(0, pad - len(base) - 200)
    data = make_zip([("archive/data.pkl", EVIL), ("archive/data/0", filler)])
    data += b"\0" * (pad - len(data))  # trailing bytes: the zip's end record stays findable
    path = tmp_path / "m.pt"
    path.write_bytes(data)
    assert path.stat().st_size == pad
    small = tmp_path / "small.pt"
    small.write_bytes(make_zip([("archive/data.pkl", EVIL), ("archive/data/0", b"")]))
    big, little = scan_file(path, None), scan_file(small, None)
    assert worst(big) == worst(little) == Severity.critical
    assert rules(little) <= rules(big)

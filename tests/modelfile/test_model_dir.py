"""A model directory scanned as one model: per-file reports, links, special files, bounds, and
the model-file check on an asset whose location is a directory."""

from __future__ import annotations

import datetime as dt
import os
import pickle
from pathlib import Path
from typing import Any

from custos.checks.base import CheckContext, Target
from custos.checks.model import Severity
from custos.checks.model_file import ModelFile
from custos.checks.registry import run_check
from custos.inventory.schema import Manifest
from custos.modelfile.context import Limits
from custos.modelfile.model_dir import scan_directory
from custos.modelfile.policy import Policy
from custos.modelfile.scan import scan_paths
from tests.modelfile.modeldirs import above_low, findings, pyfunc, write_mlflow

POLICY = Policy.default()
EVIL = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."


def test_every_file_by_content_in_walk_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "weights.txt").write_bytes(EVIL)  # the name is never trusted
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "z.bin").write_bytes(pickle.dumps([1.0]))
    reports = scan_directory(tmp_path, POLICY)
    assert [r.path.relative_to(tmp_path).as_posix() for r in reports] == [
        "a.json", "z.bin", "b/weights.txt",
    ]  # fmt: skip
    assert reports[2].format == "pickle"
    assert reports[2].worst() == Severity.critical
    assert all(str(f.location).startswith(str(r.path)) for r in reports for f in r.findings)


def test_links_broken_links_and_fifos_are_reported_not_opened(tmp_path: Path) -> None:
    root = tmp_path / "model"
    root.mkdir()
    (tmp_path / "secret.pkl").write_bytes(EVIL)
    os.symlink(tmp_path / "secret.pkl", root / "out.pkl")
    os.symlink(root / "nowhere.pkl", root / "broken.pkl")
    os.symlink(root / "loop", root / "loop")
    os.mkfifo(root / "pipe")  # opening it would block the scan forever
    (root / "real.pkl").write_bytes(pickle.dumps(1))
    os.symlink(root / "real.pkl", root / "alias.pkl")
    reports = {r.path.name: r for r in scan_directory(root, POLICY)}
    assert [f.rule for f in reports["out.pkl"].findings] == ["path/symlink-outside"]
    assert [f.rule for f in reports["broken.pkl"].findings] == ["path/symlink-broken"]
    assert [f.rule for f in reports["loop"].findings] == ["path/symlink-broken"]
    assert [f.rule for f in reports["pipe"].findings] == ["path/special-file"]
    assert reports["alias.pkl"].format == "pickle"  # a link inside is scanned
    assert not any(f.severity == Severity.critical for r in reports.values() for f in r.findings)


def test_entry_limit_stops_with_a_high_finding(tmp_path: Path) -> None:
    for i in range(10):
        (tmp_path / f"f{i:02}.pkl").write_bytes(pickle.dumps(i))
    reports = scan_directory(tmp_path, POLICY, Limits(max_dir_entries=4))
    assert len([r for r in reports if r.format == "pickle"]) == 4
    (note,) = [r for r in reports if r.format == "directory"]
    assert note.path == tmp_path
    (finding,) = note.findings
    assert finding.rule == "model-dir/too-many-files"
    assert finding.severity == Severity.high
    assert "f04.pkl" in finding.message
    assert "not scanned" in finding.message


def test_size_limit_stops_with_a_high_finding(tmp_path: Path) -> None:
    (tmp_path / "a.pkl").write_bytes(pickle.dumps(b"x" * 100))
    (tmp_path / "b.pkl").write_bytes(pickle.dumps(b"x" * 100))
    reports = scan_directory(tmp_path, POLICY, Limits(max_dir_bytes=150))
    assert [r.path.name for r in reports] == ["a.pkl", tmp_path.name]
    (finding,) = reports[-1].findings
    assert finding.rule == "model-dir/too-large"
    assert "b.pkl" in finding.message


def test_native_extension_and_compiled_module_are_reported(tmp_path: Path) -> None:
    (tmp_path / "ops.so").write_bytes(b"\x7fELF" + bytes(60))
    (tmp_path / "helper.pyc").write_bytes(b"\xa7\r\r\n" + bytes(12))
    hits = dict(findings(scan_directory(tmp_path, POLICY), "model-dir/python-module"))
    assert "native extension ops.so" in hits[str(tmp_path / "ops.so")]
    assert "compiled Python module" in hits[str(tmp_path / "helper.pyc")]


def test_references_resolve_in_the_folder_of_each_mlmodel(tmp_path: Path) -> None:
    write_mlflow(tmp_path / "one")
    write_mlflow(tmp_path / "two", pyfunc(python_model="python_model.pkl"))
    reports = scan_paths([tmp_path], POLICY)
    missing = findings(reports, "model-dir/missing-reference")
    assert [loc for loc, _ in missing] == [
        str(tmp_path / "two" / "MLmodel!flavors.python_function")
    ]
    (tmp_path / "two" / "python_model.pkl").write_bytes(pickle.dumps({}))
    assert above_low(scan_paths([tmp_path], POLICY)) == []


def _manifest(location: str) -> Manifest:
    data: dict[str, Any] = {
        "organisation": {"name": "Acme", "scope": "Scoring"},
        "systems": [
            {
                "id": "scorer",
                "name": "Scorer",
                "purpose": "Scores applications",
                "lifecycle": "production",
                "eu_ai_act": {"role": "provider", "tier": "minimal"},
                "assets": [{"id": "scorer-model", "kind": "model", "location": location}],
            }
        ],
    }
    return Manifest.model_validate(data)


def test_model_file_check_on_a_directory_asset(tmp_path: Path) -> None:
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    model = write_mlflow(tmp_path / "models" / "scorer")
    manifest = _manifest("models/scorer")
    system = manifest.systems[0]
    target = Target(system, system.assets[0])
    passed = run_check(ModelFile(), target, CheckContext(manifest, tmp_path, now))
    assert passed.result == "pass", passed.findings
    write_mlflow(model, pyfunc(loader_module="acme.loader", code="code"))
    failed = run_check(ModelFile(), target, CheckContext(manifest, tmp_path, now))
    assert failed.result == "fail"
    locations = {(f.rule, f.location) for f in failed.findings}
    assert ("mlmodel/custom-loader", "models/scorer/MLmodel!flavors.python_function") in locations
    assert ("mlmodel/code-paths", "models/scorer/MLmodel!flavors.python_function") in locations
    assert ("model-dir/missing-reference", "models/scorer/MLmodel!flavors.python_function") in (
        locations
    )
    assert failed.examined
    assert failed.examined[0].location == "models/scorer"

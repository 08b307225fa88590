"""The `data-integrity` check on dataset assets in a small project: not applicable without a
`label:`, a failing result with the trigger finding on planted data, a pass on clean data, the
baseline read from .custos/data-baselines/<asset id>.json, an error naming the install command
when the extra is missing; and `label:` accepted on dataset assets only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from custos._hashing import sha256_path
from custos.catalog.catalog import Catalog
from custos.checks.base import CheckContext, Target
from custos.checks.data_integrity import DataIntegrity
from custos.checks.model import Evidence
from custos.checks.registry import get_check, run_check
from custos.dataintegrity import extra
from custos.dataintegrity.baseline import dumps
from custos.dataintegrity.scan import examine
from custos.inventory.schema import Manifest
from tests.dataintegrity.planted import write

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
CHECK = DataIntegrity()


def _manifest(asset: dict[str, Any]) -> Manifest:
    return Manifest.model_validate({
        "organisation": {"name": "Acme", "scope": "Fraud"},
        "systems": [{"id": "scorer", "name": "Scorer", "purpose": "Scores payments",
                     "lifecycle": "production", "eu_ai_act": {"role": "provider", "tier": "high"},
                     "assets": [asset]}],
    })  # fmt: skip


def _run(root: Path, asset: dict[str, Any]) -> Evidence:
    manifest = _manifest(asset)
    system = manifest.systems[0]
    return run_check(CHECK, Target(system, system.assets[0]), CheckContext(manifest, root, NOW))


def test_contract(shipped: Catalog) -> None:
    assert get_check("data-integrity") is not None
    assert CHECK.kinds == frozenset({"dataset"})
    for control in CHECK.evidences:
        assert control in shipped.controls, control
    listed = {c.id for c in shipped.framework_controls("custos-ai")
              if "data-integrity" in c.verification.checks}  # fmt: skip
    assert listed == {"custos:ai:data-poisoning"}
    assert listed <= set(CHECK.evidences)


def test_label_only_on_datasets() -> None:
    with pytest.raises(ValidationError, match="only dataset assets have a label"):
        _manifest({"id": "m", "kind": "model", "location": "model.bin", "label": "y"})


def test_not_applicable_without_a_label(tmp_path: Path) -> None:
    write(tmp_path / "train.csv", 300, 1, clean=True)
    evidence = _run(tmp_path, {"id": "train", "kind": "dataset", "location": "train.csv"})
    assert evidence.result == "not_applicable"
    assert "label:" in evidence.summary


def test_planted_data_fails_and_clean_data_passes(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    write(tmp_path / "data" / "train.csv", 1500, 2)
    write(tmp_path / "data" / "clean.csv", 1500, 8, clean=True)
    planted = _run(tmp_path, {"id": "train", "kind": "dataset", "location": "data/train.csv",
                              "label": "label"})  # fmt: skip
    assert planted.result == "fail", planted.summary
    assert "data-integrity/trigger-candidate" in {f.rule for f in planted.findings}
    assert all(f.location == "data/train.csv" for f in planted.findings)
    assert planted.controls == ("custos:ai:data-poisoning",)
    (examined,) = planted.examined
    assert examined.location == "data/train.csv"
    assert examined.sha256 == sha256_path(tmp_path / "data" / "train.csv")

    clean = _run(tmp_path, {"id": "clean", "kind": "dataset", "location": "data/clean.csv",
                            "label": "label"})  # fmt: skip
    assert clean.result == "pass", clean.findings
    assert "1,500 rows" in clean.summary


def test_baseline_from_the_project_folder(tmp_path: Path) -> None:
    data = write(tmp_path / "train.csv", 1500, 9, clean=True)
    _, document = examine([data.path], "label")
    document["class_shares"] = {"benign": 0.6, "fraud": 0.2, "review": 0.2}
    stored = tmp_path / ".custos" / "data-baselines" / "train.json"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(dumps(document))
    evidence = _run(tmp_path, {"id": "train", "kind": "dataset", "location": "train.csv",
                               "label": "label"})  # fmt: skip
    assert evidence.result == "fail"
    assert {f.rule for f in evidence.findings} == {"data-integrity/class-balance-drift"}
    assert ".custos/data-baselines/train.json" in {e.location for e in evidence.examined}


def test_errors_name_the_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "train.csv").write_text("a,b\n1,x\n2,y\n")
    asset = {"id": "train", "kind": "dataset", "location": "train.csv", "label": "target"}
    wrong = _run(tmp_path, asset)
    assert wrong.result == "error"
    assert "no column 'target'" in wrong.summary
    assert str(tmp_path) not in wrong.summary
    assert _run(tmp_path, {**asset, "location": "none-*.csv"}).result == "error"

    monkeypatch.setattr(extra, "find_spec", lambda name: None)
    missing = _run(tmp_path, {**asset, "label": "b"})
    assert missing.result == "error"
    assert missing.summary == extra.MISSING_EXTRA

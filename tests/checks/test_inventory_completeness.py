"""inventory-completeness on real trees: undeclared artifacts, declared-but-missing assets, pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from custos._hashing import sha256_file
from custos.checks import inventory_completeness as ic
from custos.checks.base import CheckContext, Target
from custos.checks.inventory_completeness import InventoryCompleteness
from custos.checks.model import Evidence, Severity
from custos.checks.registry import run_check
from custos.inventory.discover import scan_tree
from custos.inventory.schema import Manifest
from tests.inventory import artifacts as a

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
CHECK = InventoryCompleteness()
UNDECLARED = "inventory-completeness/undeclared-artifact"
MISSING = "inventory-completeness/declared-missing"


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    ic.survey.cache_clear()
    yield
    ic.survey.cache_clear()


def system(system_id: str, assets: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "id": system_id,
        "name": system_id.title(),
        "purpose": "Scores card transactions for fraud",
        "owner": "ml-team",
        "lifecycle": "production",
        "eu_ai_act": {"role": "provider", "tier": "high"},
        "assets": [
            {"id": asset_id, "kind": kind, "location": location}
            for asset_id, kind, location in assets
        ],
    }


def manifest(*systems: dict[str, Any]) -> Manifest:
    return Manifest.model_validate(
        {"organisation": {"name": "Acme", "scope": "Card fraud"}, "systems": list(systems)}
    )


def run(m: Manifest, root: Path, now: dt.datetime = NOW) -> dict[str, Evidence]:
    context = CheckContext(m, root, now)
    return {s.id: run_check(CHECK, Target(s), context) for s in m.systems}


def rules(evidence: Evidence) -> set[tuple[str, str, Severity]]:
    return {(f.rule, f.location, f.severity) for f in evidence.findings}


def test_contract() -> None:
    assert CHECK.name == "inventory-completeness"
    assert CHECK.version == 1
    assert CHECK.kinds == frozenset()
    assert CHECK.evidences == ("custos:ai:ai-inventory", "iso27002:2022:5.9")
    s = manifest(system("scorer", [("m", "model", "m.pkl")])).systems[0]
    assert CHECK.applies_to(Target(s))  # runs once per system ...
    assert not CHECK.applies_to(Target(s, s.assets[0]))  # ... not per asset


def test_undeclared_and_missing(tmp_path: Path) -> None:
    a.build_repo(tmp_path)
    m = manifest(
        system(
            "scorer",
            [
                ("classifier", "model", "models/classifier.pkl"),
                ("transactions", "dataset", "data"),  # a directory covers what is beneath
                ("onnx-export", "model", "models/*.onnx"),  # a glob matching nothing today
                ("hosted", "endpoint", "https://api.example.com/score"),  # URLs are skipped
            ],
        ),
        system(
            "gateway",
            [
                ("api", "endpoint", "serving/app.py"),
                ("encoders", "model", "models/*.safetensors"),
            ],
        ),
    )
    evidence = run(m, tmp_path)
    undeclared = {
        (UNDECLARED, "models/llm.gguf", Severity.high),
        (UNDECLARED, "models/resnet.pt", Severity.high),
        (UNDECLARED, "models/scaler.npy", Severity.high),
        (UNDECLARED, "train.py", Severity.medium),
        (UNDECLARED, "logs/access.log", Severity.medium),
    }
    assert rules(evidence["scorer"]) == undeclared | {(MISSING, "models/*.onnx", Severity.high)}
    assert rules(evidence["gateway"]) == undeclared  # the missing asset is scorer's only
    scorer = evidence["scorer"]
    assert scorer.result == "fail"
    assert scorer.summary.startswith("11 artifact(s) found, 5 undeclared; 1 of 3 declared")
    assert "1 URL asset(s) not checked" in scorer.summary
    assert all(f.controls == CHECK.evidences for f in scorer.findings)
    message = next(f.message for f in scorer.findings if f.location == "models/resnet.pt")
    assert "undeclared model (pytorch-zip)" in message
    assert "Declare it as an asset" in message


def test_everything_declared_passes(tmp_path: Path) -> None:
    a.build_repo(tmp_path)
    m = manifest(
        system(
            "scorer",
            [
                ("models", "model", "models"),
                ("data", "dataset", "data/transactions.csv"),
                ("api", "endpoint", "serving/*.py"),
                ("training", "pipeline", "./train.py"),
                ("access", "log_source", "logs/access.log"),
            ],
        )
    )
    evidence = run(m, tmp_path)["scorer"]
    assert evidence.result == "pass", evidence.findings
    assert evidence.findings == ()
    assert evidence.summary == (
        "11 artifact(s) found, 0 undeclared; 0 of 5 declared local asset(s) missing"
    )
    examined = {e.location: e for e in evidence.examined}
    assert set(examined) == {d.path for d in scan_tree(tmp_path).found}
    model = tmp_path / "models" / "classifier.pkl"
    assert examined["models/classifier.pkl"].sha256 == sha256_file(model)
    assert examined["models/classifier.pkl"].size == model.stat().st_size
    assert examined["data/transactions.csv"].sha256 is not None
    assert examined["serving/app.py"].sha256 is None  # code is listed, only models/data hashed
    assert examined["serving/app.py"].size is not None


def test_a_repository_covers_code_but_not_models_or_data(tmp_path: Path) -> None:
    a.build_repo(tmp_path)
    m = manifest(system("scorer", [("repo", "repository", ".")]))
    assert rules(run(m, tmp_path)["scorer"]) == {
        (UNDECLARED, "models/classifier.pkl", Severity.high),
        (UNDECLARED, "models/encoder.safetensors", Severity.high),
        (UNDECLARED, "models/llm.gguf", Severity.high),
        (UNDECLARED, "models/resnet.pt", Severity.high),
        (UNDECLARED, "models/scaler.npy", Severity.high),
        (UNDECLARED, "data/transactions.csv", Severity.medium),
        (UNDECLARED, "logs/access.log", Severity.medium),
    }  # serving/app.py and train.py are code held in the declared repository


def test_a_deleted_file_is_declared_missing(tmp_path: Path) -> None:
    model = a.write(tmp_path / "model.pkl", a.pickled(4))
    m = manifest(system("scorer", [("model", "model", "model.pkl")]))
    assert run(m, tmp_path)["scorer"].result == "pass"
    model.unlink()
    later = run(m, tmp_path, NOW + dt.timedelta(hours=1))["scorer"]
    assert later.result == "fail"
    assert rules(later) == {(MISSING, "model.pkl", Severity.high)}


def test_each_run_sees_the_disk_anew(tmp_path: Path) -> None:
    a.write(tmp_path / "model.pkl", a.pickled(4))
    m = manifest(system("scorer", [("model", "model", "model.pkl")]))
    assert run(m, tmp_path)["scorer"].result == "pass"
    a.write(tmp_path / "new" / "extra.safetensors", a.safetensors_bytes())
    later = run(m, tmp_path, NOW + dt.timedelta(minutes=5))["scorer"]
    assert rules(later) == {(UNDECLARED, "new/extra.safetensors", Severity.high)}


def test_discovery_runs_once_per_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a.build_repo(tmp_path)
    calls: list[Path] = []
    real = ic.scan_tree

    def counting(root: Path, max_files: int = 100_000) -> Any:
        calls.append(root)
        return real(root, max_files)

    monkeypatch.setattr(ic, "scan_tree", counting)
    m = manifest(system("a", []), system("b", []), system("c", []))
    run(m, tmp_path)
    assert len(calls) == 1


def test_huge_files_are_recorded_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = a.write(tmp_path / "model.pkl", a.pickled(4))
    monkeypatch.setattr(ic, "MAX_HASH_BYTES", 10)
    m = manifest(system("scorer", [("model", "model", "model.pkl")]))
    (examined,) = run(m, tmp_path)["scorer"].examined
    assert examined.sha256 is None
    assert examined.size == model.stat().st_size


def test_an_unfinished_search_is_never_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a.pkl", "b.pkl", "c.pkl"):
        a.write(tmp_path / name, a.pickled(4))
    monkeypatch.setattr(ic, "scan_tree", lambda root: scan_tree(root, max_files=1))
    m = manifest(system("scorer", [("models", "model", "*.pkl")]))
    evidence = run(m, tmp_path)["scorer"]
    assert evidence.result == "error"
    assert "stopped at its file limit" in evidence.summary


def test_a_missing_project_directory_is_an_error(tmp_path: Path) -> None:
    m = manifest(system("scorer", []))
    evidence = run(m, tmp_path / "gone")["scorer"]
    assert evidence.result == "error"
    assert evidence.findings[0].rule == "inventory-completeness/error"

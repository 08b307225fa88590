"""The `evaluation` check on a project in tmp_path: not applicable without `evaluation:`; an
untrusted model is an error and never loaded; a model above its minimums with a correct card
passes with the figures in its evidence; one below fails; broken references are errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from custos.catalog.catalog import Catalog
from custos.checks.base import CheckContext, Target
from custos.checks.evaluation import Evaluation
from custos.checks.model import Evidence
from custos.checks.registry import run_check
from custos.inventory.schema import Manifest
from tests.assurance.test_evaluation_planted import (
    card,
    classifier,
    evil_pickle,
    planted,
    write_csv,
)

NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
CHECK = Evaluation()


def manifest(model: dict[str, Any], dataset: dict[str, Any] | None = None) -> Manifest:
    base = {"classification": "internal", "owner": "ML Platform"}
    held_out = dataset or {"id": "holdout", "kind": "dataset", "location": "data/holdout.csv",
                           "label": "y"}  # fmt: skip
    assets = [{"id": "fraud-model", "kind": "model", **base, **model}, {**base, **held_out}]
    return Manifest.model_validate({
        "organisation": {"name": "Acme", "scope": "Scoring"},
        "systems": [{"id": "scoring", "name": "Scoring", "purpose": "Scores transactions",
                     "lifecycle": "production", "eu_ai_act": {"role": "provider",
                                                             "tier": "high"},
                     "assets": assets}],
    })  # fmt: skip


def run(root: Path, model: dict[str, Any], dataset: dict[str, Any] | None = None) -> Evidence:
    m = manifest(model, dataset)
    system = m.systems[0]
    return run_check(CHECK, Target(system, system.assets[0]), CheckContext(m, root, NOW))


def policy(**extra: Any) -> dict[str, Any]:
    return {"data": "holdout", "subgroups": ["region"], "max_fairness_gap": 0.1,
            "minimums": {"accuracy": 0.9, "auc": 0.9}, **extra}  # fmt: skip


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("project")
    (base / "models").mkdir()
    (base / "data").mkdir()
    classifier(base / "models" / "fraud.joblib")
    write_csv(base / "data" / "holdout.csv", planted(1500, 2))
    write_csv(base / "data" / "noisy.csv", planted(1500, 2, noise=0.2))
    card(base / "models" / "fraud.md", "- `signal`: the transaction pattern\n")
    return base


def test_contract(shipped: Catalog) -> None:
    assert CHECK.name == "evaluation"
    assert CHECK.kinds == frozenset({"model"})
    for control in CHECK.evidences:
        assert control in shipped.controls, control
    listed = {c.id for c in shipped.framework_controls("custos-ai")
              if c.verification and "evaluation" in c.verification.checks}  # fmt: skip
    assert listed <= set(CHECK.evidences)


def test_not_applicable_without_evaluation(root: Path) -> None:
    evidence = run(root, {"location": "models/fraud.joblib", "trusted": True})
    assert evidence.result == "not_applicable"


def test_a_model_above_its_minimums_with_a_correct_card_passes(root: Path) -> None:
    evidence = run(root, {"location": "models/fraud.joblib", "trusted": True,
                          "evaluation": policy()})  # fmt: skip
    assert evidence.result == "pass", evidence.summary
    assert evidence.findings == ()
    files = {x.location: x.sha256 for x in evidence.examined if x.sha256}
    assert set(files) == {"models/fraud.joblib", "data/holdout.csv", "models/fraud.md"}
    lines = [x.location for x in evidence.examined if x.sha256 is None]
    assert any(line.startswith("evaluation metrics (classification") for line in lines)
    assert any("evaluation subgroup 'region'" in line and "gap" in line for line in lines)
    assert any(line.startswith("evaluation importance") and "signal" in line for line in lines)
    assert any(line.startswith("evaluation libraries: scikit-learn") for line in lines)
    assert any("model-file scanner" in line for line in lines)
    assert "top features: signal" in evidence.summary
    assert "custos:ai:model-validation" in evidence.controls


def test_a_model_below_its_minimum_fails(root: Path) -> None:
    noisy = {"id": "holdout", "kind": "dataset", "location": "data/noisy.csv", "label": "y"}
    evidence = run(root, {"location": "models/fraud.joblib", "trusted": True,
                          "evaluation": policy()}, noisy)  # fmt: skip
    assert evidence.result == "fail"
    below = [f for f in evidence.findings if f.rule == "evaluation/below-minimum"]
    assert {f.location for f in below} == {"models/fraud.joblib"}
    assert any(f.message.startswith("accuracy 0.") for f in below)
    assert "iso27002:2022:8.29" in below[0].controls


def test_an_untrusted_model_is_an_error_and_never_loaded(tmp_path: Path, root: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "holdout.csv").write_bytes((root / "data" / "holdout.csv").read_bytes())
    marker = tmp_path / "MARKER"
    evil_pickle(tmp_path / "model.pkl", marker)
    evidence = run(tmp_path, {"location": "model.pkl", "evaluation": policy()})
    assert evidence.result == "error"
    assert "not marked `trusted: true`" in evidence.summary
    assert [x.location for x in evidence.examined] == ["model.pkl"]
    assert not marker.exists()
    evidence = run(tmp_path, {"location": "model.pkl", "trusted": True, "evaluation": policy()})
    assert evidence.result == "error"
    assert "model-file scanner refused it" in evidence.summary
    assert str(tmp_path) not in evidence.summary
    assert not marker.exists()


@pytest.mark.parametrize(
    ("model", "dataset", "message"),
    [
        ({"location": "models/none.joblib"}, None, "matches no file"),
        ({"location": "models/fraud.joblib", "evaluation": policy(data="nope")}, None,
         "'nope' is not a dataset asset"),
        ({"location": "models/fraud.joblib"},
         {"id": "holdout", "kind": "dataset", "location": "data/holdout.csv"},
         "declares no `label:` column"),
        ({"location": "models/fraud.joblib"},
         {"id": "holdout", "kind": "dataset", "location": "data/*.csv", "label": "y"},
         "matches 2 paths"),
        ({"location": "models/fraud.joblib"},
         {"id": "holdout", "kind": "dataset", "location": "data/holdout.csv", "label": "z"},
         "not evaluated: data/holdout.csv: no label column 'z'"),
    ],
)  # fmt: skip
def test_what_cannot_be_evaluated_is_an_error(
    root: Path, model: dict[str, Any], dataset: dict[str, Any] | None, message: str
) -> None:
    given = {"trusted": True, "evaluation": policy(), **model}
    evidence = run(root, given, dataset)
    assert evidence.result == "error"
    assert message in evidence.summary

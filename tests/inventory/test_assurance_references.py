"""A model's `robustness.data` / `evaluation.data` must name a dataset asset with a label
column, and only model assets take `trusted`, `robustness` and `evaluation`: refused at load
with the field named, never at scan time."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from custos.catalog.catalog import Catalog
from custos.inventory.references import reference_problems
from custos.inventory.schema import Manifest


def manifest(data: str, label: str | None = "y", kind: str = "dataset") -> Manifest:
    holdout: dict[str, Any] = {"id": "holdout", "kind": kind, "location": "data/h.csv"}
    if label is not None and kind == "dataset":
        holdout["label"] = label
    model = {"id": "m", "kind": "model", "location": "m.joblib", "trusted": True,
             "evaluation": {"data": data, "minimums": {"accuracy": 0.8}},
             "robustness": {"data": data, "eps": [0.1], "min_robust_accuracy": 0.5}}  # fmt: skip
    return Manifest.model_validate({
        "organisation": {"name": "A", "scope": "AI"},
        "systems": [{"id": "s", "name": "S", "purpose": "p", "lifecycle": "production",
                     "eu_ai_act": {"role": "provider", "tier": "minimal"},
                     "assets": [model, holdout]}],
    })  # fmt: skip


def test_the_data_must_be_a_labelled_dataset(shipped: Catalog) -> None:
    assert list(reference_problems(manifest("holdout"), shipped)) == []
    missing = list(reference_problems(manifest("nope"), shipped))
    assert [w[-2:] for w, _ in missing] == [["robustness", "data"], ["evaluation", "data"]]
    assert "not a dataset asset" in missing[0][1]
    unlabelled = list(reference_problems(manifest("holdout", label=None), shipped))
    assert all("no `label:`" in why for _, why in unlabelled)
    assert len(unlabelled) == 2
    not_data = list(reference_problems(manifest("holdout", kind="endpoint"), shipped))
    assert len(not_data) == 2


def test_only_models_are_trusted_or_measured() -> None:
    with pytest.raises(ValidationError, match="only model assets"):
        Manifest.model_validate({
            "organisation": {"name": "A", "scope": "AI"},
            "systems": [{"id": "s", "name": "S", "purpose": "p", "lifecycle": "production",
                         "eu_ai_act": {"role": "provider", "tier": "minimal"},
                         "assets": [{"id": "d", "kind": "dataset", "location": "d.csv",
                                     "trusted": True}]}],
        })  # fmt: skip

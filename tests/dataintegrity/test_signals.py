"""Each signal on generated labelled data with planted problems (tests/dataintegrity/planted.py),
for recall and precision, and on clean data for false positives: label flips found by confident
learning, a backdoor trigger (a rare exact value, a new category, a narrow range), outliers;
and nothing flagged on clean data, including a capped value at the end of an informative
feature and an informative category, over several seeds."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification

from custos.dataintegrity.features import for_model
from custos.dataintegrity.model import IntegrityReport
from custos.dataintegrity.scan import examine
from custos.dataintegrity.table import load
from custos.dataintegrity.triggers import triggers
from tests.dataintegrity.planted import (
    TRIGGER_CATEGORY,
    TRIGGER_FEATURE,
    TRIGGER_LABEL,
    TRIGGER_RANGE,
    Planted,
    write,
)


def _recall(found: set[int], planted: set[int]) -> float:
    return len(found & planted) / len(planted)


def _precision(found: set[int], planted: set[int]) -> float:
    return len(found & planted) / len(found) if found else 1.0


@pytest.fixture(scope="module", params=[1, 2])
def planted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Planted, IntegrityReport]:
    seed: int = request.param
    data = write(tmp_path_factory.mktemp("planted") / "train.csv", 3000, seed)
    report, _ = examine([data.path], "label")
    return data, report


def test_label_flips_found_by_confident_learning(planted: tuple[Planted, IntegrityReport]) -> None:
    data, report = planted
    found = set(report.label_issues.rows)
    assert _recall(found, data.flips) >= 0.9
    assert _precision(found, data.flips) >= 0.6  # the rest: rows near the class boundaries
    model = report.label_issues.model
    assert model.folds == 5
    assert model.name.startswith("HistGradientBoostingClassifier")
    assert model.rows == data.rows
    assert model.skipped is None


def test_trigger_found_with_its_rows(planted: tuple[Planted, IntegrityReport]) -> None:
    data, report = planted
    (trigger,) = report.triggers.found
    assert (trigger.feature, trigger.label) == (TRIGGER_FEATURE, TRIGGER_LABEL)
    assert _recall(set(trigger.rows), data.trigger) >= 0.9
    assert trigger.purity == 1.0
    assert trigger.explained < 0.5  # the other features do not explain it: drawn from all classes


def test_outliers_and_duplicates(planted: tuple[Planted, IntegrityReport]) -> None:
    data, report = planted
    found = set(report.outliers.rows)
    assert _recall(found, data.outliers) >= 0.9
    assert _precision(found, data.outliers) >= 0.8  # the rest: the clean data's extreme rows
    assert {r for r, _ in report.duplicates.exact} == data.exact
    assert {r for r, _ in report.duplicates.near} == data.near
    assert report.duplicates.conflicting == ()
    rules = {f.rule for f in report.findings}
    assert {"data-integrity/trigger-candidate", "data-integrity/duplicates"} <= rules
    assert rules <= {  # 1% planted outliers are at the 1% threshold
        "data-integrity/trigger-candidate", "data-integrity/duplicates", "data-integrity/outliers",
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["category", "range"])
def test_other_trigger_kinds(kind: str, tmp_path: Path) -> None:
    data = write(tmp_path / "train.csv", 3000, 5, trigger_kind=kind)
    table = load([data.path], "label")
    found = triggers(table, *for_model(table)).found
    assert len(found) == 1
    (trigger,) = found
    assert trigger.label == TRIGGER_LABEL
    assert _recall(set(trigger.rows), data.trigger) >= 0.9
    if kind == "category":
        assert (trigger.feature, trigger.value) == ("city", TRIGGER_CATEGORY)
    else:
        assert trigger.feature == TRIGGER_FEATURE
        assert isinstance(trigger.value, tuple)
        low, high = trigger.value
        assert low <= TRIGGER_RANGE[0] + 0.01
        assert high >= TRIGGER_RANGE[1] - 0.01


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15, 16])
def test_no_trigger_on_clean_data(seed: int, tmp_path: Path) -> None:
    data = write(tmp_path / "clean.csv", 3000, seed, clean=True)
    table = load([data.path], "label")
    result = triggers(table, *for_model(table))
    assert result.found == ()
    assert result.candidates >= 30  # the 30 cities were tested


def _realistic(path: Path, n: int, seed: int) -> Path:
    """Clean data that tempts a trigger detector: an age capped at 90 (a point mass at the end
    of an informative feature), amounts with two decimals, an informative category of 25
    values, a grade, imbalanced classes and 2% label noise."""
    x, y = make_classification(
        n_samples=n, n_features=6, n_informative=4, n_redundant=1, weights=[0.85, 0.15],
        class_sep=1.0, flip_y=0.02, random_state=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow([f"x{i}" for i in range(6)] + ["age", "amount", "bucket", "grade", "label"])
        for i in range(n):
            age = int(np.clip(45 + 12 * x[i, 0] + rng.normal(0, 4), 18, 90))
            amount = round(float(np.exp(3 + 0.5 * x[i, 1] + rng.normal(0, 0.5))), 2)
            bucket = f"b{int(np.clip((x[i, 2] + 4) * 3, 0, 24))}"
            grade = "ABCDE"[int(np.clip(x[i, 3] + 2.5, 0, 4))]
            out.writerow([f"{v:.3f}" for v in x[i]] + [age, amount, bucket, grade, y[i]])
    return path


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_capped_values_and_informative_categories_are_no_triggers(
    seed: int, tmp_path: Path
) -> None:
    table = load([_realistic(tmp_path / "loans.csv", 6000, seed)], "label")
    assert triggers(table, *for_model(table)).found == ()


def test_clean_data_has_nothing_to_review(tmp_path: Path) -> None:
    data = write(tmp_path / "clean.csv", 3000, 31, clean=True)
    report, _ = examine([data.path], "label")
    assert report.findings == ()
    assert report.triggers.found == ()
    assert report.outliers.rows == ()
    assert report.label_issues.share < 0.01

"""Detection quality of custos.assurance.evaluation on generated labelled data: permutation
importance finds the planted feature and ranks noise low; a planted subgroup gap is measured
within tolerance and flagged, a balanced model is not; minimums pass and fail as they should;
labels of any type, the model's feature_names_in_, ONNX models; bad input is one line."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier  # type: ignore[import-untyped]

from custos.assurance.evaluation import Policy
from custos.assurance.evaluation_card import card_fields
from custos.assurance.evaluation_model import canonical
from custos.assurance.evaluation_report import EvaluationReport, evaluate
from custos.assurance.model_cards import SECTIONS
from custos.assurance.tabular import read_columns
from custos.errors import UserError
from tests.assurance.test_evaluation_planted import (
    FEATURES,
    NOISE,
    classifier,
    features,
    planted,
    regressor,
    write_csv,
)


def run(
    model: Path, data: Path, label: str = "y", subgroups: tuple[str, ...] = (), **policy: Any
) -> EvaluationReport:
    return evaluate(model, data, label, trusted=True, subgroups=subgroups,
                    policy=Policy(**policy), card=None, expected_card="model.md",
                    fields=card_fields(SECTIONS))  # fmt: skip


def rules(report: EvaluationReport) -> list[str]:
    return [f.rule for f in report.findings if f.rule != "evaluation/card-missing"]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return classifier(tmp_path_factory.mktemp("model") / "model.joblib")


def test_permutation_importance_finds_the_planted_feature(tmp_path: Path) -> None:
    train = planted(3000, 1)
    forest = RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0, n_jobs=1)
    joblib.dump(forest.fit(features(train), train["y"]), tmp_path / "forest.joblib")
    data = write_csv(tmp_path / "holdout.csv", planted(1500, 2))
    report = run(tmp_path / "forest.joblib", data, subgroups=("region",))
    ranked = report.measured.explanation.features
    assert ranked[0].feature == "signal"
    assert ranked[0].share > 0.75
    for f in ranked:
        if f.feature in NOISE:
            assert f.share < 0.05, f
    top = [f.feature for f in report.measured.explanation.top()]
    assert top[0] == "signal"
    assert not set(top) & set(NOISE)
    assert report.measured.explanation.repeats == 5
    assert report.measured.explanation.seed == 0


def test_a_planted_subgroup_gap_is_measured_and_flagged(model: Path, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "holdout.csv", planted(3000, 2, flip_south=0.3, small=12))
    report = run(model, data, subgroups=("region",), max_gap=0.1)
    (sub,) = report.measured.subgroups
    groups = {g.value: g for g in sub.groups}
    assert sub.gap is not None
    assert abs(sub.gap - 0.3) < 0.05
    assert groups["north"].metric is not None
    assert groups["north"].metric > 0.95
    assert groups["islands"].rows == 12
    assert not groups["islands"].judged  # reported, not judged
    assert not sub.feature
    assert "evaluation/fairness-gap" in rules(report)
    assert "'north'" in next(f.message for f in report.findings if "fairness" in f.rule)


def test_a_balanced_model_has_no_gap(model: Path, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "holdout.csv", planted(3000, 2))
    report = run(model, data, subgroups=("region",), max_gap=0.05)
    gap = report.measured.subgroups[0].gap
    assert gap is not None
    assert gap < 0.03
    assert rules(report) == []


def test_fewer_than_two_judged_groups_cannot_be_judged(model: Path, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "holdout.csv", planted(200, 2))
    report = run(model, data, subgroups=("region",), max_gap=0.05, min_group_size=150)
    assert report.measured.subgroups[0].gap is None
    assert rules(report) == ["evaluation/fairness-unjudged"]


@pytest.mark.parametrize(("minimum", "fails"), [(0.9, True), (0.8, False)])
def test_accuracy_minimum(model: Path, tmp_path: Path, minimum: float, fails: bool) -> None:
    data = write_csv(tmp_path / "holdout.csv", planted(2000, 2, noise=0.15))
    report = run(model, data, subgroups=("region",),
                 minimums={"accuracy": minimum, "f1": 0.5, "auc": 0.5})  # fmt: skip
    accuracy = report.measured.metrics["accuracy"]
    assert accuracy is not None
    assert 0.8 < accuracy < 0.9
    assert rules(report) == (["evaluation/below-minimum"] if fails else [])


def test_regression_rmse_and_r2(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(800, 3))
    y = 3 * x[:, 0] + rng.normal(0, 0.5, 800)
    data = write_csv(tmp_path / "holdout.csv", {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "t": y})
    report = run(regressor(tmp_path / "reg.joblib"), data, "t", max_rmse=0.4,
                 minimums={"r2": 0.9, "accuracy": 0.5})  # fmt: skip
    m = report.measured
    assert m.task == "regression"
    assert m.metrics["rmse"] == pytest.approx(0.5, abs=0.06)
    assert m.metrics["r2"] is not None
    assert m.metrics["r2"] > 0.95
    assert m.explanation.features[0].feature == "a"
    assert sorted(rules(report)) == ["evaluation/above-maximum", "evaluation/metric-unavailable"]


def test_string_labels_multiclass_auc_and_feature_names_in(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"height": rng.normal(size=900), "segment": rng.integers(0, 2, 900),
                          "width": rng.normal(size=900)})  # fmt: skip
    animal = np.select([frame.height > 0.5, frame.height < -0.5], ["cat", "dog"], "eel")
    forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(frame, animal)
    # pickle, not joblib: the model-file scanner refuses joblib's layout of the object array
    # feature_names_in_ (a DataFrame-fitted model); plain pickle passes
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(forest))
    # other column order, a text column the model never saw, a subgroup that is a feature
    rows = {"note": ["x"] * 900, "width": frame.width, "animal": animal, "height": frame.height,
            "segment": frame.segment}  # fmt: skip
    data = write_csv(tmp_path / "holdout.csv", rows)
    report = run(tmp_path / "m.pkl", data, "animal", subgroups=("note", "segment"))
    assert report.feature_source == "model"
    assert report.features == ("height", "segment", "width")
    note, segment = report.measured.subgroups
    assert (note.feature, segment.feature) == (False, True)
    assert {g.value for g in segment.groups} == {"0", "1"}
    assert report.measured.classes == ("cat", "dog", "eel")
    auc = report.measured.metrics["auc"]
    assert auc is not None
    assert auc > 0.95
    assert report.measured.explanation.features[0].feature == "height"


def test_an_onnx_classifier(model: Path, tmp_path: Path) -> None:
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    onx = skl2onnx.convert_sklearn(joblib.load(model),
                                   initial_types=[("x", FloatTensorType([None, 5]))])  # fmt: skip
    (tmp_path / "model.onnx").write_bytes(onx.SerializeToString())
    data = write_csv(tmp_path / "holdout.csv", planted(1000, 2, flip_south=0.3))
    report = run(tmp_path / "model.onnx", data, subgroups=("region",))
    assert report.model_format == "onnx"
    assert report.measured.task == "classification"
    assert report.measured.metrics["auc"] is not None
    assert report.measured.explanation.features[0].feature == "signal"
    assert "onnxruntime" in report.libraries


def test_labels_compare_as_canonical_text() -> None:
    assert list(canonical(np.array([1.0, 2.0, 2.5]))) == ["1", "2", "2.5"]
    assert list(canonical(np.array(["1.0", " 2", "cat"], dtype=object))) == ["1", "2", "cat"]
    assert list(canonical(np.array([True, False]))) == ["True", "False"]


def test_parquet(model: Path, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    data = planted(300, 2)
    table = pa.table({k: list(v) for k, v in data.items()})
    pq.write_table(table, tmp_path / "holdout.parquet")
    report = run(model, tmp_path / "holdout.parquet", subgroups=("region",))
    assert report.measured.rows == 300
    assert report.features == FEATURES


@pytest.mark.parametrize(
    ("text", "label", "subgroups", "message"),
    [
        ("a,b\n1,2\n", "y", (), "no label column 'y'"),
        ("a,y\n1,2\n", "y", ("g",), "no subgroup column 'g'"),
        ("a,y\nred,1\n", "y", (), "column 'a' is not numeric (line 2: 'red')"),
        ("a,y\n1,1\n2\n", "y", (), "line 3 has 1 fields, the header 2"),
        ("a,y\n1,\n", "y", (), "1 row(s) have no label 'y' (first: line 2)"),
        ("", "y", (), "no header row"),
        ("a,y\n", "y", (), "no data rows"),
        ("a,a,y\n1,1,1\n", "y", (), "column 'a' appears twice"),
    ],
)
def test_bad_data_is_one_line_naming_the_file(
    model: Path, tmp_path: Path, text: str, label: str, subgroups: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as raised:
        run(model, path, label, subgroups)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_files_that_are_not_tables(model: Path, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a,y\n\xe9t\xe9,1\n".encode("latin-1"))
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    for path, message in [(latin, "not UTF-8"), (tmp_path / "data.xlsx", ".csv, .tsv or"),
                          (tmp_path / "none.csv", "no such data file")]:  # fmt: skip
        with pytest.raises(UserError, match=message):
            read_columns(path)


def test_the_model_and_the_file_must_agree(model: Path, tmp_path: Path) -> None:
    data = planted(100, 2)
    data.pop("noise_c")
    path = write_csv(tmp_path / "holdout.csv", data)
    with pytest.raises(UserError, match="the model takes 5 features, the file has 4"):
        run(model, path, subgroups=("region",))
    with pytest.raises(UserError, match="column 'region' is not numeric"):
        run(model, write_csv(tmp_path / "h2.csv", planted(100, 2)))  # region is not declared


def test_numeric_classes_keep_the_models_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=(900, 2))
    y = np.select([x[:, 0] > 0.5, x[:, 0] < -0.5], [10, 2], 30)  # "10" sorts before "2" as text
    joblib.dump(RandomForestClassifier(n_estimators=10, random_state=0).fit(x, y),
                tmp_path / "m.joblib")  # fmt: skip
    data = write_csv(tmp_path / "holdout.csv", {"a": x[:, 0], "b": x[:, 1], "y": y})
    report = run(tmp_path / "m.joblib", data)
    assert report.measured.classes == ("2", "10", "30")
    assert report.measured.notes == ()
    auc = report.measured.metrics["auc"]
    assert auc is not None
    assert auc > 0.95


def test_missing_values_the_model_cannot_take_are_one_line(model: Path, tmp_path: Path) -> None:
    data = planted(100, 2)
    signal = data["signal"].astype(object)
    signal[5] = "NA"
    path = write_csv(tmp_path / "holdout.csv", {**data, "signal": signal})
    with pytest.raises(UserError) as raised:
        run(model, path, subgroups=("region",))
    assert str(raised.value).startswith(f"{model}: the model failed to predict on {path}: ")
    assert "\n" not in str(raised.value)

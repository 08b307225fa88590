"""`custos robustness` and the `robustness` check on real models trained here: a fragile
pipeline (a scaler over features a thousand times smaller than the budget) fails its threshold
under white-box FGSM/PGD and a well-separated logistic regression passes; an ONNX model goes
through black-box HopSkipJump, seeded; an untrusted pickle is refused and never unpickled (its
side effect does not happen); bad data and out-of-range settings exit 2 with one line; the JSON
keeps its documented fields; the check reads its policy, data asset and trust from custos.yaml."""

from __future__ import annotations

import csv
import datetime as dt
import json
import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import typer

from custos.assurance.robustness import CONTROLS, RULE, Settings, run
from custos.catalog.catalog import Catalog
from custos.checks.base import CheckContext, Target
from custos.checks.model import Evidence
from custos.checks.registry import run_check
from custos.checks.robustness import UNTRUSTED, Robustness
from custos.cli.entry import guarded
from custos.cli.robustness import robustness_cmd
from custos.errors import UserError
from custos.findings import Severity
from custos.inventory.schema import Manifest

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
FEATURES = ["amount", "age", "velocity", "score"]
JSON_FIELDS = {
    "model", "data", "method", "why", "norm", "points", "iterations", "seed", "clean_accuracy",
    "eps_source", "attacks", "budgets", "distances", "vanished_gradients",
    "min_robust_accuracy", "passed",
    "findings", "versions", "seconds",
}  # fmt: skip


def write_csv(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow([*FEATURES, "label"])
        out.writerows([*(f"{v:.9g}" for v in row), label] for row, label in zip(x, y, strict=True))
    return path


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two well-separated classes; the same rows a thousand times smaller; three models."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

    root = tmp_path_factory.mktemp("robustness")
    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 4))
    fraud = x[:, 0] + x[:, 1] > 0
    x[:, 0] += np.where(fraud, 2.0, -2.0)
    y = np.where(fraud, "fraud", "ok")
    write_csv(root / "data" / "train.csv", x, y)
    write_csv(root / "data" / "tiny.csv", x * 1e-3, y)
    (root / "models").mkdir()
    robust = LogisticRegression(C=0.1).fit(x, y)
    joblib.dump(robust, root / "models" / "robust.joblib")
    fragile = make_pipeline(StandardScaler(), LogisticRegression(C=100)).fit(x * 1e-3, y)
    joblib.dump(fragile, root / "models" / "fragile.joblib")
    onnx = to_onnx(robust, x[:1].astype(np.float32), target_opset=17)
    (root / "models" / "robust.onnx").write_bytes(onnx.SerializeToString())
    return root


def attack(root: Path, model: str, data: str, **given: Any) -> Any:
    settings = Settings(**{"eps": (0.05, 0.2), "min_robust_accuracy": 0.8, **given})
    return run(root / "models" / model, root / "data" / data, "label", settings, trusted=True)


def test_a_fragile_pipeline_fails_and_a_robust_model_passes(project: Path) -> None:
    fragile = attack(project, "fragile.joblib", "tiny.csv", n=40)
    assert fragile.method == "white-box"
    assert "LogisticRegression" in fragile.why  # the scaler folded into ART's preprocessing
    assert fragile.model["estimator"] == "Pipeline(StandardScaler, LogisticRegression)"
    assert fragile.clean_accuracy > 0.9
    assert [b.robust_accuracy for b in fragile.budgets] == [0.0, 0.0]
    # its probabilities saturate, so the loss gradient vanishes on most points (FGSM and PGD
    # cannot move them): HopSkipJump attacks those, and masking is not taken for robustness
    assert fragile.vanished is not None
    assert fragile.vanished > 0
    assert [a.name for a in fragile.attacks][-1] == "HopSkipJump"
    assert fragile.budgets[0].by_attack["FastGradientMethod"] > 0.0
    assert fragile.budgets[0].by_attack["HopSkipJump"] == 0.0
    assert [f.rule for f in fragile.findings] == [RULE, RULE]
    assert {f.severity for f in fragile.findings} == {Severity.high}
    assert fragile.findings[0].controls == CONTROLS
    assert "at eps 0.05" in fragile.findings[0].message
    assert fragile.passed is False

    robust = attack(project, "robust.joblib", "train.csv")
    assert robust.method == "white-box"
    assert [a.name for a in robust.attacks] == ["FastGradientMethod", "ProjectedGradientDescent"]
    assert all(b.robust_accuracy >= 0.8 for b in robust.budgets), robust.budgets
    assert robust.budgets[0].robust_accuracy >= robust.budgets[1].robust_accuracy
    assert robust.passed is True
    assert not robust.findings
    assert robust.vanished == 0
    assert robust.distances is None
    assert robust.points == 100
    assert robust.iterations == 20
    assert robust.seed == 0
    assert robust.data["classes"] == ["fraud", "ok"]
    assert robust.versions["adversarial-robustness-toolbox"]
    assert "scikit-learn" in robust.versions
    assert "numpy" in robust.versions
    assert robust.model["scanner"].startswith("model-file scanner:")


def test_onnx_goes_black_box_with_hopskipjump_and_is_seeded(project: Path) -> None:
    first = attack(project, "robust.onnx", "train.csv", n=8, iterations=4)
    assert first.method == "black-box"
    assert first.model["format"] == "onnx"
    assert [a.name for a in first.attacks] == ["HopSkipJump"]
    assert first.attacks[0].parameters["max_iter"] == 4
    assert first.points == 8
    distances = first.distances
    assert distances is not None
    assert distances["found"] >= 1
    # a minimum-perturbation attack: the share robust only falls as the budget grows
    assert first.budgets[0].robust_accuracy >= first.budgets[1].robust_accuracy
    assert first.versions["onnxruntime"]
    again = attack(project, "robust.onnx", "train.csv", n=8, iterations=4)
    assert again.distances == first.distances
    assert again.budgets == first.budgets


def test_an_untrusted_model_is_never_loaded(tmp_path: Path, project: Path) -> None:
    marker = tmp_path / "unpickled"

    class Gadget:
        def __reduce__(self) -> tuple[Any, tuple[str, str]]:
            return (open, (str(marker), "w"))

    evil = tmp_path / "model.joblib"
    evil.write_bytes(pickle.dumps(Gadget()))
    data = project / "data" / "train.csv"
    with pytest.raises(UserError, match="not marked trusted"):
        run(evil, data, "label", Settings(), trusted=False)
    assert not marker.exists()
    # even when vouched for, the model-file scanner refuses it before anything is loaded
    with pytest.raises(UserError, match="model-file scanner refused it"):
        run(evil, data, "label", Settings(), trusted=True)
    assert not marker.exists()


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, list[str]]:
    """The command under custos.cli.entry.guarded, as the console script runs it."""
    app = typer.Typer(pretty_exceptions_enable=False)
    app.command()(robustness_cmd)

    def command() -> int:
        code = app(args=args, prog_name="custos robustness", standalone_mode=False)
        return code if isinstance(code, int) else 0

    with pytest.raises(SystemExit) as exited:
        guarded(command, debug=False)
    captured = capsys.readouterr()
    assert isinstance(exited.value.code, int)
    return exited.value.code, captured.out, captured.err.strip().splitlines()


def test_cli_json_is_the_documented_contract(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    model, data = project / "models" / "fragile.joblib", project / "data" / "tiny.csv"
    args = [str(model), "--data", str(data), "--label", "label", "--eps", "0.05", "--trusted",
            "--min-robust-accuracy", "0.5", "--format", "json", "--n", "40"]  # fmt: skip
    code, out, err = cli(args, capsys)
    assert code == 1, err
    doc = json.loads(out)
    assert set(doc) == JSON_FIELDS
    assert doc["passed"] is False
    assert doc["points"] == 40
    assert doc["norm"] == "inf"
    (budget,) = doc["budgets"]
    assert budget["eps"] == 0.05
    assert budget["robust_accuracy"] == 0.0
    assert budget["passed"] is False
    assert set(budget["by_attack"]) == {"FastGradientMethod", "ProjectedGradientDescent",
                                        "HopSkipJump"}  # fmt: skip
    assert set(doc["model"]) == {"path", "sha256", "format", "estimator", "scanner"}
    assert set(doc["data"]) == {"path", "sha256", "format", "rows", "label", "features",
                                "unused_columns", "classes"}  # fmt: skip
    assert doc["data"]["rows"] == 300
    assert doc["data"]["features"] == FEATURES
    assert len(doc["model"]["sha256"]) == 64
    assert doc["attacks"][1]["parameters"]["max_iter"] == 20
    assert doc["findings"][0]["rule"] == RULE
    assert doc["vanished_gradients"] == doc["distances"]["attacked"] > 0
    assert doc["eps_source"] == "given"

    assert doc["versions"]["adversarial-robustness-toolbox"]

    # the table, no threshold: exit 0
    args = [str(project / "models" / "robust.joblib"), "--data",
            str(project / "data" / "train.csv"), "--label", "label", "--trusted", "--eps",
            "0.05,0.2"]  # fmt: skip
    code, out, _ = cli(args, capsys)
    assert code == 0
    for words in ("robust accuracy", "FastGradientMethod", "0.2", "clean accuracy"):
        assert words in out


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        ("amount,age,velocity,score\n1,2,3,4\n", [], "no label column 'label'"),
        ("amount,age,velocity,score,label\n1,x,3,4,ok\n", [],
         "feature column 'age' is not numeric ('x' on line 2)"),
        ("amount,age,velocity,score,label\n1,2,3,4,ok\n", ["--n", "0"], "--n 0: give 1 to"),
        ("amount,age,velocity,score,label\n1,2,3,4,ok\n", ["--eps", "0.1,big"], "--eps 0.1,big"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    rows: str,
    extra: list[str],
    message: str,
) -> None:
    data = tmp_path / "bad.csv"
    data.write_text(rows)
    model = project / "models" / "robust.joblib"
    code, out, err = cli([str(model), "--data", str(data), "--label", "label", "--trusted",
                          *extra], capsys)  # fmt: skip
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith("error: "), err
    assert message in err[0], err
    assert "Traceback" not in out


def test_untrusted_on_the_command_line_exits_2(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, data = project / "models" / "robust.joblib", project / "data" / "train.csv"
    code, _, err = cli([str(model), "--data", str(data), "--label", "label"], capsys)
    assert code == 2
    assert len(err) == 1
    assert "not marked trusted" in err[0]


def manifest(model: dict[str, Any], data: str) -> Manifest:
    dataset = {"id": "train", "kind": "dataset", "location": data, "label": "label"}
    return Manifest.model_validate({
        "organisation": {"name": "Acme", "scope": "Fraud"},
        "systems": [{"id": "scorer", "name": "Scorer", "purpose": "Scores payments",
                     "lifecycle": "production", "eu_ai_act": {"role": "provider", "tier": "high"},
                     "assets": [{"id": "scorer-model", "kind": "model", **model}, dataset]}],
    })  # fmt: skip


def check(root: Path, model: dict[str, Any], data: str = "data/train.csv") -> Evidence:
    m = manifest(model, data)
    system = m.systems[0]
    return run_check(Robustness(), Target(system, system.assets[0]), CheckContext(m, root, NOW))


POLICY = {"data": "train", "eps": [0.05, 0.2], "min_robust_accuracy": 0.8}


def test_check_passes_and_fails_with_the_evidence(project: Path, shipped: Catalog) -> None:
    for control in Robustness.evidences:
        assert control in shipped.controls, control
    assert Robustness.evidences == CONTROLS
    listed = {c.id for c in shipped.framework_controls("custos-ai")
              if c.verification and "robustness" in c.verification.checks}  # fmt: skip
    assert listed == {"custos:ai:adversarial-robustness"}
    passed = check(project, {"location": "models/robust.joblib", "trusted": True,
                             "robustness": POLICY})  # fmt: skip
    assert passed.result == "pass", passed.summary
    assert passed.controls == CONTROLS
    assert [e.location for e in passed.examined] == ["models/robust.joblib", "data/train.csv"]
    assert all(e.sha256 and len(e.sha256) == 64 for e in passed.examined)
    for words in ("white-box", "FastGradientMethod", "ProjectedGradientDescent", "max_iter=20",
                  "at eps 0.05", "required 80.0%", "model-file scanner",
                  "adversarial-robustness-toolbox 1.", "scikit-learn 1."):  # fmt: skip
        assert words in passed.summary, words

    failed = check(project, {"location": "models/fragile.joblib", "trusted": True,
                             "robustness": POLICY}, "data/tiny.csv")  # fmt: skip
    assert failed.result == "fail", failed.summary
    assert [(f.rule, f.severity, f.location) for f in failed.findings] == [
        (RULE, Severity.high, "models/fragile.joblib")
    ] * 2


def test_check_refuses_untrusted_models_and_skips_without_a_policy(
    tmp_path: Path, project: Path
) -> None:
    marker = tmp_path / "unpickled"

    class Gadget:
        def __reduce__(self) -> tuple[Any, tuple[str, str]]:
            return (open, (str(marker), "w"))

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model.joblib").write_bytes(pickle.dumps(Gadget()))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_bytes((project / "data" / "train.csv").read_bytes())
    untrusted = check(tmp_path, {"location": "models/model.joblib", "robustness": POLICY})
    assert (untrusted.result, untrusted.summary) == ("error", UNTRUSTED)
    assert not marker.exists()
    refused = check(tmp_path, {"location": "models/model.joblib", "trusted": True,
                               "robustness": POLICY})  # fmt: skip
    assert refused.result == "error"
    assert refused.summary.startswith("models/model.joblib: the model-file scanner refused it")
    assert not marker.exists()

    skipped = check(project, {"location": "models/robust.joblib", "trusted": True})
    assert skipped.result == "not_applicable"
    assert "robustness:" in skipped.summary
    elsewhere = check(project, {"location": "models/robust.joblib", "trusted": True,
                                "robustness": {**POLICY, "data": "holdout"}})  # fmt: skip
    assert elsewhere.result == "error"
    assert "'holdout' is not a dataset asset" in elsewhere.summary

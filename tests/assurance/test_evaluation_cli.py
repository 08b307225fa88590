"""`custos evaluate` (custos.cli.evaluate) on a small typer app: the JSON contract, exit codes,
the card snippet, an untrusted model refused without being loaded, bad input as one line and
exit 2 through the console script's error handling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from custos.assurance import evaluation_extra
from custos.cli.entry import guarded
from custos.cli.evaluate import evaluate_cmd
from tests.assurance.test_evaluation_planted import (
    card,
    classifier,
    evil_pickle,
    planted,
    write_csv,
)

CONTRACT = {"version", "model", "data", "criteria", "main_metric", "metrics", "notes",
            "classes", "subgroups", "importance", "top_features", "card", "card_snippet",
            "findings"}  # fmt: skip


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the command as `custos evaluate ...` would: errors through entry.guarded."""
    app = typer.Typer()
    app.command()(evaluate_cmd)

    def run() -> int:
        code = app(args=args, standalone_mode=False)
        return code if isinstance(code, int) else 0

    with pytest.raises(SystemExit) as exited:
        guarded(run, debug=False)
    out, err = capsys.readouterr()
    code = exited.value.code
    return code if isinstance(code, int) else 0, out, err


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    classifier(root / "model.joblib")
    write_csv(root / "holdout.csv", planted(1500, 2, flip_south=0.3))
    card(root / "model.md", "- `signal`\n- `weak`\n")
    return root


def test_json_contract_and_findings_exit_1(project: Path, capsys: Any) -> None:
    args = [str(project / "model.joblib"), "--data", str(project / "holdout.csv"), "--label",
            "y", "--trusted", "--subgroup", "region", "--min", "accuracy=0.5", "--max-gap",
            "0.1", "--format", "json"]  # fmt: skip
    code, out, _ = cli(args, capsys)
    assert code == 1
    document = json.loads(out)
    assert set(document) == CONTRACT
    assert document["version"] == 1
    assert document["model"]["task"] == "classification"
    assert len(document["model"]["sha256"]) == 64
    assert document["data"]["feature_source"] == "columns"
    assert document["data"]["features"] == ["signal", "weak", "noise_a", "noise_b", "noise_c"]
    assert set(document["metrics"]) == {"accuracy", "f1", "auc"}
    assert document["criteria"]["minimums"] == {"accuracy": 0.5}
    (region,) = document["subgroups"]
    assert region["column"] == "region"
    assert {"value", "rows", "metric", "judged"} == set(region["groups"][0])
    assert document["top_features"][0]["feature"] == "signal"
    assert document["card"]["decisive_section"] == "Decisive features"
    assert document["card"]["missing_fields"] == []
    assert "| Accuracy |" in document["card_snippet"]
    assert [f["rule"] for f in document["findings"]] == ["evaluation/fairness-gap"]


def test_table_and_exit_0(project: Path, capsys: Any) -> None:
    code, out, _ = cli([str(project / "model.joblib"), "--data", str(project / "holdout.csv"),
                        "--label", "y", "--trusted", "--subgroup", "region"], capsys)  # fmt: skip
    assert code == 0
    assert "Permutation importance" in out
    assert "signal" in out
    assert "no findings" in out


def test_card_snippet_is_markdown_only(project: Path, capsys: Any) -> None:
    code, out, _ = cli([str(project / "model.joblib"), "--data", str(project / "holdout.csv"),
                        "--label", "y", "--trusted", "--subgroup", "region",
                        "--card-snippet"], capsys)  # fmt: skip
    assert code == 0
    assert out.startswith("<!-- measured by custos evaluate")
    assert "| Metric | Value | Required |" in out


def test_an_untrusted_model_is_refused_without_being_loaded(
    project: Path, tmp_path: Path, capsys: Any
) -> None:
    marker = tmp_path / "MARKER"
    model = evil_pickle(tmp_path / "model.pkl", marker)
    data = str(project / "holdout.csv")
    code, out, err = cli([str(model), "--data", data, "--label", "y", "--subgroup", "region"],
                         capsys)  # fmt: skip
    assert code == 2
    assert "not marked trusted" in err
    assert not marker.exists()
    # trusted, but the model-file scanner refuses it first
    code, _, err = cli([str(model), "--data", data, "--label", "y", "--subgroup", "region",
                        "--trusted"], capsys)  # fmt: skip
    assert code == 2
    assert "model-file scanner refused it" in err
    assert not marker.exists()
    assert out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "{root}/none.csv"], "none.csv: no such data file"),
        (["--data", "{root}/holdout.csv", "--min", "precision=0.9"], "--min precision=0.9: give"),
        (["--data", "{root}/holdout.csv", "--min", "accuracy=2"], "from 0 to 1"),
        (["--data", "{root}/holdout.csv", "--card", "{root}/none.md"], "no such model card"),
        (["--data", "{root}/holdout.csv", "--card-snippet", "-f", "json"], "choose one"),
        (["--data", "{root}/holdout.csv"], "column 'region' is not numeric"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    project: Path, capsys: Any, args: list[str], message: str
) -> None:
    given = [a.format(root=project) for a in args]
    code, out, err = cli([str(project / "model.joblib"), "--label", "y", "--trusted", *given],
                         capsys)  # fmt: skip
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_the_command_and_the_check_import_no_numpy_until_they_run() -> None:
    assert evaluation_extra.available()
    code = ("import sys, custos.cli.evaluate, custos.checks.evaluation; "
            "print(sorted({'numpy', 'sklearn'} & set(sys.modules)))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout.strip() == "[]"

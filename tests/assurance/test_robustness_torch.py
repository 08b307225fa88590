"""PyTorch models in `custos robustness` and the `robustness` check: a state dict plus a declared
architecture entry point (module:callable, the organisation's code, imported from the project
directory). Tiny MLPs are trained here on generated tables: a well-separated one keeps its
accuracy under white-box FGSM/PGD through ART's PyTorchClassifier, and one over features a
thousand times smaller than the budget falls below its threshold (a finding). Without --trusted
the architecture module is never imported (its import-time side effect does not happen); a
whole pickled module, weights that do not fit, and a bad entry point are one-line errors, exit 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer

torch = pytest.importorskip("torch", reason="PyTorch models need torch: custos[torch]")

from custos.assurance.robustness import RULE, Settings, run  # noqa: E402
from custos.checks.base import CheckContext, Target  # noqa: E402
from custos.checks.model import Evidence  # noqa: E402
from custos.checks.registry import run_check  # noqa: E402
from custos.checks.robustness import UNTRUSTED, Robustness  # noqa: E402
from custos.cli.entry import guarded  # noqa: E402
from custos.cli.robustness import robustness_cmd  # noqa: E402
from custos.errors import UserError  # noqa: E402
from custos.findings import Severity  # noqa: E402
from custos.inventory.schema import Manifest  # noqa: E402

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
FEATURES = ["amount", "age", "velocity", "score"]
PACKAGE = "custos_torch_nets"  # the project's architecture package (unique in sys.modules)
MARKED = "custos_torch_marked"  # a module that leaves a marker file when it is imported
ARCH = f"{PACKAGE}.arch:build"
ARCHITECTURE = """
import torch


class MLP(torch.nn.Module):
    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)
        )

    def forward(self, x):
        return self.net(x * self.scale)


def build():
    return MLP()


def build_tiny():  # for features a thousand times smaller
    return MLP(1000.0)


def build_wide():
    return torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))


def not_a_module():
    return [1, 2]


NOT_CALLABLE = 3
"""


def write_csv(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow([*FEATURES, "label"])
        out.writerows([*(f"{v:.9g}" for v in row), label] for row, label in zip(x, y, strict=True))
    return path


def train(model: Any, x: np.ndarray, y: np.ndarray, epochs: int = 150) -> Any:
    """Full-batch Adam on the table: a fraction of a second on CPU."""
    torch.manual_seed(0)
    inputs, targets = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(epochs):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), targets).backward()
        optimiser.step()
    return model.eval()


def forget(*names: str) -> None:
    for name in [m for m in sys.modules if m.split(".")[0] in names]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two well-separated classes (labels 0 and 1, PyTorch's class indices); the same rows a
    thousand times smaller (labels fraud and ok: output 0 is fraud, sorted); the architecture
    package; the trained state dicts, and a whole pickled module."""
    root = tmp_path_factory.mktemp("torch-robustness")
    (root / PACKAGE).mkdir()
    (root / PACKAGE / "__init__.py").write_text("")
    (root / PACKAGE / "arch.py").write_text(ARCHITECTURE)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 4))
    fraud = x[:, 0] + x[:, 1] > 0
    x[:, 0] += np.where(fraud, 2.0, -2.0)
    write_csv(root / "data" / "train.csv", x, fraud.astype(int))
    write_csv(root / "data" / "tiny.csv", x * 1e-3, np.where(fraud, "fraud", "ok"))
    write_csv(root / "data" / "three.csv", x, np.array(["a", "b", "c"] * 100))
    (root / "data" / "narrow.csv").write_text("amount,age,velocity,label\n1,2,3,0\n4,5,6,1\n")
    sys.path.insert(0, str(root))
    try:
        from custos_torch_nets import arch  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(root))
    (root / "models").mkdir()
    robust = train(arch.build(), x, fraud.astype(int))
    torch.save(robust.state_dict(), root / "models" / "robust.pt")
    fragile = train(arch.build_tiny(), x * 1e-3, (~fraud).astype(int))
    torch.save(fragile.state_dict(), root / "models" / "fragile.pth")
    torch.save(robust.net, root / "models" / "whole.pt")  # torch.nn classes only: scans clean
    torch.save(robust, root / "models" / "whole-custom.pt")  # names the project's MLP class
    from safetensors.torch import save_file

    save_file(robust.state_dict(), str(root / "models" / "robust.safetensors"))
    forget(PACKAGE)  # Custos imports it itself, from the project directory
    yield root
    forget(PACKAGE, MARKED)


def attack(root: Path, model: str, data: str, architecture: str = ARCH, **given: Any) -> Any:
    settings = Settings(**{"eps": (0.05, 0.2), "min_robust_accuracy": 0.8, "n": 60, **given})
    return run(root / "models" / model, root / "data" / data, "label", settings, trusted=True,
               architecture=architecture, project_dir=root)  # fmt: skip


def test_a_robust_mlp_passes_and_a_fragile_one_fails_white_box(project: Path) -> None:
    robust = attack(project, "robust.pt", "train.csv")
    assert robust.method == "white-box"
    assert robust.why.startswith("MLP: loss gradients from ART's PyTorchClassifier")
    assert robust.model["format"] == "torch"
    assert robust.model["architecture"] == ARCH
    assert robust.model["estimator"] == f"MLP (PyTorch, {ARCH})"
    assert "torch.load(weights_only=True)" in robust.model["scanner"]
    assert f"architecture {ARCH} imported from {PACKAGE}/arch.py" in robust.model["scanner"]
    assert robust.data["classes"] == ["0", "1"]
    assert robust.clean_accuracy > 0.95
    assert [a.name for a in robust.attacks] == ["FastGradientMethod", "ProjectedGradientDescent"]
    assert [b.eps for b in robust.budgets] == [0.05, 0.2]
    assert all(b.robust_accuracy >= 0.8 for b in robust.budgets), robust.budgets
    assert robust.budgets[0].robust_accuracy >= robust.budgets[1].robust_accuracy
    assert robust.vanished == 0
    assert robust.passed is True
    assert robust.versions["torch"]
    assert robust.versions["adversarial-robustness-toolbox"]
    # seeded: the same inputs give the same figures
    again = attack(project, "robust.pt", "train.csv")
    assert again.budgets == robust.budgets
    # the safetensors file of the same weights gives the same figures too
    stored = attack(project, "robust.safetensors", "train.csv")
    assert stored.budgets == robust.budgets
    assert "state dict read with safetensors" in stored.model["scanner"]

    fragile = attack(project, "fragile.pth", "tiny.csv", architecture=f"{PACKAGE}.arch:build_tiny")
    assert fragile.data["classes"] == ["fraud", "ok"]  # sorted: output 0 is fraud
    assert fragile.clean_accuracy > 0.95
    assert [b.robust_accuracy for b in fragile.budgets] == [0.0, 0.0]
    assert [f.rule for f in fragile.findings] == [RULE, RULE]
    assert {f.severity for f in fragile.findings} == {Severity.high}
    assert "at eps 0.05" in fragile.findings[0].message
    assert fragile.passed is False


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


def test_cli_reports_clean_and_robust_accuracy_per_budget(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(project)  # the architecture resolves from the current directory
    base = ["--label", "label", "--architecture", ARCH, "--trusted", "--n", "40"]
    code, out, err = cli(["models/robust.pt", "--data", "data/train.csv", *base, "--eps",
                          "0.05,0.2,3", "--min-robust-accuracy", "0.8", "--format", "json"],
                         capsys)  # fmt: skip
    assert code == 1, err  # at eps 3 the classes overlap: below the threshold
    doc = json.loads(out)
    assert doc["clean_accuracy"] > 0.95
    assert doc["model"]["format"] == "torch"
    assert doc["model"]["architecture"] == ARCH
    assert doc["versions"]["torch"]
    assert doc["method"] == "white-box"
    assert [b["eps"] for b in doc["budgets"]] == [0.05, 0.2, 3.0]
    for budget in doc["budgets"]:
        assert set(budget["by_attack"]) == {"FastGradientMethod", "ProjectedGradientDescent"}
        assert 0.0 <= budget["robust_accuracy"] <= doc["clean_accuracy"]
    assert [b["passed"] for b in doc["budgets"]] == [True, True, False]
    assert [f["rule"] for f in doc["findings"]] == [RULE]
    assert "at eps 3" in doc["findings"][0]["message"]

    # the table says the architecture was imported as the organisation's trusted code
    code, out, err = cli(["models/robust.pt", "--data", "data/train.csv", *base, "--eps",
                          "0.05,0.2"], capsys)  # fmt: skip
    assert code == 0, err
    for words in ("robust accuracy", "clean accuracy", "PyTorchClassifier", "0.05", "0.2",
                  f"architecture {ARCH} imported", "the organisation's own code"):  # fmt: skip
        assert words in " ".join(out.split()), words


def test_without_trusted_the_architecture_is_never_imported(
    tmp_path: Path, project: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    marker = tmp_path / "imported"
    (tmp_path / f"{MARKED}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('x')\n"
        + textwrap.dedent(ARCHITECTURE)
    )
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "robust.pt").write_bytes((project / "models" / "robust.pt").read_bytes())
    monkeypatch.chdir(tmp_path)
    data = str(project / "data" / "train.csv")
    code, out, err = cli(["models/robust.pt", "--data", data, "--label", "label",
                          "--architecture", f"{MARKED}:build"], capsys)  # fmt: skip
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith("error: --architecture custos_torch_marked:build imports and runs")
    assert "only with --trusted" in err[0]
    assert not out
    assert not marker.exists()
    assert MARKED not in sys.modules
    # nor through the library or the check, whatever the caller forgets
    with pytest.raises(UserError, match="not marked trusted"):
        run(tmp_path / "models" / "robust.pt", Path(data), "label", Settings(), trusted=False,
            architecture=f"{MARKED}:build", project_dir=tmp_path)  # fmt: skip
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_bytes(Path(data).read_bytes())
    untrusted = check(tmp_path, {"location": "models/robust.pt", "architecture": f"{MARKED}:build",
                                 "robustness": POLICY})  # fmt: skip
    assert (untrusted.result, untrusted.summary) == ("error", UNTRUSTED)
    assert not marker.exists()
    # trusted, it is imported (the marker shows the test's module is the one that would run)
    trusted = check(tmp_path, {"location": "models/robust.pt", "architecture": f"{MARKED}:build",
                               "trusted": True, "robustness": POLICY})  # fmt: skip
    assert trusted.result == "pass", trusted.summary
    assert marker.exists()


@pytest.mark.parametrize(
    ("model", "architecture", "message"),
    [
        ("whole.pt", ARCH, "models/whole.pt: not a state dict: torch.load(weights_only=True) "
         "refused it (it pickles torch.nn.modules.container.Sequential); save "
         "model.state_dict(), not the model"),
        ("whole-custom.pt", ARCH, "models/whole-custom.pt: the model-file scanner refused it "
         f"({PACKAGE}.arch.MLP"),
        ("robust.pt", f"{PACKAGE}.arch:build_wide", "models/robust.pt: the weights do not fit "
         f"{PACKAGE}.arch:build_wide (missing 0.bias, 0.weight, 2.bias"),
        ("fragile.pth", f"{PACKAGE}.missing:build", f"architecture {PACKAGE}.missing:build: "
         f"cannot import {PACKAGE}.missing from "),
        ("robust.pt", f"{PACKAGE}.arch:NOT_CALLABLE", "NOT_CALLABLE (int) is not callable"),
        ("robust.pt", f"{PACKAGE}.arch:absent", f"{PACKAGE}.arch has no absent"),
        ("robust.pt", f"{PACKAGE}.arch:not_a_module", "not_a_module() returned list, not a "
         "torch.nn.Module"),
        ("robust.pt", "arch.py", "architecture 'arch.py': give module:callable"),
        ("robust.pt", None, "models/robust.pt: PyTorch weights load only with their "
         "architecture"),
        ("robust.pt@three.csv", ARCH, "data/three.csv: the model has 2 outputs; the labels are "
         "neither class indices 0 to 1 nor 2 classes (3 found)"),
        ("robust.pt@narrow.csv", ARCH, "data/narrow.csv: the model cannot take the 3 feature "
         "columns as a (rows, 3) float tensor: mat1 and mat2 shapes cannot be multiplied"),
    ],
)  # fmt: skip
def test_bad_weights_entry_points_and_tables_are_one_line_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    model: str, architecture: str | None, message: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(project)
    model, _, data = model.partition("@")
    given = ["--architecture", architecture] if architecture else []
    code, out, err = cli([f"models/{model}", "--data", f"data/{data or 'train.csv'}", "--label",
                          "label", "--trusted", *given], capsys)  # fmt: skip
    assert code == 2
    assert len(err) == 1, err
    assert err[0].startswith("error: "), err
    assert message in err[0], err
    assert not out


def manifest(model: dict[str, Any], data: str = "data/train.csv") -> Manifest:
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


def test_the_check_imports_the_architecture_from_the_manifest_folder(project: Path) -> None:
    passed = check(project, {"location": "models/robust.pt", "trusted": True,
                             "architecture": ARCH, "robustness": POLICY})  # fmt: skip
    assert passed.result == "pass", passed.summary
    assert [e.location for e in passed.examined] == ["models/robust.pt", "data/train.csv"]
    for words in ("white-box", "PyTorchClassifier", "FastGradientMethod", "at eps 0.05",
                  f"architecture {ARCH} imported from {PACKAGE}/arch.py",
                  "torch 2.", "adversarial-robustness-toolbox 1."):  # fmt: skip
        assert words in passed.summary, words

    failed = check(project, {"location": "models/fragile.pth", "trusted": True,
                             "architecture": f"{PACKAGE}.arch:build_tiny", "robustness": POLICY},
                   "data/tiny.csv")  # fmt: skip
    assert failed.result == "fail", failed.summary
    assert [(f.rule, f.severity, f.location) for f in failed.findings] == [
        (RULE, Severity.high, "models/fragile.pth")
    ] * 2

    missing = check(project, {"location": "models/robust.pt", "trusted": True,
                              "robustness": POLICY})  # fmt: skip
    assert missing.result == "error"
    assert "PyTorch weights load only with their architecture" in missing.summary


@pytest.mark.parametrize(
    ("asset", "message"),
    [
        ({"id": "d", "kind": "dataset", "location": "d.csv", "architecture": "m:build"},
         "architecture: only model assets have it"),
        ({"id": "m", "kind": "model", "location": "m.pt", "architecture": "models/arch.py"},
         "architecture: give module:callable"),
        ({"id": "m", "kind": "model", "location": "m.pt", "architecture": "m:build()"},
         "architecture: give module:callable"),
    ],
)  # fmt: skip
def test_the_manifest_field_is_for_models_and_an_entry_point(
    asset: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Manifest.model_validate({
            "organisation": {"name": "Acme", "scope": "Fraud"},
            "systems": [{"id": "s", "name": "S", "purpose": "P", "lifecycle": "production",
                         "eu_ai_act": {"role": "provider", "tier": "high"}, "assets": [asset]}],
        })  # fmt: skip
    good = manifest({"location": "m.pt", "architecture": " mypkg.nets:MLP "})
    assert good.systems[0].assets[0].architecture == "mypkg.nets:MLP"

"""MLflow MLmodel files: the code a python_function flavour runs on load, the artifacts it
names, and MLmodel files built to break the parser (bombs, depth, wrong types, garbage)."""

from __future__ import annotations

import os
import pickle
import random
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from custos.checks.model import Severity
from custos.modelfile.dispatch import scan_file
from custos.modelfile.formats.bounded_yaml import YamlRejected, load
from custos.modelfile.policy import Policy
from custos.modelfile.scan import scan_paths
from tests.modelfile.modeldirs import (
    SKLEARN_MLMODEL,
    above_low,
    findings,
    pyfunc,
    write_mlflow,
)

POLICY = Policy.default()


def scan_dir(root: Path) -> list[Any]:
    return scan_paths([root], POLICY)


def test_benign_sklearn_model_has_nothing_above_low(tmp_path: Path) -> None:
    reports = scan_dir(write_mlflow(tmp_path / "model"))
    assert above_low(reports) == []
    formats = {r.path.name: r.format for r in reports}
    assert formats["MLmodel"] == "mlmodel"
    assert formats["model.pkl"] == "pickle"
    assert all(r.error is None for r in reports)


def test_benign_pyfunc_with_python_model_and_artifacts(tmp_path: Path) -> None:
    conf = pyfunc(
        python_model="python_model.pkl",
        artifacts={"vocab": {"path": "artifacts/vocab.txt", "uri": "/tmp/vocab.txt"}},
        env={"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
        cloudpickle_version="3.0.0",
        code=None,
    )
    root = write_mlflow(tmp_path / "model", conf)
    (root / "python_model.pkl").write_bytes(pickle.dumps([1, 2, 3]))
    (root / "artifacts").mkdir()
    (root / "artifacts" / "vocab.txt").write_text("a\nb\n")
    assert above_low(scan_dir(root)) == []


def test_loader_module_outside_mlflow_is_high_and_named(tmp_path: Path) -> None:
    root = write_mlflow(tmp_path / "m", pyfunc(loader_module="company_models.loader"))
    (hit,) = findings(scan_dir(root), "mlmodel/custom-loader")
    assert hit[0].endswith("MLmodel!flavors.python_function")
    assert "company_models.loader" in hit[1]
    # a look-alike prefix is not MLflow
    root = write_mlflow(tmp_path / "n", pyfunc(loader_module="mlflow_extras.loader"))
    assert findings(scan_dir(root), "mlmodel/custom-loader")


def test_code_paths_are_listed_and_their_modules_reported(tmp_path: Path) -> None:
    root = write_mlflow(tmp_path / "m", pyfunc(loader_module="custom_loader", code="code"))
    (root / "code").mkdir()
    (root / "code" / "custom_loader.py").write_text("import os\n")
    reports = scan_dir(root)
    (code,) = findings(reports, "mlmodel/code-paths")
    assert "'code'" in code[1]
    (module,) = findings(reports, "model-dir/python-module")
    assert module[0].endswith("code/custom_loader.py")
    assert "MLmodel flavors.python_function.code" in module[1]
    assert findings(reports, "mlmodel/custom-loader")
    assert findings(reports, "model-dir/missing-reference") == []


def test_model_logged_as_code_names_the_file_it_runs(tmp_path: Path) -> None:
    conf = pyfunc(
        loader_module="mlflow.pyfunc.loaders.code_model", model_code_path="/home/dev/agent.py"
    )
    root = write_mlflow(tmp_path / "m", conf)
    (root / "agent.py").write_text("print('hi')\n")
    reports = scan_dir(root)
    (hit,) = findings(reports, "mlmodel/model-code")
    assert "'agent.py'" in hit[1]
    assert findings(reports, "model-dir/missing-reference") == []  # base name resolved


def test_other_flavours_importing_outside_their_library(tmp_path: Path) -> None:
    mlmodel = {
        "flavors": {
            "xgboost": {"data": "model.pkl", "model_class": "os.system"},
            "keras": {"data": "model.pkl", "keras_module": "tensorflow.keras"},
        }
    }
    hits = findings(scan_dir(write_mlflow(tmp_path / "m", mlmodel)), "mlmodel/custom-loader")
    assert len(hits) == 1
    assert "os.system" in hits[0][1]
    assert "xgboost" in hits[0][1]


@pytest.mark.parametrize("escape", ["../outside.pkl", "/etc/passwd", "C:\\model.pkl", "a/../../x"])
def test_references_escaping_the_folder_are_never_followed(tmp_path: Path, escape: str) -> None:
    root = write_mlflow(tmp_path / "m", pyfunc(python_model=escape))
    reports = scan_dir(root)
    (hit,) = findings(reports, "model-dir/reference-escape")
    assert repr(escape) in hit[1]
    assert findings(reports, "model-dir/missing-reference") == []


def test_missing_python_model_is_reported(tmp_path: Path) -> None:
    root = write_mlflow(tmp_path / "m", pyfunc(python_model="python_model.pkl"))
    (hit,) = findings(scan_dir(root), "model-dir/missing-reference")
    assert "python_model.pkl" in hit[1]
    assert hit[0].endswith("MLmodel!flavors.python_function")


def test_reference_through_a_link_out_of_the_directory(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "python_model.pkl").write_bytes(pickle.dumps(1))
    root = write_mlflow(tmp_path / "m", pyfunc(python_model="data/python_model.pkl"))
    os.symlink(outside, root / "data")
    reports = scan_dir(root)
    (hit,) = findings(reports, "model-dir/reference-escape")
    assert "symbolic link" in hit[1]
    assert findings(reports, "path/symlink-outside")


CLOUDPICKLED = (
    b"\x80\x05ccloudpickle.cloudpickle\n_make_skeleton_class\nq\x00)R."  # a class by value
)
OS_SYSTEM = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."


@pytest.mark.parametrize("payload", [CLOUDPICKLED, OS_SYSTEM])
def test_the_cloudpickled_python_model_is_scanned_as_a_pickle(
    tmp_path: Path, payload: bytes
) -> None:
    root = write_mlflow(tmp_path / "m", pyfunc(python_model="python_model.pkl"))
    (root / "python_model.pkl").write_bytes(payload)
    reports = {r.path.name: r for r in scan_dir(root)}
    assert reports["python_model.pkl"].worst() == Severity.critical


def test_content_decides_not_the_name(tmp_path: Path) -> None:
    path = tmp_path / "spec.yml"
    path.write_text(yaml.safe_dump(pyfunc(loader_module="evil")))
    report = scan_file(path, POLICY)
    assert report.format == "mlmodel"
    assert {f.rule for f in report.findings} == {"mlmodel/custom-loader"}
    # YAML is a superset of JSON: an MLmodel written as JSON is one too
    path.write_text('{"flavors": {"python_function": {"loader_module": "evil"}}}')
    assert {f.rule for f in scan_file(path, POLICY).findings} == {"mlmodel/custom-loader"}


def test_text_that_only_mentions_flavors_is_not_an_mlmodel(tmp_path: Path) -> None:
    vocab = tmp_path / "vocab.json"  # compact, as GPT-2 style vocabularies are written
    vocab.write_text('{"the": 1, "flavors": 2, "flavors:": 3}')
    readme = tmp_path / "README.md"
    readme.write_text("# Model\n\nIce cream in many flavors: vanilla, cocoa.\n")
    for path in (vocab, readme):
        report = scan_file(path, POLICY)
        assert report.format == "text"
        assert report.findings == ()


def test_a_file_named_mlmodel_is_judged_whatever_its_content(tmp_path: Path) -> None:
    # "fla\x76ors" is "flavors" to YAML, invisible to a byte search
    path = tmp_path / "MLmodel"
    path.write_text('"fla\\x76ors":\n  python_function:\n    loader_module: evil\n')
    report = scan_file(path, POLICY)
    assert report.format == "mlmodel"
    assert {f.rule for f in report.findings} == {"mlmodel/custom-loader"}
    path.write_bytes(b"\x89\xff\x00garbage")
    assert "mlmodel/malformed" in {f.rule for f in scan_file(path, POLICY).findings}


def _bomb(levels: int = 12, fan: int = 10) -> str:
    lines = ["a0: &a0 [x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]")
    lines.append(
        f"flavors: {{python_function: {{loader_module: mlflow.sklearn, data: *a{levels - 1}}}}}"
    )
    return "\n".join(lines) + "\n"


BAD_INPUT: dict[str, str | bytes] = {
    "not yaml": "flavors: [unclosed\n  - : :\n",
    "huge": "flavors: {}\npad: " + "x" * (2 << 20) + "\n",
    "deep flow": "flavors: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "deep block": "flavors:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 120)),
    "billion laughs": _bomb(),
    "recursive alias": "flavors: &f {python_function: {loader_module: *f}}\n",
    "loader_module an int": "flavors:\n  python_function:\n    loader_module: 42\n",
    "flavors a list": "flavors: [python_function]\n",
    "document a list": "- flavors\n",
    "two documents": "flavors: {}\n---\nflavors: {}\n",
    "code a mapping": "flavors: {python_function: {loader_module: mlflow.x, code: {a: 1}}}\n",
    "unhashable key": "flavors:\n  [a, b]: 1\n",
    "huge integer": "flavors: {python_function: {loader_module: mlflow.x, data: !!int "
    + "9" * 10_000
    + "}}\n",
    "not utf-8": b"flavors:\n  python_function:\n    loader_module: \xff\xfe\n",
    "control character": "flavors:\n  python_function:\n    loader_module: a\x01b\n",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_is_a_high_finding_never_a_crash(tmp_path: Path, name: str) -> None:
    data = BAD_INPUT[name]
    path = tmp_path / "MLmodel"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    started = time.monotonic()
    report = scan_file(path, POLICY)
    assert time.monotonic() - started < 10
    assert report.error is None, report.error
    bad = [f for f in report.findings if f.rule == "mlmodel/malformed"]
    assert bad, report.findings
    assert all(f.severity == Severity.high for f in bad)
    assert all(str(path) in f.location for f in bad)


def test_alias_within_bounds_is_read(tmp_path: Path) -> None:
    # PyYAML itself writes anchors when one object appears twice: that alone is fine
    path = tmp_path / "MLmodel"
    path.write_text("flavors:\n  python_function: &conf\n    loader_module: evil\n  copy: *conf\n")
    rules = [f.rule for f in scan_file(path, POLICY).findings]
    assert rules == ["mlmodel/custom-loader"]


def test_random_edits_of_an_mlmodel_never_crash(tmp_path: Path) -> None:
    seed = yaml.safe_dump(pyfunc(loader_module="evil", code="code", python_model="p.pkl"))
    rng = random.Random(13)
    path = tmp_path / "MLmodel"
    alphabet = "&*[]{}:-,!|>'\"\n #?%@`\\x0"
    for _ in range(300):
        text = list(seed)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(text))
            action = rng.random()
            if action < 0.4:
                text[at] = rng.choice(alphabet)
            elif action < 0.7:
                text.insert(at, rng.choice(alphabet) * rng.randint(1, 30))
            else:
                del text[at : at + rng.randint(1, 20)]
        path.write_text("".join(text))
        report = scan_file(path, POLICY)
        assert report.error is None, report.error
        rules = {f.rule for f in report.findings}
        # the oracle is what MLflow's own reading (yaml.safe_load) would run
        try:
            document = yaml.safe_load("".join(text))
        except yaml.YAMLError:
            assert "mlmodel/malformed" in rules
            continue
        flavors = document.get("flavors") if isinstance(document, dict) else None
        conf = flavors.get("python_function") if isinstance(flavors, dict) else None
        if isinstance(conf, dict) and conf.get("loader_module") == "evil":
            assert "mlmodel/custom-loader" in rules
        if not isinstance(flavors, dict):
            assert "mlmodel/malformed" in rules


def test_sklearn_mlmodel_constant_is_what_mlflow_writes() -> None:
    # the benign fixture must stay benign: mlflow.* loader, no code paths
    conf = SKLEARN_MLMODEL["flavors"]["python_function"]
    assert conf["loader_module"].startswith("mlflow.")
    assert "code" not in conf


@settings(max_examples=300, deadline=2000)
@given(st.text(alphabet="&*ab[]{}:-, \n!|>'\"?#%@\\x0\x01\x85\t\ufeff", max_size=400))
def test_bounded_loader_returns_or_rejects_never_anything_else(text: str) -> None:
    message = "loaded"
    try:
        load(text, max_depth=8, max_nodes=200)
    except YamlRejected as err:
        message = str(err)
    assert message
    assert "\n" not in message  # one line, for a finding

"""`custos bom` end to end: a generated project and the bundled example, each BOM checked with
cyclonedx-python-lib's own strict validator and the bundled CycloneDX 1.6 JSON schema (not our
code), digests recomputed here with hashlib, signatures made with real keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

pytest.importorskip("cyclonedx")
pytest.importorskip("jsonschema")

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from custos.bom.build import build_bom
from custos.bom.serialize import schema_error, to_json
from custos.catalog.catalog import Catalog
from custos.cli.bom import MISSING_LIBRARY, BomFormat, bom_cmd, render
from custos.cli.entry import guarded
from custos.errors import UserError
from custos.integrity import sign, write_key_pair
from custos.inventory.load import load_manifest

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
PASSPHRASE = b"correct horse battery"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"
VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)

CARD = """---
pipeline_tag: tabular-classification
---
# Scorer

## Intended use

- Scores card transactions for fraud.
- Ranks the analysts' review queue.

## Training data

`data/train.csv`: 40 labelled transactions.

## Evaluation

### Results

| Metric | Value | Slice |
|--------|------:|-------|
| ROC AUC | 0.91 | all |
| recall | 0.40 | cross-border |

```
## not a heading: inside a code block
```

## Limitations

Trained on one month of data; analysts' notes.jsonl are not used yet.

## Ethical considerations

* No protected attributes are features.
"""

MANIFEST = """\
version: 1
organisation: {name: Acme Payments, scope: Card fraud scoring and its data}
signing: {public_key: keys/release.pub}
systems:
  - id: scorer
    name: Fraud scorer
    purpose: Scores card transactions
    owner: Ada
    lifecycle: production
    eu_ai_act: {role: provider, questionnaire: {annex_iii: [essential-services]}}
    assets:
      - {id: scorer-model, kind: model, location: models/scorer.safetensors,
         classification: confidential, owner: Ada}
      - {id: encoder, kind: model, location: models/encoder, classification: internal}
      - {id: train-data, kind: dataset, location: data/train.csv, classification: restricted,
         owner: Ada, label: is_fraud}
      - {id: notes, kind: dataset, location: data/notes.jsonl, classification: internal}
      - {id: score-api, kind: endpoint, location: "https://scorer.example/v1/score",
         auth: SCORER_KEY, classification: internal}
      - {id: train, kind: pipeline, location: pipelines/train.py}
      - {id: service, kind: repository, location: service, classification: internal}
      - {id: api-log, kind: log_source, location: logs/api.jsonl, classification: confidential}
  - id: reporting
    name: Reporting
    purpose: Monthly fraud statistics
    lifecycle: development
    eu_ai_act: {role: deployer, tier: minimal}
    assets:
      - {id: monthly, kind: dataset, location: data/monthly.csv, classification: internal}
"""

LOCKED = {"numpy": "2.1.0", "requests": "2.32.3", "urllib3": "2.2.1"}
POETRY_LOCK = (
    "".join(
        f'[[package]]\nname = "{name}"\nversion = "{version}"\ndescription = ""\n'
        f'optional = false\npython-versions = ">=3.8"\n'
        f'files = [{{file = "{name}-{version}.tar.gz", hash = "sha256:{index * 64}"}}]\n\n'
        for index, (name, version) in zip("123", LOCKED.items(), strict=True)
    )
    + '[metadata]\nlock-version = "2.0"\npython-versions = "^3.11"\ncontent-hash = "'
    + "4" * 64
    + '"\n'
)


def safetensors(values: list[float]) -> bytes:
    """A real safetensors file: 8-byte header length, JSON header, little-endian F32 data."""
    data = struct.pack(f"<{len(values)}f", *values)
    header = json.dumps(
        {"weight": {"dtype": "F32", "shape": [len(values)], "data_offsets": [0, len(data)]}}
    ).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + data


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for folder in ("models/encoder", "data", "pipelines", "service", "logs", "keys"):
        (root / folder).mkdir(parents=True)
    (root / "custos.yaml").write_text(MANIFEST)
    (root / "models" / "scorer.safetensors").write_bytes(safetensors([0.5, -1.25, 3.0]))
    (root / "models" / "scorer.md").write_text(CARD)
    encoder = root / "models" / "encoder"
    (encoder / "model.safetensors").write_bytes(safetensors([1.0, 2.0]))
    (encoder / "config.json").write_text(
        json.dumps({"model_type": "bert", "architectures": ["BertForSequenceClassification"]})
    )
    (encoder / "README.md").write_text("# Encoder\n\n## Intended use\n\nEmbeds merchant names.\n")
    (root / "data" / "train.csv").write_text("amount,hour,is_fraud\n12.5,3,0\n900.0,2,1\n")
    (root / "data" / "notes.jsonl").write_text('{"note": "customer called"}\n')
    (root / "data" / "monthly.csv").write_text("month,cases\n2026-10,12\n")
    (root / "pipelines" / "train.py").write_text("import numpy\n")
    (root / "service" / "requirements.txt").write_text("numpy==2.1.0\nrequests>=2.31\n")
    (root / "service" / "poetry.lock").write_text(POETRY_LOCK)
    (root / "logs" / "api.jsonl").write_text('{"ts": "2026-11-01T00:00:00Z", "status": 200}\n')
    secret = write_key_pair(tmp_path / "secret", "release", PASSPHRASE)
    shutil.copy(secret.public_key, root / "keys" / "release.pub")
    sign(root / "models" / "scorer.safetensors", secret.private_key, PASSPHRASE)
    return root


def bom_doc(root: Path, catalog: Catalog, system: str | None = None) -> dict[str, Any]:
    text = bom_text(root, catalog, system)
    assert VALIDATOR.validate_str(text) is None
    doc: dict[str, Any] = json.loads(text)
    return doc


def bom_text(root: Path, catalog: Catalog, system: str | None = None) -> str:
    loaded = load_manifest(root, catalog)
    return to_json(build_bom(loaded.manifest, loaded.base_dir, system, now=NOW))


def components(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every component by bom-ref, nested ones included."""
    found: dict[str, dict[str, Any]] = {}
    stack = list(doc.get("components", []))
    while stack:
        item = stack.pop()
        found[item["bom-ref"]] = item
        stack += item.get("components", [])
    return found


def props(item: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for prop in item.get("properties", []):
        out.setdefault(prop["name"], []).append(prop["value"])
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def graph(doc: dict[str, Any]) -> dict[str, list[str]]:
    return {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}


# -- the generated project ------------------------------------------------------------------------


def test_project_bom_is_valid_cyclonedx_1_6(project: Path, shipped: Catalog) -> None:
    text = bom_text(project, shipped)
    assert VALIDATOR.validate_str(text) is None
    doc = json.loads(text)
    assert (doc["bomFormat"], doc["specVersion"], doc["version"]) == ("CycloneDX", "1.6", 1)
    assert doc["metadata"]["component"]["bom-ref"] == "project"
    assert doc["metadata"]["timestamp"] == "2026-11-28T12:00:00+00:00"
    tools = doc["metadata"]["tools"]["components"]
    assert [t["name"] for t in tools] == ["custos"]
    # Every bom-ref is unique and every graph node exists.
    refs = [*components(doc), *(s["bom-ref"] for s in doc["services"]), "project"]
    assert len(refs) == len(set(refs))
    for ref, targets in graph(doc).items():
        assert ref in refs
        assert set(targets) <= set(refs)


def test_the_validator_checks_the_fields_the_library_does_not_model(
    project: Path, shipped: Catalog
) -> None:
    """A control: the strict schema rejects an unknown key inside modelCard and a data entry
    without its type, so passing it says something about what we added."""
    doc = bom_doc(project, shipped)
    model = components(doc)["asset:scorer-model"]
    model["modelCard"]["considerations"]["bogus"] = ["x"]
    assert VALIDATOR.validate_str(json.dumps(doc)) is not None
    del model["modelCard"]["considerations"]["bogus"]
    assert VALIDATOR.validate_str(json.dumps(doc)) is None
    del components(doc)["asset:train-data"]["data"][0]["type"]
    assert VALIDATOR.validate_str(json.dumps(doc)) is not None
    assert schema_error(json.dumps(doc)) is not None


def test_models_have_their_digests_format_and_signature(project: Path, shipped: Catalog) -> None:
    found = components(bom_doc(project, shipped))
    scorer = found["asset:scorer-model"]
    assert scorer["type"] == "machine-learning-model"
    assert scorer["hashes"] == [
        {"alg": "SHA-256", "content": sha256(project / "models" / "scorer.safetensors")}
    ]
    info = props(scorer)
    assert info["custos:format"] == ["safetensors"]
    assert info["custos:signature"] == ["verified"]
    assert info["custos:signer"][0].startswith("key ")
    assert info["custos:classification"] == ["confidential"]
    assert info["custos:owner"] == ["Ada"]
    card_ref = scorer["externalReferences"][0]
    assert card_ref["type"] == "model-card"
    assert card_ref["url"] == "models/scorer.md"
    assert card_ref["hashes"][0]["content"] == sha256(project / "models" / "scorer.md")

    # A directory model: one nested file component per file, each with its own digest.
    encoder = found["asset:encoder"]
    assert encoder["type"] == "machine-learning-model"
    assert "hashes" not in encoder
    nested = {c["name"]: c for c in encoder["components"]}
    assert set(nested) == {
        "models/encoder/README.md",
        "models/encoder/config.json",
        "models/encoder/model.safetensors",
    }
    for name, item in nested.items():
        assert item["type"] == "file"
        assert item["hashes"] == [{"alg": "SHA-256", "content": sha256(project / name)}]
    assert props(encoder)["custos:format"] == ["safetensors"]
    assert props(encoder)["custos:signature"] == ["unsigned"]
    parameters = encoder["modelCard"]["modelParameters"]
    assert parameters["architectureFamily"] == "bert"
    assert parameters["modelArchitecture"] == "BertForSequenceClassification"


def test_model_card_from_the_markdown_card(project: Path, shipped: Catalog) -> None:
    card = components(bom_doc(project, shipped))["asset:scorer-model"]["modelCard"]
    # Only the training-data section names what the model learnt from (notes.jsonl is named
    # under Limitations, so it is not referenced).
    assert card["modelParameters"] == {
        "task": "tabular-classification",
        "datasets": [{"ref": "asset:train-data"}],
    }
    assert card["quantitativeAnalysis"]["performanceMetrics"] == [
        {"type": "ROC AUC", "value": "0.91", "slice": "all"},
        {"type": "recall", "value": "0.40", "slice": "cross-border"},
    ]
    considerations = card["considerations"]
    assert considerations["useCases"] == [
        "Scores card transactions for fraud.",
        "Ranks the analysts' review queue.",
    ]
    assert considerations["technicalLimitations"] == [
        "Trained on one month of data; analysts' notes.jsonl are not used yet."
    ]
    assert considerations["ethicalConsiderations"] == [
        {"name": "No protected attributes are features."}
    ]
    # the dataset references point at data components of this BOM
    found = components(bom_doc(project, shipped))
    for ref in card["modelParameters"]["datasets"]:
        assert found[ref["ref"]]["type"] == "data"


def test_datasets_are_data_with_classification(project: Path, shipped: Catalog) -> None:
    found = components(bom_doc(project, shipped))
    train = found["asset:train-data"]
    assert train["type"] == "data"
    assert train["hashes"] == [
        {"alg": "SHA-256", "content": sha256(project / "data" / "train.csv")}
    ]
    info = props(train)
    assert info["custos:classification"] == ["restricted"]
    assert info["custos:format"] == ["csv"]
    assert info["custos:label"] == ["is_fraud"]
    assert train["data"] == [
        {
            "classification": "restricted",
            "contents": {"url": "data/train.csv"},
            "governance": {"owners": [{"contact": {"name": "Ada"}}]},
            "name": "train-data",
            "type": "dataset",
        }
    ]
    # A log grows: it is listed with its classification but without a digest.
    log = found["asset:api-log"]
    assert log["type"] == "data"
    assert "hashes" not in log
    assert log["data"][0]["type"] == "other"
    assert props(log)["custos:classification"] == ["confidential"]


def test_libraries_from_manifests_and_lockfiles(project: Path, shipped: Catalog) -> None:
    doc = bom_doc(project, shipped)
    libraries = {r: c for r, c in components(doc).items() if c["type"] == "library"}
    assert set(libraries) == {
        "pkg:pypi/numpy@2.1.0",
        "pkg:pypi/requests@2.32.3",  # requests>=2.31 in requirements.txt, pinned by the lock
        "pkg:pypi/urllib3@2.2.1",
    }
    for ref, library in libraries.items():
        assert library["purl"] == ref
    numpy = props(libraries["pkg:pypi/numpy@2.1.0"])
    assert numpy["custos:manifest"] == ["service/poetry.lock", "service/requirements.txt"]
    assert numpy["custos:direct"] == ["true"]
    assert props(libraries["pkg:pypi/urllib3@2.2.1"])["custos:direct"] == ["false"]
    edges = graph(doc)
    assert set(edges["asset:service"]) == set(libraries)
    assert set(edges["system:scorer"]) == {
        "asset:scorer-model", "asset:encoder", "asset:train-data", "asset:notes",
        "asset:score-api", "asset:train", "asset:service", "asset:api-log", *libraries,
    }  # fmt: skip
    assert set(edges["project"]) == {"system:scorer", "system:reporting"}
    assert edges["system:reporting"] == ["asset:monthly"]


def test_endpoints_are_services(project: Path, shipped: Catalog) -> None:
    doc = bom_doc(project, shipped)
    (service,) = doc["services"]
    assert service["bom-ref"] == "asset:score-api"
    assert service["endpoints"] == ["https://scorer.example/v1/score"]
    assert service["authenticated"] is True
    pipeline = components(doc)["asset:train"]
    assert pipeline["type"] == "application"
    assert pipeline["hashes"][0]["content"] == sha256(project / "pipelines" / "train.py")


def test_system_bom_describes_one_system(project: Path, shipped: Catalog) -> None:
    doc = bom_doc(project, shipped, "scorer")
    subject = doc["metadata"]["component"]
    assert (subject["bom-ref"], subject["name"]) == ("system:scorer", "Fraud scorer")
    assert props(subject)["custos:eu-ai-act-tier"] == ["high"]  # derived from the answers
    found = components(doc)
    assert "asset:monthly" not in found
    assert "system:reporting" not in found
    assert "asset:scorer-model" in graph(doc)["system:scorer"]


def test_signature_states(project: Path, shipped: Catalog) -> None:
    model = project / "models" / "scorer.safetensors"
    model.write_bytes(safetensors([0.5, -1.25, 3.5]))  # changed after signing
    found = components(bom_doc(project, shipped))
    assert props(found["asset:scorer-model"])["custos:signature"] == ["invalid"]
    assert "custos:signer" not in props(found["asset:scorer-model"])

    manifest = project / "custos.yaml"
    manifest.write_text(MANIFEST.replace("signing: {public_key: keys/release.pub}\n", ""))
    found = components(bom_doc(project, shipped))
    assert props(found["asset:scorer-model"])["custos:signature"] == ["unverified"]

    (project / "models" / "scorer.safetensors.sig").unlink()
    found = components(bom_doc(project, shipped))
    assert props(found["asset:scorer-model"])["custos:signature"] == ["unsigned"]


def test_output_is_deterministic(project: Path, shipped: Catalog) -> None:
    first, second = bom_text(project, shipped), bom_text(project, shipped)
    assert first == second
    later = json.loads(_later(project, shipped))
    doc = json.loads(first)
    assert later["serialNumber"] == doc["serialNumber"]  # the serial names the content
    assert later["metadata"].pop("timestamp") != doc["metadata"].pop("timestamp")
    assert later == doc
    (project / "data" / "train.csv").write_text("amount,hour,is_fraud\n1.0,1,0\n")
    assert json.loads(bom_text(project, shipped))["serialNumber"] != doc["serialNumber"]


def _later(project: Path, catalog: Catalog) -> str:
    loaded = load_manifest(project, catalog)
    later = NOW + dt.timedelta(days=1)
    return to_json(build_bom(loaded.manifest, loaded.base_dir, None, now=later))


def test_unreadable_model_file_is_a_user_error(
    project: Path, shipped: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Permissions cannot make a file unreadable when the tests run as root: fail the read.
    from custos._hashing import sha256_file

    def refuse(path: Path) -> str:
        if path.name == "scorer.safetensors":
            raise PermissionError(13, "Permission denied")
        return sha256_file(path)

    monkeypatch.setattr("custos.bom.build.sha256_file", refuse)
    loaded = load_manifest(project, shipped)
    with pytest.raises(UserError) as raised:
        build_bom(loaded.manifest, loaded.base_dir, now=NOW)
    assert str(raised.value) == (
        "asset scorer-model: cannot read models/scorer.safetensors: Permission denied"
    )


# -- the bundled example --------------------------------------------------------------------------


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE, tmp_path / "fraud-detection"))


def test_fraud_detection_example(example: Path, shipped: Catalog) -> None:
    text, warnings = render(example, None, BomFormat.cyclonedx, now=NOW, validate=True)
    assert VALIDATOR.validate_str(text) is None
    doc = json.loads(text)
    found = components(doc)
    kinds: dict[str, int] = {}
    for item in found.values():
        kinds[item["type"]] = kinds.get(item["type"], 0) + 1
    assert kinds == {"application": 6, "machine-learning-model": 2, "data": 6, "library": 6}
    assert len(doc["services"]) == 2
    credit = found["asset:credit-limit-model"]
    assert props(credit)["custos:signature"] == ["verified"]  # signed with keys/kestrel-release
    assert credit["hashes"][0]["content"] == sha256(example / "models" / "credit_limit.safetensors")
    assert credit["modelCard"]["modelParameters"]["datasets"] == [
        {"ref": "asset:credit-applicants"}
    ]
    fraud = found["asset:fraud-model"]
    assert props(fraud)["custos:format"] == ["joblib"]
    assert props(fraud)["custos:signature"] == ["unsigned"]  # a planted gap
    assert fraud["modelCard"]["considerations"]["ethicalConsiderations"]
    metrics = fraud["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    assert {"type": "ROC AUC", "value": "0.912"} in metrics
    assert props(found["asset:fraud-transactions"])["custos:classification"] == ["restricted"]
    assert "pkg:pypi/scikit-learn@1.9.1" in graph(doc)["asset:fraud-serving-repo"]
    assert any("credit-advisor-repo" in w and "remote repository" in w for w in warnings)


# -- the command ----------------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("bom")(bom_cmd)
    app.command("other")(lambda: None)  # a second command keeps `bom` a named subcommand
    return app


def test_cli_writes_the_bom(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")
    out = example / "out" / "fraud-scoring.cdx.json"
    result = CliRunner().invoke(
        cli(), ["bom", "fraud-scoring", "--dir", str(example), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert VALIDATOR.validate_str(out.read_text()) is None
    assert doc["metadata"]["component"]["bom-ref"] == "system:fraud-scoring"
    assert doc["metadata"]["timestamp"] == "2026-11-18T11:06:40+00:00"
    assert "asset:credit-limit-model" not in components(doc)

    stdout = CliRunner().invoke(cli(), ["bom", "fraud-scoring", "--dir", str(example)])
    assert stdout.exit_code == 0
    assert stdout.stdout == out.read_text()


def run_guarded(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """The command under custos.cli.entry.guarded: errors become one message and exit 2."""

    def run() -> int:
        cli()(args=args, prog_name="custos", standalone_mode=False)
        return 0

    with pytest.raises(SystemExit) as exited:
        guarded(run, debug=False)
    code = exited.value.code
    assert isinstance(code, int)
    return code, capsys.readouterr().err.strip().splitlines()


def test_unknown_system_exits_2_with_one_line(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = run_guarded(["bom", "UNKNOWN", "--dir", str(example)], capsys)
    assert code == 2
    assert lines == [
        "error: no AI system 'UNKNOWN' in custos.yaml (systems: fraud-scoring, "
        "credit-limit-advisor)"
    ]


def test_no_manifest_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = run_guarded(["bom", "--dir", str(tmp_path)], capsys)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith("error: no manifest at ")


def test_missing_library_says_what_to_install(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cyclonedx", None)  # import cyclonedx -> ImportError
    with pytest.raises(UserError) as raised:
        render(example, None, BomFormat.cyclonedx, now=NOW)
    assert str(raised.value) == MISSING_LIBRARY
    assert MISSING_LIBRARY == "custos bom needs cyclonedx-python-lib: pip install 'custos[bom]'"

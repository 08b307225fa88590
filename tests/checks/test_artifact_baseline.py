"""artifact-baseline on real files and baselines; the manifest's signing and baseline fields."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from custos._hashing import sha256_file
from custos.catalog.catalog import Catalog
from custos.checks.artifact_baseline import ArtifactBaseline, declared_baseline
from custos.checks.base import CheckContext, Target
from custos.checks.model import Evidence, Severity
from custos.checks.registry import get_check, run_check
from custos.errors import DataError
from custos.integrity import record
from custos.inventory.load import load_manifest
from custos.inventory.schema import Manifest
from tests.cli.run import custos

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
RECORDED = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
CHECK = ArtifactBaseline()


def document(assets: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "organisation": {"name": "Acme", "scope": "Card fraud"},
        "systems": [
            {
                "id": "scorer",
                "name": "Scorer",
                "purpose": "Scores card transactions",
                "lifecycle": "production",
                "eu_ai_act": {"role": "provider", "tier": "high"},
                "assets": assets,
            }
        ],
        **extra,
    }


def run(assets: list[dict[str, Any]], root: Path) -> Evidence:
    m = Manifest.model_validate(document(assets))
    system = m.systems[0]
    return run_check(CHECK, Target(system, system.assets[0]), CheckContext(m, root, NOW))


def rules(evidence: Evidence) -> set[tuple[str, str, Severity]]:
    return {(f.rule, f.location, f.severity) for f in evidence.findings}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "data" / "shards").mkdir(parents=True)
    (root / "data" / "transactions.csv").write_text("id,amount\n1,10.00\n2,99.95\n")
    for i in range(3):
        (root / "data" / "shards" / f"part-{i}.csv").write_text(f"id\n{i}\n")
    return root


CSV = {"id": "transactions", "kind": "dataset", "location": "data/transactions.csv"}
SHARDS = {"id": "shards", "kind": "dataset", "location": "data/shards"}


def default_baseline(root: Path, name: str) -> Path:
    return root / ".custos" / "baselines" / f"{name}.json"


def test_contract(shipped: Catalog) -> None:
    assert get_check("artifact-baseline") is not None
    assert CHECK.version == 1
    assert CHECK.kinds == frozenset({"model", "dataset", "pipeline", "repository"})
    for control in CHECK.evidences:
        assert control in shipped.controls, control
    listed = {
        c.id
        for c in shipped.framework_controls("custos-ai")
        if "artifact-baseline" in c.verification.checks
    }
    assert listed <= set(CHECK.evidences)


def test_clean_file_passes_and_pins_the_baseline(project: Path) -> None:
    stored = default_baseline(project, "transactions")
    record(project / "data" / "transactions.csv", stored, "transactions", project, now=RECORDED)
    evidence = run([CSV], project)
    assert evidence.result == "pass", evidence.findings
    examined = {e.location: e.sha256 for e in evidence.examined}
    assert examined == {
        "data/transactions.csv": sha256_file(project / "data" / "transactions.csv"),
        ".custos/baselines/transactions.json": sha256_file(stored),
    }
    assert "2026-11-02" in evidence.summary


def test_drift_in_a_directory(project: Path) -> None:
    shards = project / "data" / "shards"
    record(shards, default_baseline(project, "shards"), "shards", project, now=RECORDED)
    (shards / "part-0.csv").write_text("id\npoisoned\n")
    (shards / "part-1.csv").unlink()
    (shards / "part-9.csv").write_text("id\n9\n")
    evidence = run([SHARDS], project)
    assert evidence.result == "fail"
    assert rules(evidence) == {
        ("artifact-baseline/changed", "data/shards/part-0.csv", Severity.high),
        ("artifact-baseline/removed", "data/shards/part-1.csv", Severity.high),
        ("artifact-baseline/added", "data/shards/part-9.csv", Severity.medium),
    }
    changed = next(f for f in evidence.findings if f.rule.endswith("changed"))
    assert changed.message == "data/shards/part-0.csv: changed since the baseline of 2026-11-02"
    assert "1 changed, 1 removed, 1 added" in evidence.summary


def test_changed_single_file(project: Path) -> None:
    data = project / "data" / "transactions.csv"
    record(data, default_baseline(project, "transactions"), "transactions", project)
    data.write_text(data.read_text() + "3,0.01\n")
    evidence = run([CSV], project)
    assert rules(evidence) == {
        ("artifact-baseline/changed", "data/transactions.csv", Severity.high)
    }


def test_missing_baseline_says_how_to_record_one(project: Path) -> None:
    evidence = run([CSV], project)
    assert evidence.result == "fail"
    assert rules(evidence) == {("artifact-baseline/missing", "data/transactions.csv", Severity.low)}
    message = evidence.findings[0].message
    assert "`custos baseline data/transactions.csv --name transactions`" in message
    # following the advice (in the project directory, here given as --project) makes it pass
    data = str(project / "data" / "transactions.csv")
    recorded = custos("baseline", data, "--name", "transactions", "--project", str(project))
    assert recorded.code == 0, recorded.err
    assert run([CSV], project).result == "pass"


def test_asset_baseline_file_and_cli_default_name(project: Path) -> None:
    asset = {**CSV, "baseline": "baselines/transactions.json"}
    (project / "custos.yaml").write_text(yaml.safe_dump(document([asset])))
    assert declared_baseline(project, project / "data" / "transactions.csv", None) == (
        "transactions",
        project / "baselines" / "transactions.json",
    )
    missing = run([asset], project)
    assert "no baseline at baselines/transactions.json" in missing.findings[0].message
    # no --name: the CLI finds the asset at PATH and writes the baseline the check reads
    data = str(project / "data" / "transactions.csv")
    recorded = custos("baseline", data, "--project", str(project))
    assert recorded.code == 0, recorded.err
    assert (project / "baselines" / "transactions.json").is_file()
    assert not (project / ".custos" / "baselines").exists()
    assert run([asset], project).result == "pass"


def test_remote_and_log_assets(project: Path) -> None:
    remote = {"id": "hub", "kind": "dataset", "location": "s3://bucket/transactions.csv"}
    assert run([remote], project).result == "not_applicable"
    m = Manifest.model_validate(
        document([{"id": "log", "kind": "log_source", "location": "data/transactions.csv"}])
    )
    assert not CHECK.applies_to(Target(m.systems[0], m.systems[0].assets[0]))


def test_corrupt_baseline_is_an_error_not_a_pass(project: Path) -> None:
    stored = default_baseline(project, "transactions")
    stored.parent.mkdir(parents=True)
    stored.write_text("{not json")
    evidence = run([CSV], project)
    assert evidence.result == "error"


# --- the manifest: `signing:` and the assets' `signature:` / `baseline:` ---------------------


def write_manifest(root: Path, data: dict[str, Any]) -> Path:
    path = root / "custos.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


MODEL = {"id": "fraud", "kind": "model", "location": "data/transactions.csv"}


def problems(root: Path, shipped: Catalog, data: dict[str, Any]) -> list[str]:
    path = write_manifest(root, data)
    with pytest.raises(DataError) as caught:
        load_manifest(path, shipped)
    return caught.value.lines()


def test_signing_section_loads_and_is_optional(project: Path, shipped: Catalog) -> None:
    (project / "keys").mkdir()
    (project / "keys" / "release.pub").write_text("-----BEGIN PUBLIC KEY-----\n")
    path = write_manifest(project, document([MODEL]))
    assert load_manifest(path, shipped).manifest.signing is None
    signing = {"public_key": "keys/release.pub", "ignore_paths": ["README.md"]}
    path = write_manifest(project, document([MODEL], signing=signing))
    loaded = load_manifest(path, shipped).manifest.signing
    assert loaded is not None
    assert loaded.public_key == "keys/release.pub"
    assert loaded.ignore_paths == ["README.md"]


@pytest.mark.parametrize(
    ("signing", "needle"),
    [
        ({}, "give exactly one of public_key, certificate_chain with identity, or sigstore"),
        (
            {"public_key": "k.pub", "sigstore": {"identity": "a@b.example", "issuer": "https://x"}},
            "(found public_key and sigstore)",
        ),
        ({"certificate_chain": ["ca.pem"]}, "certificate_chain needs identity"),
        (
            {"public_key": "k.pub", "identity": "a@b.example"},
            "identity goes with certificate_chain",
        ),
        ({"certificate_chain": [], "identity": "a"}, "at least 1 item"),
        ({"sigstore": {"identity": "a@b.example"}}, "signing.sigstore.issuer: Field required"),
        ({"public_key": "k.pub", "ignore_paths": ["../escape"]}, "must be a path inside the model"),
        ({"public_key": "k.pub", "trust": "all"}, "Extra inputs are not permitted"),
    ],
)
def test_signing_schema_errors_name_the_line(
    project: Path, shipped: Catalog, signing: dict[str, Any], needle: str
) -> None:
    lines = problems(project, shipped, document([MODEL], signing=signing))
    assert any(needle in line for line in lines), lines
    text = (project / "custos.yaml").read_text().splitlines()
    signing_line = next(i for i, line in enumerate(text, 1) if line.startswith("signing:"))
    assert all(line.startswith(f"{project / 'custos.yaml'}:") for line in lines)
    assert any(int(line.split(":")[1]) >= signing_line for line in lines), lines


def test_trust_anchor_files_must_exist(project: Path, shipped: Catalog) -> None:
    lines = problems(project, shipped, document([MODEL], signing={"public_key": "keys/gone.pub"}))
    assert len(lines) == 1
    assert "signing.public_key: public key 'keys/gone.pub' does not exist" in lines[0]
    line_no = int(lines[0].split(":")[1])
    assert (
        (project / "custos.yaml")
        .read_text()
        .splitlines()[line_no - 1]
        .strip()
        .startswith("public_key:")
    )
    chain = {"certificate_chain": ["ca.pem", "ca2.pem"], "identity": "release@acme.example"}
    (project / "ca.pem").write_text("pem\n")
    lines = problems(project, shipped, document([MODEL], signing=chain))
    assert [line.split(": ", 1)[1] for line in lines] == [
        f"signing.certificate_chain: certificate chain file 'ca2.pem' does not exist "
        f"(relative to {project})"
    ]


def test_signature_and_baseline_fields_on_assets(project: Path, shipped: Catalog) -> None:
    dataset = {**CSV, "signature": "data/transactions.csv.sig"}
    lines = problems(project, shipped, document([dataset]))
    assert any("signature: only model assets are signed" in line for line in lines), lines
    endpoint = {"id": "api", "kind": "endpoint", "location": "https://x.example", "baseline": "b"}
    lines = problems(project, shipped, document([endpoint]))
    assert any("baseline: only model, dataset, pipeline, repository" in line for line in lines)
    remote = {"id": "hub", "kind": "model", "location": "https://hub.example/m", "signature": "s"}
    lines = problems(project, shipped, document([remote]))
    assert any("signature: a remote asset" in line for line in lines), lines
    # a signature or baseline not written yet is a finding of the checks, not a manifest error
    later = {**MODEL, "signature": "later.sig", "baseline": "baselines/later.json"}
    path = write_manifest(project, document([later]))
    assert load_manifest(path, shipped).manifest.systems[0].assets[0].signature == "later.sig"

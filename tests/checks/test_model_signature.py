"""model-signature on real models, real keys and real OpenSSF signatures (no mocks)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from custos._hashing import sha256_file
from custos.catalog.catalog import Catalog
from custos.checks.base import CheckContext, Target
from custos.checks.model import Evidence, Severity
from custos.checks.model_signature import ModelSignature
from custos.checks.registry import get_check, run_check
from custos.integrity import sign, write_key_pair
from custos.inventory.schema import Manifest
from tests.integrity.pki import PASSPHRASE, make_ca, make_leaf, make_model

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
CHECK = ModelSignature()


def manifest(assets: list[dict[str, Any]], signing: dict[str, Any] | None = None) -> Manifest:
    data: dict[str, Any] = {
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
    }
    if signing is not None:
        data["signing"] = signing
    return Manifest.model_validate(data)


def run(m: Manifest, root: Path) -> Evidence:
    system = m.systems[0]
    return run_check(CHECK, Target(system, system.assets[0]), CheckContext(m, root, NOW))


def rules(evidence: Evidence) -> set[tuple[str, str, Severity]]:
    return {(f.rule, f.location, f.severity) for f in evidence.findings}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with a signed model directory, the public key in keys/, the private key away."""
    root = tmp_path / "project"
    (root / "keys").mkdir(parents=True)
    secret = write_key_pair(tmp_path / "secret", "release", PASSPHRASE)
    (root / "keys" / "release.pub").write_bytes(secret.public_key.read_bytes())
    model = make_model(root)  # root/fraud-model
    sign(model, secret.private_key, PASSPHRASE)
    return root


MODEL = {"id": "fraud", "kind": "model", "location": "fraud-model"}
TRUST = {"public_key": "keys/release.pub"}


def test_contract(shipped: Catalog) -> None:
    assert get_check("model-signature") is not None
    assert CHECK.version == 1
    assert CHECK.kinds == frozenset({"model"})
    for control in CHECK.evidences:
        assert control in shipped.controls, control
    assert "model-signature" in shipped.control("custos:ai:model-signing").verification.checks


def test_signed_model_passes_and_examines_every_file(project: Path) -> None:
    evidence = run(manifest([MODEL], TRUST), project)
    assert evidence.result == "pass", evidence.findings
    assert evidence.findings == ()
    examined = {e.location: e.sha256 for e in evidence.examined}
    for name in ("weights.bin", "config.json", "tokenizer/vocab.txt", "README.md", "model.sig"):
        path = project / "fraud-model" / name
        assert examined[f"fraud-model/{name}"] == sha256_file(path)
    assert examined["keys/release.pub"] == sha256_file(project / "keys" / "release.pub")
    assert "4 file(s) verified" in evidence.summary


def test_tampered_byte_names_the_file(project: Path) -> None:
    weights = project / "fraud-model" / "weights.bin"
    data = bytearray(weights.read_bytes())
    data[100] ^= 1
    weights.write_bytes(bytes(data))
    evidence = run(manifest([MODEL], TRUST), project)
    assert evidence.result == "fail"
    assert rules(evidence) == {
        ("model-signature/changed", "fraud-model/weights.bin", Severity.high)
    }
    assert evidence.findings[0].message.startswith("fraud-model/weights.bin: digest differs")
    # the evidence pins today's (tampered) bytes, so a later fix makes it stale
    examined = {e.location: e.sha256 for e in evidence.examined}
    assert examined["fraud-model/weights.bin"] == sha256_file(weights)


def test_extra_and_missing_files(project: Path) -> None:
    (project / "fraud-model" / "backdoor.py").write_text("import os\n")
    (project / "fraud-model" / "config.json").unlink()
    evidence = run(manifest([MODEL], TRUST), project)
    assert evidence.result == "fail"
    assert rules(evidence) == {
        ("model-signature/extra", "fraud-model/backdoor.py", Severity.high),
        ("model-signature/missing", "fraud-model/config.json", Severity.high),
    }


def test_unsigned_single_file_model(project: Path) -> None:
    (project / "model.onnx").write_bytes(b"\x08\x07onnx-ish bytes")
    asset = {"id": "onnx", "kind": "model", "location": "model.onnx"}
    evidence = run(manifest([asset], TRUST), project)
    assert evidence.result == "fail"
    assert rules(evidence) == {("model-signature/unsigned", "model.onnx", Severity.high)}
    assert "no signature at model.onnx.sig" in evidence.findings[0].message
    examined = {e.location: e.sha256 for e in evidence.examined}
    assert examined["model.onnx.sig"] is None  # named, nothing to pin yet
    assert examined["model.onnx"] == sha256_file(project / "model.onnx")


def test_signed_by_another_key(project: Path, tmp_path: Path) -> None:
    other = write_key_pair(tmp_path / "other", "other", PASSPHRASE)
    (project / "keys" / "other.pub").write_bytes(other.public_key.read_bytes())
    evidence = run(manifest([MODEL], {"public_key": "keys/other.pub"}), project)
    assert evidence.result == "fail"
    assert rules(evidence) == {("model-signature/identity", "fraud-model/model.sig", Severity.high)}
    assert "signed by another key" in evidence.findings[0].message


def test_forged_signature_file(project: Path) -> None:
    sig = project / "fraud-model" / "model.sig"
    sig.write_text(sig.read_text().replace('"payload":"', '"payload":"AAAA', 1))
    evidence = run(manifest([MODEL], TRUST), project)
    assert evidence.result == "fail"
    assert [f.rule for f in evidence.findings] == ["model-signature/signature"]


def test_left_out_path_needs_ignore_paths(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "keys").mkdir(parents=True)
    secret = write_key_pair(tmp_path / "secret", "release", PASSPHRASE)
    (root / "keys" / "release.pub").write_bytes(secret.public_key.read_bytes())
    model = make_model(root)
    sign(model, secret.private_key, PASSPHRASE, ignore_paths=["README.md"])
    refused = run(manifest([MODEL], TRUST), root)
    # the signer left README.md out: unexpected, and so the file on disk is unsigned too
    assert rules(refused) == {
        ("model-signature/ignored", "fraud-model/README.md", Severity.high),
        ("model-signature/extra", "fraud-model/README.md", Severity.high),
    }
    ignored = next(f for f in refused.findings if f.rule == "model-signature/ignored")
    assert "signing.ignore_paths" in ignored.message
    accepted = run(manifest([MODEL], {**TRUST, "ignore_paths": ["README.md"]}), root)
    assert accepted.result == "pass", accepted.findings


def test_asset_signature_elsewhere(project: Path) -> None:
    (project / "fraud-model" / "model.sig").rename(project / "fraud.sig")
    asset = {**MODEL, "signature": "fraud.sig"}
    evidence = run(manifest([asset], TRUST), project)
    assert evidence.result == "pass", evidence.findings
    assert "fraud.sig" in {e.location for e in evidence.examined}
    # without the asset's `signature:` the default place is empty
    assert rules(run(manifest([MODEL], TRUST), project)) == {
        ("model-signature/unsigned", "fraud-model", Severity.high)
    }


def test_certificate_chain_and_identity(tmp_path: Path) -> None:
    from custos.integrity import sign_with_certificate

    root = tmp_path / "p"
    (root / "pki").mkdir(parents=True)
    ca = make_ca(root / "pki")
    key, cert = make_leaf(tmp_path, ca, "release@kestrel.example")
    model = make_model(root)
    sign_with_certificate(model, key, PASSPHRASE, cert, [ca.pem])
    chain = [ca.pem.relative_to(root).as_posix()]
    good = {"certificate_chain": chain, "identity": "release@kestrel.example"}
    assert run(manifest([MODEL], good), root).result == "pass"
    bad = run(manifest([MODEL], {**good, "identity": "intern@kestrel.example"}), root)
    assert [f.rule for f in bad.findings] == ["model-signature/identity"]


def test_no_trusted_key_configured(project: Path) -> None:
    evidence = run(manifest([MODEL]), project)
    assert evidence.result == "fail"
    assert rules(evidence) == {("model-signature/no-trusted-key", "fraud-model", Severity.medium)}
    message = evidence.findings[0].message
    assert "`signing: {public_key:" in message
    assert "is signed" in message  # it says a signature exists, and still does not trust it


def test_remote_model_is_not_applicable(project: Path) -> None:
    asset = {"id": "hub", "kind": "model", "location": "https://huggingface.co/acme/fraud"}
    evidence = run(manifest([asset], TRUST), project)
    assert evidence.result == "not_applicable"
    assert evidence.findings == ()


def test_glob_verifies_each_model_and_skips_signatures(project: Path) -> None:
    (project / "models").mkdir()
    for name in ("a.onnx", "b.onnx"):
        (project / "models" / name).write_bytes(name.encode() * 10)
    secret = project.parent / "secret"
    sign(project / "models" / "a.onnx", secret / "release.key", PASSPHRASE)
    asset = {"id": "onnx", "kind": "model", "location": "models/*"}
    evidence = run(manifest([asset], TRUST), project)
    assert rules(evidence) == {("model-signature/unsigned", "models/b.onnx", Severity.high)}
    assert "2 model(s)" in evidence.summary


def test_unreadable_public_key_is_an_error_not_a_pass(project: Path) -> None:
    (project / "keys" / "release.pub").write_text("not a key\n")
    evidence = run(manifest([MODEL], TRUST), project)
    assert evidence.result == "error"

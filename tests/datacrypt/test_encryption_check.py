"""The `encryption` check on real files: plaintext under a confidential or restricted
classification, files under an unknown or retired KEK, a tampered file (critical), a file that
verifies, and one whose KEK is not at hand in the run (said, not guessed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from custos.checks.base import CheckContext, Target
from custos.checks.encryption import Encryption
from custos.checks.model import Evidence, Severity
from custos.checks.registry import run_check
from custos.datacrypt.keks import Keks
from custos.datacrypt.stream import encrypt_file
from custos.inventory.schema import Manifest

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
PASSPHRASE = "correct horse battery staple"  # noqa: S105 (a test passphrase)


def _run(root: Path, location: str, classification: str | None) -> Evidence:
    asset: dict[str, Any] = {"id": "data", "kind": "dataset", "location": location}
    if classification:
        asset["classification"] = classification
    manifest = Manifest.model_validate({
        "organisation": {"name": "Acme", "scope": "Fraud"},
        "systems": [{"id": "scorer", "name": "Scorer", "purpose": "Scores payments",
                     "lifecycle": "production", "eu_ai_act": {"role": "provider", "tier": "high"},
                     "assets": [asset]}],
    })  # fmt: skip
    system = manifest.systems[0]
    return run_check(
        Encryption(), Target(system, system.assets[0]), CheckContext(manifest, root, NOW)
    )


def _rules(evidence: Evidence) -> dict[str, Severity]:
    return {f.rule: f.severity for f in evidence.findings}


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CUSTOS_KEK_PASSPHRASE", PASSPHRASE)
    (tmp_path / "plain.csv").write_text("id,card\n1,4111111111111111\n")
    keks = Keks(tmp_path, lambda: PASSPHRASE.encode())
    keks.create("k-old", None, NOW)
    keks.create("k-new", None, NOW)
    encrypt_file(tmp_path / "plain.csv", tmp_path / "old.cenc", "k-old", keks.key("k-old"))
    encrypt_file(tmp_path / "plain.csv", tmp_path / "new.cenc", "k-new", keks.key("k-new"))
    keks.retire("k-old")
    return tmp_path


def test_plaintext_is_a_finding_by_classification(root: Path) -> None:
    assert _rules(_run(root, "plain.csv", "restricted")) == {"encryption/plaintext": Severity.high}
    assert _rules(_run(root, "plain.csv", "confidential")) == {
        "encryption/plaintext": Severity.medium
    }
    assert _run(root, "plain.csv", "internal").result == "not_applicable"


def test_encrypted_files_verify_or_are_reported(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = _run(root, "new.cenc", "restricted")
    assert good.result == "pass", good.findings
    assert _rules(good) == {}
    assert _rules(_run(root, "old.cenc", "restricted")) == {
        "encryption/retired-kek": Severity.medium
    }

    raw = bytearray((root / "new.cenc").read_bytes())
    raw[-5] ^= 1
    (root / "bad.cenc").write_bytes(bytes(raw))
    bad = _run(root, "bad.cenc", "restricted")
    assert bad.result == "fail"
    assert _rules(bad) == {"encryption/authentication-failed": Severity.critical}

    (root / ".custos" / "keks.json").write_text('{"keks": []}')
    assert _rules(_run(root, "new.cenc", "restricted")) == {"encryption/unknown-kek": Severity.high}


def test_a_kek_not_at_hand_is_said(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTOS_KEK_PASSPHRASE")
    evidence = _run(root, "new.cenc", "restricted")
    assert evidence.result == "pass"
    (finding,) = evidence.findings
    assert (finding.rule, finding.severity) == ("encryption/not-verified", Severity.info)
    assert "CUSTOS_KEK_PASSPHRASE" in finding.message

"""The `encryption` check on real files: plaintext under a confidential or restricted
classification, files under an unknown or retired KEK, a tampered file (critical), a file that
verifies, and one whose KEK is not at hand in the run (said, not guessed)."""

from __future__ import annotations

import datetime as dt
import os
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


def test_age_files_verify_through_pyrage(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """age files written by pyrage (the reference age implementation's Python binding) verify
    with the right identity, from the variable or from an identity file, and a changed byte,
    a cut file or another recipient's file is reported."""
    import pyrage  # a dev dependency: the test fails, not skips, without it

    ours, theirs = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    data = os.urandom(200_000) + b"id,card\n1,4111111111111111\n"
    (root / "ok.age").write_bytes(pyrage.encrypt(data, [ours.to_public()]))
    (root / "theirs.age").write_bytes(pyrage.encrypt(data, [theirs.to_public()]))
    raw = bytearray((root / "ok.age").read_bytes())
    raw[len(raw) // 2] ^= 1
    (root / "flipped.age").write_bytes(bytes(raw))
    (root / "cut.age").write_bytes(bytes(raw[: len(raw) - 40]))

    monkeypatch.delenv("CUSTOS_AGE_IDENTITY", raising=False)
    unverified = _run(root, "ok.age", "restricted")
    assert _rules(unverified) == {"encryption/age-not-verified": Severity.info}
    assert unverified.result == "pass"

    identity_file = root / "keys.txt"
    identity_file.write_text(f"# created: today\n# public key: {ours.to_public()}\n{ours}\n")
    for value in (str(ours), str(identity_file)):
        monkeypatch.setenv("CUSTOS_AGE_IDENTITY", value)
        verified = _run(root, "ok.age", "restricted")
        assert (verified.result, _rules(verified)) == ("pass", {})
    assert _rules(_run(root, "theirs.age", "restricted")) == {
        "encryption/age-unknown-recipient": Severity.high
    }
    for name in ("flipped.age", "cut.age"):
        failed = _run(root, name, "restricted")
        assert failed.result == "fail"
        assert _rules(failed) == {"encryption/authentication-failed": Severity.critical}

    monkeypatch.setenv("CUSTOS_AGE_IDENTITY", "AGE-SECRET-KEY-1NOTAKEY")
    broken = _run(root, "ok.age", "restricted")
    assert broken.result == "error"
    assert "not an age X25519 secret key" in broken.summary
    assert "NOTAKEY" not in broken.summary

"""`custos keys generate | sign | verify | baseline` run as a user would, exit codes included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.run import Result, custos
from tests.integrity.pki import PASSPHRASE, make_ca, make_leaf, make_model

ENV = {"CUSTOS_SIGNING_PASSPHRASE": PASSPHRASE.decode()}


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    result = custos("keys", "generate", "--out-dir", str(tmp_path / "keys"), "--name", "rel",
                    env=ENV)  # fmt: skip
    assert result.code == 0, result.err
    return tmp_path / "keys" / "rel.key", tmp_path / "keys" / "rel.pub"


def _sign(model: Path, key: Path, *extra: str) -> Result:
    return custos("sign", str(model), "--key", str(key), *extra, env=ENV)


def test_keys_generate_writes_encrypted_key_and_refuses_overwrite(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    private, public = keys
    assert private.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert oct(private.stat().st_mode & 0o777) == "0o600"
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    again = custos("keys", "generate", "--out-dir", str(private.parent), "--name", "rel", env=ENV)
    assert again.code == 2
    assert "already exists" in again.err


def test_keys_generate_prompts_with_confirmation(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CUSTOS_SIGNING_PASSPHRASE"}
    args = [sys.executable, "-m", "custos", "keys", "generate", "--out-dir", str(tmp_path)]
    # A new session has no controlling terminal, so the prompt reads stdin.
    ok = subprocess.run(args, input="a long passphrase\na long passphrase\n", text=True,
                        capture_output=True, env=env, start_new_session=True, timeout=60,
                        check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "Repeat for confirmation" in ok.stderr
    assert "a long passphrase" not in ok.stdout
    assert (tmp_path / "custos-signing.key").exists()


def test_sign_and_verify_round_trip_then_tamper(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, public = keys
    model = make_model(tmp_path)
    signed = _sign(model, private)
    assert signed.code == 0, signed.err
    assert (model / "model.sig").is_file()
    assert "signed" in signed.out

    ok = custos("verify", str(model), "--key", str(public))
    assert ok.code == 0, ok.out + ok.err
    assert "verified" in ok.out

    (model / "weights.bin").write_bytes(b"tampered")
    (model / "tokenizer" / "vocab.txt").unlink()
    (model / "evil.pkl").write_bytes(b"\x80\x04.")
    bad = custos("verify", str(model), "--key", str(public))
    assert bad.code == 1
    for name in ("weights.bin", "tokenizer/vocab.txt", "evil.pkl"):
        assert name in bad.out
    assert "Traceback" not in bad.err

    report = custos("verify", str(model), "--key", str(public), "--format", "json").json()
    assert report["ok"] is False
    assert {(d["kind"], d["path"]) for d in report["differences"]} == {
        ("changed", "weights.bin"),
        ("missing", "tokenizer/vocab.txt"),
        ("extra", "evil.pkl"),
    }


def test_verify_failure_modes_exit_1(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, public = keys
    model = make_model(tmp_path)
    unsigned = custos("verify", str(model), "--key", str(public), "--format", "json")
    assert unsigned.code == 1
    assert unsigned.json()["differences"][0]["kind"] == "unsigned"

    assert _sign(model, private, "--ignore", "README.md").code == 0
    strict = custos("verify", str(model), "--key", str(public), "--format", "json")
    assert strict.code == 1
    assert ("ignored", "README.md") in {
        (d["kind"], d["path"]) for d in strict.json()["differences"]
    }
    lenient = custos("verify", str(model), "--key", str(public), "--ignore", "README.md")
    assert lenient.code == 0, lenient.out

    other = custos("keys", "generate", "--out-dir", str(tmp_path / "o"), "--name", "o", env=ENV)
    assert other.code == 0
    wrong = custos("verify", str(model), "--key", str(tmp_path / "o" / "o.pub"))
    assert wrong.code == 1
    assert "another key" in wrong.out


def test_usage_errors_exit_2(tmp_path: Path, keys: tuple[Path, Path]) -> None:
    private, public = keys
    model = make_model(tmp_path)
    wrong = custos("sign", str(model), "--key", str(private),
                   env={"CUSTOS_SIGNING_PASSPHRASE": "not the passphrase"})  # fmt: skip
    assert wrong.code == 2
    assert "wrong passphrase" in wrong.err
    assert not (model / "model.sig").exists()
    assert custos("sign", str(model)).code == 2
    assert custos("sign", str(model), "--sigstore", "--key", str(private)).code == 2
    assert custos("verify", str(model)).code == 2
    assert custos("verify", str(model), "--cert-chain", str(public)).code == 2
    missing = custos("verify", str(tmp_path / "nope"), "--key", str(public))
    assert missing.code == 2
    assert "no such file" in missing.err


def test_certificate_flow(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    key, cert = make_leaf(tmp_path, ca, "release@example.com")
    model = make_model(tmp_path)
    signed = custos("sign", str(model), "--key", str(key), "--cert", str(cert), "--chain",
                    str(ca.pem), "--format", "json", env=ENV)  # fmt: skip
    assert signed.code == 0, signed.err
    assert signed.json()["method"] == "certificate"
    assert signed.json()["signature"] == str(model / "model.sig")
    ok = custos("verify", str(model), "--cert-chain", str(ca.pem), "--identity",
                "release@example.com")  # fmt: skip
    assert ok.code == 0, ok.out
    impostor = custos("verify", str(model), "--cert-chain", str(ca.pem), "--identity",
                      "ceo@example.com")  # fmt: skip
    assert impostor.code == 1
    assert "release@example.com" in impostor.out


def test_baseline_record_check_and_drift(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    project = ["--project", str(tmp_path)]
    recorded = custos("baseline", str(model), "--name", "fraud", *project)
    assert recorded.code == 0, recorded.err
    assert (tmp_path / ".custos" / "baselines" / "fraud.json").is_file()
    clean = custos("baseline", str(model), "--name", "fraud", "--check", *project)
    assert clean.code == 0, clean.out
    assert "no drift" in clean.out

    (model / "weights.bin").write_bytes(b"retrained")
    (model / "notes.txt").write_text("new")
    drifted = custos("baseline", str(model), "--name", "fraud", "--check", *project,
                     "--format", "json")  # fmt: skip
    assert drifted.code == 1
    assert drifted.json()["changed"] == ["weights.bin"]
    assert drifted.json()["added"] == ["notes.txt"]

    never = custos("baseline", str(model), "--name", "other", "--check", *project)
    assert never.code == 2
    assert "no baseline recorded yet" in never.err

"""Sign and verify with real keys on real files: every failure mode is a named difference."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import model_signing
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from custos.errors import UserError
from custos.integrity.keys import KeyFiles, write_key_pair
from custos.integrity.sign import default_signature_path, sign
from custos.integrity.verify import ExpectedKey, VerifyResult, compare, verify
from tests.integrity.pki import PASSPHRASE


def _kinds(result: VerifyResult) -> list[tuple[str, str | None]]:
    return [(d.kind, d.path) for d in result.differences]


def _signed(model: Path, keys: KeyFiles, **kwargs: object) -> Path:
    result = sign(model, keys.private_key, PASSPHRASE, **kwargs)  # type: ignore[arg-type]
    return result.signature


def test_sign_then_verify_a_directory(model: Path, keys: KeyFiles) -> None:
    result = sign(model, keys.private_key, PASSPHRASE, ignore_paths=["README.md"])
    assert result.signature == model / "model.sig"
    assert result.resources == 3
    assert "README.md" in result.ignored
    assert "model.sig" in result.ignored
    checked = verify(model, ExpectedKey(keys.public_key), accept_ignored=["README.md"])
    assert checked.ok, checked.differences
    assert checked.files == 3
    assert checked.signer == f"key {keys.key_id}"


def test_sign_then_verify_a_single_file(tmp_path: Path, keys: KeyFiles) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\x00" * 1000)
    assert default_signature_path(weights) == tmp_path / "model.safetensors.sig"
    _signed(weights, keys)
    assert verify(weights, ExpectedKey(keys.public_key)).ok
    weights.write_bytes(b"\x00" * 999 + b"\x01")
    assert _kinds(verify(weights, ExpectedKey(keys.public_key))) == [
        ("changed", "model.safetensors")
    ]


def test_unsigned_model_fails(model: Path, keys: KeyFiles) -> None:
    result = verify(model, ExpectedKey(keys.public_key))
    assert not result.ok
    assert _kinds(result) == [("unsigned", None)]
    assert "unsigned" in str(result.differences[0])


def test_a_changed_byte_names_the_file(model: Path, keys: KeyFiles) -> None:
    _signed(model, keys)
    data = bytearray((model / "weights.bin").read_bytes())
    data[12345] ^= 0x01
    (model / "weights.bin").write_bytes(bytes(data))
    result = verify(model, ExpectedKey(keys.public_key))
    assert _kinds(result) == [("changed", "weights.bin")]
    assert str(result.differences[0]).startswith("weights.bin: digest differs (signed ")


def test_an_extra_file_is_named(model: Path, keys: KeyFiles) -> None:
    _signed(model, keys)
    (model / "tokenizer" / "merges.txt").write_text("x y\n")
    assert _kinds(verify(model, ExpectedKey(keys.public_key))) == [
        ("extra", "tokenizer/merges.txt")
    ]


def test_a_missing_file_is_named(model: Path, keys: KeyFiles) -> None:
    _signed(model, keys)
    (model / "config.json").unlink()
    assert _kinds(verify(model, ExpectedKey(keys.public_key))) == [("missing", "config.json")]


def test_all_differences_are_reported_together(model: Path, keys: KeyFiles) -> None:
    _signed(model, keys)
    (model / "config.json").write_text("{}")
    (model / "README.md").unlink()
    (model / "payload.pkl").write_bytes(b"\x80\x04.")
    assert _kinds(verify(model, ExpectedKey(keys.public_key))) == [
        ("missing", "README.md"),
        ("changed", "config.json"),
        ("extra", "payload.pkl"),
    ]


def test_unexpected_ignore_path_in_signature_fails(model: Path, keys: KeyFiles) -> None:
    # A signer that leaves README.md out: the verifier did not agree, so it fails, and the
    # unsigned file is reported as extra because it is checked like any other.
    _signed(model, keys, ignore_paths=["README.md"])
    result = verify(model, ExpectedKey(keys.public_key))
    assert _kinds(result) == [("ignored", "README.md"), ("extra", "README.md")]
    assert verify(model, ExpectedKey(keys.public_key), accept_ignored=["README.md"]).ok


def test_ignored_directory_hides_nothing_the_verifier_did_not_accept(
    model: Path, keys: KeyFiles
) -> None:
    _signed(model, keys, ignore_paths=["tokenizer"])
    (model / "tokenizer" / "vocab.txt").write_text("tampered")
    assert _kinds(verify(model, ExpectedKey(keys.public_key))) == [
        ("ignored", "tokenizer"),
        ("extra", "tokenizer/vocab.txt"),
    ]
    assert verify(model, ExpectedKey(keys.public_key), accept_ignored=["tokenizer"]).ok


def test_verifier_accepted_paths_are_not_compared(model: Path, keys: KeyFiles) -> None:
    _signed(model, keys)  # README.md is signed
    (model / "README.md").write_text("edited docs")
    assert not verify(model, ExpectedKey(keys.public_key)).ok
    assert verify(model, ExpectedKey(keys.public_key), accept_ignored=["README.md"]).ok


def test_signature_by_another_key_fails(tmp_path: Path, model: Path, keys: KeyFiles) -> None:
    _signed(model, keys)
    other = write_key_pair(tmp_path / "other", "other", PASSPHRASE)
    result = verify(model, ExpectedKey(other.public_key))
    assert _kinds(result) == [("identity", None)]
    assert "signed by another key" in result.differences[0].message


def test_forged_signature_without_key_hint_still_fails(
    tmp_path: Path, model: Path, keys: KeyFiles
) -> None:
    signature = _signed(model, keys)
    bundle = json.loads(signature.read_text())
    other = write_key_pair(tmp_path / "other", "other", PASSPHRASE)
    del bundle["verificationMaterial"]["publicKey"]["hint"]
    signature.write_text(json.dumps(bundle))
    result = verify(model, ExpectedKey(other.public_key))
    assert _kinds(result) == [("signature", None)]
    assert "does not verify" in result.differences[0].message


def test_tampered_manifest_in_signature_fails(model: Path, keys: KeyFiles) -> None:
    # Rewrite the signed statement so it matches a modified weights.bin: the DSSE signature
    # over the payload no longer verifies.
    signature = _signed(model, keys)
    (model / "weights.bin").write_bytes(b"evil")
    bundle = json.loads(signature.read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    for resource in statement["predicate"]["resources"]:
        if resource["name"] == "weights.bin":
            resource["digest"] = "e0c5e6a0ae5e1c4f3f2a7e8c1f8f0b8b1b0d5a5a6f9c1a9c4f5b1c3f0e6e0a51"
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    signature.write_text(json.dumps(bundle))
    assert _kinds(verify(model, ExpectedKey(keys.public_key))) == [("signature", None)]


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"mediaType": "x"}'])
def test_garbage_signature_fails_closed(model: Path, keys: KeyFiles, content: str) -> None:
    (model / "model.sig").write_text(content)
    result = verify(model, ExpectedKey(keys.public_key))
    assert [d.kind for d in result.differences] == ["signature"]


def test_signature_outside_the_model(tmp_path: Path, model: Path, keys: KeyFiles) -> None:
    outside = tmp_path / "fraud-model.sig"
    result = sign(model, keys.private_key, PASSPHRASE, signature_path=outside)
    assert "model.sig" not in result.ignored
    assert verify(model, ExpectedKey(keys.public_key), signature_path=outside).ok
    # Without --signature the default location is empty: unsigned.
    assert _kinds(verify(model, ExpectedKey(keys.public_key))) == [("unsigned", None)]


def test_bad_inputs_are_user_errors(tmp_path: Path, model: Path, keys: KeyFiles) -> None:
    with pytest.raises(UserError, match="no such file"):
        verify(tmp_path / "nope", ExpectedKey(keys.public_key))
    with pytest.raises(UserError, match="no such file"):
        sign(tmp_path / "nope", keys.private_key, PASSPHRASE)
    with pytest.raises(UserError, match="not inside the model"):
        sign(model, keys.private_key, PASSPHRASE, ignore_paths=[tmp_path / "elsewhere"])
    with pytest.raises(UserError, match="inside the model"):
        sign(model, keys.private_key, PASSPHRASE, ignore_paths=["../x"])
    _signed(model, keys)
    with pytest.raises(UserError, match="public key file not found"):
        verify(model, ExpectedKey(tmp_path / "missing.pub"))


def test_symlink_in_model_is_refused(model: Path, keys: KeyFiles) -> None:
    (model / "link.bin").symlink_to(model / "weights.bin")
    with pytest.raises(UserError, match="symlink"):
        sign(model, keys.private_key, PASSPHRASE)


def test_model_signing_accepts_custos_signatures(model: Path, keys: KeyFiles) -> None:
    _signed(model, keys)
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=keys.public_key).verify(
        model, model / "model.sig"
    )
    # And it rejects them after a change, as Custos does.
    (model / "config.json").write_text("{}")
    with pytest.raises(ValueError, match=r"config\.json"):
        model_signing.verifying.Config().use_elliptic_key_verifier(
            public_key=keys.public_key
        ).verify(model, model / "model.sig")


def test_custos_verifies_model_signing_cli_signatures(tmp_path: Path, model: Path) -> None:
    # The model_signing CLI takes a key file (and a str password it cannot use), so give it
    # an unencrypted key of its own.
    key = ec.generate_private_key(ec.SECP256R1())
    private = tmp_path / "ms.key"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = tmp_path / "ms.pub"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    signature = tmp_path / "ms.sig"
    proc = subprocess.run(
        [sys.executable, "-m", "model_signing", "sign", "key", str(model),
         "--private_key", str(private), "--signature", str(signature)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert verify(model, ExpectedKey(public), signature_path=signature).ok
    (model / "weights.bin").write_bytes(b"changed")
    assert _kinds(verify(model, ExpectedKey(public), signature_path=signature)) == [
        ("changed", "weights.bin")
    ]


def test_sharded_signatures_are_compared_per_file(model: Path, keys: KeyFiles) -> None:
    # model-signing can hash files in shards; differences are still named by file.
    (model / "weights.bin").write_bytes(b"w" * 10_000)
    model_signing.signing.Config().use_elliptic_key_signer(
        private_key=keys.private_key,
        password=PASSPHRASE,  # type: ignore[arg-type]
    ).set_hashing_config(
        model_signing.hashing.Config().use_shard_serialization(shard_size=4096)
    ).sign(model, model / "model.sig")
    assert verify(model, ExpectedKey(keys.public_key)).ok
    data = bytearray((model / "weights.bin").read_bytes())
    data[9000] = 0
    (model / "weights.bin").write_bytes(bytes(data))
    assert _kinds(verify(model, ExpectedKey(keys.public_key))) == [("changed", "weights.bin")]


def test_compare_is_pure_and_groups_shards_by_file() -> None:
    signed = {"a.bin:0:4": "1", "a.bin:4:8": "2", "b.bin:0:4": "3", "gone.bin:0:1": "4"}
    actual = {"a.bin:0:4": "1", "a.bin:4:8": "X", "b.bin:0:4": "3", "new.bin:0:2": "5"}
    assert [(d.kind, d.path) for d in compare(signed, actual, sharded=True)] == [
        ("changed", "a.bin"),
        ("missing", "gone.bin"),
        ("extra", "new.bin"),
    ]
    assert compare({".": "1"}, {".": "2"}, "w.bin")[0].path == "w.bin"
    assert compare(signed, dict(signed), sharded=True) == []
    # Without sharding a colon is just part of a file name.
    assert [(d.kind, d.path) for d in compare({"a:1:2": "1"}, {"a:1:2": "2"})] == [
        ("changed", "a:1:2")
    ]


@pytest.mark.parametrize("algorithm", ["blake2", "blake3"])
def test_other_hash_algorithms_from_model_signing(
    model: Path, keys: KeyFiles, algorithm: str
) -> None:
    model_signing.signing.Config().use_elliptic_key_signer(
        private_key=keys.private_key,
        password=PASSPHRASE,  # type: ignore[arg-type]
    ).set_hashing_config(
        model_signing.hashing.Config().use_file_serialization(
            hashing_algorithm=algorithm  # type: ignore[arg-type]
        )
    ).sign(model, model / "model.sig")
    assert verify(model, ExpectedKey(keys.public_key)).ok
    (model / "config.json").write_text("{}")
    assert _kinds(verify(model, ExpectedKey(keys.public_key))) == [("changed", "config.json")]


def test_package_surface_is_sorted_and_complete() -> None:
    import types

    import custos.integrity

    public = {
        name
        for name, value in vars(custos.integrity).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert sorted(custos.integrity.__all__) == custos.integrity.__all__
    assert set(custos.integrity.__all__) == public - {"annotations"}

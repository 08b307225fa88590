"""Key generation, storage and loading: encryption, file modes, no overwrite, clear errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from custos.errors import UserError
from custos.integrity.keys import (
    PASSPHRASE_ENV,
    KeyFiles,
    key_id,
    load_private_key,
    load_public_key,
    passphrase_from_env,
    write_key_pair,
)
from tests.integrity.pki import PASSPHRASE


def test_generated_pair_is_p256_encrypted_and_private(keys: KeyFiles) -> None:
    pem = keys.private_key.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(keys.private_key.stat().st_mode) == 0o600
    private = load_private_key(keys.private_key, PASSPHRASE)
    public = load_public_key(keys.public_key)
    assert private.curve.name == "secp256r1"
    assert private.public_key() == public
    assert keys.key_id == key_id(public)
    # The encrypted PEM really needs the passphrase.
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(pem, None)


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "release.pub").write_text("keep me")
    with pytest.raises(UserError, match=r"release\.pub: already exists"):
        write_key_pair(tmp_path, "release", PASSPHRASE)
    assert (tmp_path / "release.pub").read_text() == "keep me"
    assert not (tmp_path / "release.key").exists()


def test_a_second_generation_with_the_same_name_fails(keys: KeyFiles) -> None:
    before = keys.private_key.read_bytes()
    with pytest.raises(UserError, match="already exists"):
        write_key_pair(keys.private_key.parent, "release", PASSPHRASE)
    assert keys.private_key.read_bytes() == before


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".hidden"])
def test_key_names_are_plain_file_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(UserError, match="--name"):
        write_key_pair(tmp_path, name, PASSPHRASE)


def test_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="at least 8"):
        write_key_pair(tmp_path, "k", b"short")
    assert list(tmp_path.iterdir()) == []


def test_wrong_passphrase_is_a_clear_user_error(keys: KeyFiles) -> None:
    with pytest.raises(UserError) as err:
        load_private_key(keys.private_key, b"not the passphrase")
    assert str(err.value) == f"{keys.private_key}: wrong passphrase for the private key"


def test_missing_passphrase_names_the_environment_variable(keys: KeyFiles) -> None:
    with pytest.raises(UserError, match=PASSPHRASE_ENV):
        load_private_key(keys.private_key, None)


def test_unencrypted_and_non_ec_keys_are_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain.key"
    plain.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(UserError, match="not encrypted"):
        load_private_key(plain, PASSPHRASE)
    rsa_key = tmp_path / "rsa.key"
    rsa_key.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE),
        )
    )
    with pytest.raises(UserError, match="not an elliptic-curve key"):
        load_private_key(rsa_key, PASSPHRASE)


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="private key file not found"):
        load_private_key(tmp_path / "nope.key", PASSPHRASE)
    junk = tmp_path / "junk.pub"
    junk.write_text("hello")
    with pytest.raises(UserError, match="not a PEM public key"):
        load_public_key(junk)


def test_passphrase_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    assert passphrase_from_env() is None
    monkeypatch.setenv(PASSPHRASE_ENV, "from the environment")
    assert passphrase_from_env() == b"from the environment"

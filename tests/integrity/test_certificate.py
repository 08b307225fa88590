"""Certificate-based signing, offline: a tiny CA and leaf built with cryptography."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.errors import UserError
from custos.integrity.keys import KeyFiles
from custos.integrity.sign import sign_with_certificate
from custos.integrity.verify import ExpectedCertificate, ExpectedKey, verify
from tests.integrity.pki import PASSPHRASE, make_ca, make_leaf

SIGNER = "ml-release@example.com"


def test_certificate_flow(tmp_path: Path, model: Path) -> None:
    ca = make_ca(tmp_path)
    key, cert = make_leaf(tmp_path, ca, SIGNER)
    result = sign_with_certificate(model, key, PASSPHRASE, cert, [ca.pem])
    assert result.method == "certificate"
    assert "model release signer" in result.signer
    checked = verify(model, ExpectedCertificate((ca.pem,), SIGNER))
    assert checked.ok, checked.differences
    assert checked.signer == SIGNER
    assert checked.files == 4

    (model / "weights.bin").write_bytes(b"swapped")
    changed = verify(model, ExpectedCertificate((ca.pem,), SIGNER))
    assert [(d.kind, d.path) for d in changed.differences] == [("changed", "weights.bin")]


def test_wrong_identity_fails(tmp_path: Path, model: Path) -> None:
    ca = make_ca(tmp_path)
    key, cert = make_leaf(tmp_path, ca, "intern@example.com")
    sign_with_certificate(model, key, PASSPHRASE, cert, [])
    result = verify(model, ExpectedCertificate((ca.pem,), SIGNER))
    assert [d.kind for d in result.differences] == ["identity"]
    assert "intern@example.com" in result.differences[0].message


def test_certificate_from_another_ca_fails(tmp_path: Path, model: Path) -> None:
    trusted = make_ca(tmp_path, "Trusted Root")
    rogue = make_ca(tmp_path, "Rogue Root")
    key, cert = make_leaf(tmp_path, rogue, SIGNER)
    sign_with_certificate(model, key, PASSPHRASE, cert, [rogue.pem])
    result = verify(model, ExpectedCertificate((trusted.pem,), SIGNER))
    assert [d.kind for d in result.differences] == ["signature"]
    assert "certificate chain" in result.differences[0].message


def test_key_expected_but_certificate_used(tmp_path: Path, model: Path, keys: KeyFiles) -> None:
    ca = make_ca(tmp_path)
    key, cert = make_leaf(tmp_path, ca, SIGNER)
    sign_with_certificate(model, key, PASSPHRASE, cert, [])
    result = verify(model, ExpectedKey(keys.public_key))
    assert [d.kind for d in result.differences] == ["identity"]


def test_certificate_must_match_the_key(tmp_path: Path, model: Path) -> None:
    ca = make_ca(tmp_path)
    key, _ = make_leaf(tmp_path, ca, SIGNER)
    _, other_cert = make_leaf(tmp_path, ca, "other@example.com")
    with pytest.raises(UserError, match="not for key"):
        sign_with_certificate(model, key, PASSPHRASE, other_cert, [])
    assert not (model / "model.sig").exists()


def test_certificate_must_allow_signing(tmp_path: Path, model: Path) -> None:
    ca = make_ca(tmp_path)
    key, cert = make_leaf(tmp_path, ca, SIGNER, can_sign=False)
    with pytest.raises(UserError, match="does not allow signing"):
        sign_with_certificate(model, key, PASSPHRASE, cert, [])


def test_wrong_passphrase_for_certificate_key(tmp_path: Path, model: Path) -> None:
    ca = make_ca(tmp_path)
    key, cert = make_leaf(tmp_path, ca, SIGNER)
    with pytest.raises(UserError, match="wrong passphrase"):
        sign_with_certificate(model, key, b"guess guess", cert, [])


def test_not_a_certificate(tmp_path: Path, model: Path) -> None:
    ca = make_ca(tmp_path)
    key, _ = make_leaf(tmp_path, ca, SIGNER)
    junk = tmp_path / "junk.crt"
    junk.write_text("nope")
    with pytest.raises(UserError, match="no PEM certificate"):
        sign_with_certificate(model, key, PASSPHRASE, junk, [])


def test_unusable_trust_chain_is_a_user_error(tmp_path: Path, model: Path) -> None:
    ca = make_ca(tmp_path)
    key, cert = make_leaf(tmp_path, ca, SIGNER)
    sign_with_certificate(model, key, PASSPHRASE, cert, [])
    with pytest.raises(UserError, match="chain file not found"):
        verify(model, ExpectedCertificate((tmp_path / "nope.pem",), SIGNER))
    with pytest.raises(UserError, match="chain is needed"):
        verify(model, ExpectedCertificate((), SIGNER))

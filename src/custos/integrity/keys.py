"""Signing keys: EC P-256 key pairs, the private half always encrypted with a passphrase.

The passphrase comes from `CUSTOS_SIGNING_PASSPHRASE` or, in the CLI, a prompt. A decrypted key
only ever lives in memory: signing hands the key object to model-signing, never a plaintext file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from custos.errors import UserError

PASSPHRASE_ENV = "CUSTOS_SIGNING_PASSPHRASE"  # noqa: S105 (a variable name)
# The curves model-signing (and Sigstore's bundle spec) accept for EC keys.
SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")
MIN_PASSPHRASE = 8


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes  # PKCS#8, encrypted
    public_pem: bytes  # SubjectPublicKeyInfo


@dataclass(frozen=True)
class KeyFiles:
    private_key: Path
    public_key: Path
    key_id: str


def generate_key_pair(passphrase: bytes) -> KeyPair:
    """A fresh EC P-256 key pair; the private PEM is encrypted with `passphrase`."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise UserError(f"the signing passphrase must be at least {MIN_PASSPHRASE} characters")
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    return KeyPair(private_pem, public_pem(key.public_key()))


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: ec.EllipticCurvePublicKey) -> str:
    """SHA-256 of the public PEM: the `hint` model-signing records in a key-signed bundle."""
    return hashlib.sha256(public_pem(key)).hexdigest()


def write_key_pair(out_dir: Path, name: str, passphrase: bytes) -> KeyFiles:
    """Write `<name>.key` (mode 0600) and `<name>.pub`; never overwrite an existing file."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise UserError(f"--name {name!r}: use a plain file name such as 'custos-signing'")
    private_path = out_dir / f"{name}.key"
    public_path = out_dir / f"{name}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise UserError(f"{path}: already exists; choose another --name or --out-dir")
    pair = generate_key_pair(passphrase)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_new(private_path, pair.private_pem, 0o600)
    _write_new(public_path, pair.public_pem, 0o644)
    public = serialization.load_pem_public_key(pair.public_pem)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    return KeyFiles(private_path, public_path, key_id(public))


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: a file that appeared since the check above is still never overwritten, and the
    # mode is set at creation so the private key is never readable by others, even briefly.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise UserError(f"{path}: already exists; choose another --name or --out-dir") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def passphrase_from_env() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode() if value else None


def load_private_key(path: Path, passphrase: bytes | None) -> ec.EllipticCurvePrivateKey:
    """Decrypt a PEM private key in memory; every failure is a one-line `UserError`."""
    data = _read(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, passphrase)
    except TypeError:
        # cryptography says TypeError both for "encrypted but no password" and the reverse.
        if passphrase is None:
            raise UserError(
                f"{path}: the private key is encrypted; set {PASSPHRASE_ENV} or enter the "
                "passphrase when prompted"
            ) from None
        raise UserError(
            f"{path}: the private key is not encrypted; Custos only signs with encrypted keys "
            "(create one with `custos keys generate`)"
        ) from None
    except ValueError:
        if passphrase is not None and b"ENCRYPTED" in data:
            raise UserError(f"{path}: wrong passphrase for the private key") from None
        raise UserError(f"{path}: not a PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise UserError(f"{path}: not an elliptic-curve key (model signing needs EC P-256)")
    _check_curve(path, key.curve.name)
    return key


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise UserError(f"{path}: not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise UserError(f"{path}: not an elliptic-curve public key")
    _check_curve(path, key.curve.name)
    return key


def _check_curve(path: Path, curve: str) -> None:
    if curve not in SUPPORTED_CURVES:
        raise UserError(f"{path}: curve {curve} is not supported (use P-256, P-384 or P-521)")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: {what} file not found") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the {what} ({exc.strerror})") from None

"""Sign a model in the OpenSSF model signing format (a Sigstore bundle over an in-toto manifest).

Three ways to sign, all through model-signing's signers and payload:
- `sign`: an EC private key (offline; the verifier holds the public key);
- `sign_with_certificate`: the key plus its X.509 signing certificate and chain (offline);
- `sign_with_sigstore`: Sigstore keyless signing (network and an OIDC identity; opt-in only).

The private key is decrypted in memory and handed to model-signing's signer as a key object,
so no plaintext key is ever written to disk.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from model_signing import manifest
from model_signing._signing import sign_certificate as certificate
from model_signing._signing import sign_ec_key as ec_key
from model_signing._signing import signing

from custos.errors import UserError
from custos.integrity.digests import hash_manifest, relative_ignores, resource_digests
from custos.integrity.keys import key_id, load_private_key

DEFAULT_SIGNATURE_NAME = "model.sig"
IDENTITY_TOKEN_ENV = "SIGSTORE_IDENTITY_TOKEN"  # noqa: S105 (a variable name)


@dataclass(frozen=True)
class SignResult:
    model: Path
    signature: Path
    method: str  # "key" | "certificate" | "sigstore"
    signer: str  # key id, certificate subject, or "sigstore"
    resources: int
    root_digest: str  # the in-toto subject digest: SHA-256 over the resource digests
    ignored: tuple[str, ...]  # as recorded in the signature, relative to the model

    def to_json(self) -> dict[str, object]:
        return {
            "model": str(self.model),
            "signature": str(self.signature),
            "method": self.method,
            "signer": self.signer,
            "resources": self.resources,
            "root_digest": self.root_digest,
            "ignored": list(self.ignored),
        }


def default_signature_path(model: Path) -> Path:
    """`<dir>/model.sig` for a directory, `<file>.sig` beside a single-file model."""
    return (
        model / DEFAULT_SIGNATURE_NAME if model.is_dir() else model.with_name(model.name + ".sig")
    )


class _KeySigner(ec_key.Signer):
    """model-signing's EC key signer, given a key object instead of a PEM path."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        # The parent reads and decrypts a file; we already hold the decrypted key in memory.
        self._private_key = key


class _CertificateSigner(certificate.Signer):
    """model-signing's certificate signer, given a key object (its own takes no passphrase)."""

    def __init__(
        self,
        key: ec.EllipticCurvePrivateKey,
        signing_certificate: x509.Certificate,
        chain: list[x509.Certificate],
    ) -> None:
        self._private_key = key
        self._signing_certificate = signing_certificate
        self._trust_chain = chain


def sign(
    model_path: Path,
    private_key: Path,
    passphrase: bytes | None,
    signature_path: Path | None = None,
    ignore_paths: Sequence[Path | str] = (),
) -> SignResult:
    """Sign `model_path` with an EC private key; returns what was signed and where."""
    key = load_private_key(private_key, passphrase)
    return _sign(_KeySigner(key), "key", key_id(key.public_key()), model_path, signature_path,
                 ignore_paths)  # fmt: skip


def sign_with_certificate(
    model_path: Path,
    private_key: Path,
    passphrase: bytes | None,
    signing_certificate: Path,
    chain: Sequence[Path],
    signature_path: Path | None = None,
    ignore_paths: Sequence[Path | str] = (),
) -> SignResult:
    """Sign with a key and its signing certificate; the chain is embedded in the signature."""
    key = load_private_key(private_key, passphrase)
    leaf = _load_certificates(signing_certificate)[0]
    if leaf.public_key() != key.public_key():
        raise UserError(f"{signing_certificate}: the certificate is not for key {private_key}")
    if not can_sign(leaf):
        raise UserError(
            f"{signing_certificate}: the certificate does not allow signing (it needs key usage "
            "digitalSignature or extended key usage codeSigning)"
        )
    intermediates = [cert for path in chain for cert in _load_certificates(path)]
    signer = _CertificateSigner(key, leaf, intermediates)
    return _sign(signer, "certificate", leaf.subject.rfc4514_string(), model_path,
                 signature_path, ignore_paths)  # fmt: skip


def sign_with_sigstore(
    model_path: Path,
    signature_path: Path | None = None,
    ignore_paths: Sequence[Path | str] = (),
    identity_token: str | None = None,
    use_staging: bool = False,
) -> SignResult:
    """Keyless signing with Sigstore: contacts Fulcio and Rekor, needs an OIDC identity.

    The token comes from `identity_token`, `$SIGSTORE_IDENTITY_TOKEN`, ambient CI credentials,
    or else an interactive browser flow.
    """
    from model_signing._signing import sign_sigstore  # heavy (sigstore, TUF); only when asked

    signer = sign_sigstore.Signer(
        use_ambient_credentials=True,
        use_staging=use_staging,
        identity_token=identity_token or os.environ.get(IDENTITY_TOKEN_ENV) or None,
    )
    return _sign(signer, "sigstore", "sigstore", model_path, signature_path, ignore_paths)


def _sign(
    signer: signing.Signer,
    method: str,
    who: str,
    model_path: Path,
    signature_path: Path | None,
    ignore_paths: Sequence[Path | str],
) -> SignResult:
    if not model_path.exists():
        raise UserError(f"{model_path}: no such file or directory")
    signature = signature_path or default_signature_path(model_path)
    ignored = relative_ignores(model_path, ignore_paths)
    if model_path.is_dir():
        inside = _relative_inside(signature, model_path)
        if inside is not None and inside not in ignored:
            ignored = (*ignored, inside)  # the signature never signs itself
    m = hash_manifest(model_path, ignored)
    bundle = signer.sign(signing.Payload(m))
    _write_atomically(bundle, signature)
    recorded = tuple(sorted(str(p) for p in m.serialization_type.get("ignore_paths", ())))
    return SignResult(
        model=model_path,
        signature=signature,
        method=method,
        signer=who,
        resources=len(resource_digests(m)),
        root_digest=root_digest(m),
        ignored=recorded,
    )


def root_digest(m: manifest.Manifest) -> str:
    """The in-toto subject digest model-signing puts in the statement (sorted resources)."""
    h = hashlib.sha256()
    for rd in m.resource_descriptors():
        h.update(rd.digest.digest_value)
    return h.hexdigest()


def can_sign(cert: x509.Certificate) -> bool:
    """The rule model-signing's certificate verifier applies to the signing certificate."""
    try:
        if cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return x509.oid.ExtendedKeyUsageOID.CODE_SIGNING in usages


def _relative_inside(path: Path, model: Path) -> str | None:
    try:
        return path.resolve().relative_to(model.resolve()).as_posix()
    except ValueError:
        return None


def _write_atomically(bundle: signing.Signature, target: Path) -> None:
    # A crash mid-write must not leave a truncated signature that looks like tampering.
    if not target.parent.is_dir():
        raise UserError(f"{target}: the directory {target.parent} does not exist")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        bundle.write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _load_certificates(path: Path) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except FileNotFoundError:
        raise UserError(f"{path}: certificate file not found") from None
    except ValueError:
        raise UserError(f"{path}: no PEM certificate in the file") from None
    return certs

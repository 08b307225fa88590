"""Verify a signed model and say exactly what differs.

model-signing checks the signature (key, certificate chain or Sigstore) and unpacks the signed
manifest; Custos then hashes the model itself and compares file by file, so a failure reads
"weights.bin: digest differs" instead of a stack trace. Verification fails closed: an unsigned
model, an unreadable or forged signature, an unexpected signer, a changed, extra or missing file,
and a path the signer left out that this verifier did not agree to, are each a named difference.
"""

from __future__ import annotations

import base64
import contextlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography import x509
from model_signing import manifest

from custos.errors import UserError
from custos.integrity.digests import (
    GIT_PATHS,
    HashSpec,
    file_of,
    hash_manifest,
    relative_ignores,
    resource_digests,
)
from custos.integrity.keys import key_id, load_public_key
from custos.integrity.sign import DEFAULT_SIGNATURE_NAME, default_signature_path


@dataclass(frozen=True)
class ExpectedKey:
    """The model must be signed by the private half of this public key."""

    public_key: Path


@dataclass(frozen=True)
class ExpectedCertificate:
    """Signed with a certificate that chains to `chain` and names `identity`.

    `identity` must equal one of the signing certificate's SAN e-mail, URI or DNS entries, or
    its subject common name.
    """

    chain: tuple[Path, ...]
    identity: str


@dataclass(frozen=True)
class ExpectedSigstore:
    """Keyless Sigstore signature by `identity` as certified by OIDC `issuer` (network)."""

    identity: str
    issuer: str
    use_staging: bool = False


Expected = ExpectedKey | ExpectedCertificate | ExpectedSigstore


@dataclass(frozen=True)
class Difference:
    kind: str  # unsigned | signature | identity | ignored | changed | extra | missing
    message: str
    path: str | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True)
class VerifyResult:
    model: Path
    signature: Path
    signer: str | None = None
    files: int = 0
    differences: tuple[Difference, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "model": str(self.model),
            "signature": str(self.signature),
            "signer": self.signer,
            "files": self.files,
            "differences": [
                {"kind": d.kind, "path": d.path, "message": d.message} for d in self.differences
            ],
        }


class _Rejected(Exception):
    def __init__(self, difference: Difference) -> None:
        super().__init__(str(difference))
        self.difference = difference


def verify(
    model_path: Path,
    expected: Expected,
    signature_path: Path | None = None,
    accept_ignored: Sequence[Path | str] = (),
) -> VerifyResult:
    """Check `model_path` against its signature; `ok` only if nothing differs.

    `accept_ignored` lists paths (relative to the model) the signer may leave out. Git plumbing,
    the signature file itself and `model.sig` are always accepted.
    """
    if not model_path.exists():
        raise UserError(f"{model_path}: no such file or directory")
    if isinstance(expected, ExpectedCertificate):
        _check_chain(expected.chain)
    signature = signature_path or default_signature_path(model_path)
    if not signature.is_file():
        return VerifyResult(model_path, signature, differences=(
            Difference("unsigned", f"no signature at {signature}: the model is unsigned"),
        ))  # fmt: skip
    try:
        bundle = _read_bundle(signature)
        if isinstance(expected, ExpectedKey):
            _check_key_hint(bundle, expected)  # names the other key before the crypto fails
        signed = _verified_manifest(signature, expected)
        signer = _check_signer(bundle, expected)
        spec = HashSpec.from_serialization(signed.serialization_type)
    except _Rejected as rejected:
        return VerifyResult(model_path, signature, differences=(rejected.difference,))
    except ValueError as exc:
        return VerifyResult(model_path, signature, differences=(
            Difference("signature", f"the signed manifest is not usable: {exc}"),
        ))  # fmt: skip

    accepted = _accepted(model_path, signature, accept_ignored)
    sharded = spec.method == "shards"
    differences = unexpected_ignores(signed.serialization_type.get("ignore_paths", ()), accepted)
    actual = resource_digests(hash_manifest(model_path, sorted(accepted), spec, ignore_git=False))
    expected_digests = {
        name: digest
        for name, digest in resource_digests(signed).items()
        if not _covered(file_of(name, sharded), accepted)
    }
    differences += compare(expected_digests, actual, model_path.name, sharded)
    files = len({file_of(name, sharded) for name in expected_digests})
    return VerifyResult(model_path, signature, signer, files, tuple(differences))


def compare(
    signed: Mapping[str, str],
    actual: Mapping[str, str],
    model_name: str = ".",
    sharded: bool = False,
) -> list[Difference]:
    """File-level differences between the signed resources and a fresh hash (pure).

    Resources are files, or `file:start:end` shards when `sharded`; differences are reported
    per file, sorted. A single-file model's one resource, ".", is shown as `model_name`.
    """
    by_file_signed = _group(signed, sharded)
    by_file_actual = _group(actual, sharded)
    differences = []
    for name in sorted(by_file_signed.keys() | by_file_actual.keys()):
        shown = model_name if name == "." else name
        before, now = by_file_signed.get(name), by_file_actual.get(name)
        if now is None:
            differences.append(Difference("missing", "missing: signed but not on disk", shown))
        elif before is None:
            differences.append(Difference("extra", "extra file: not in the signature", shown))
        elif before != now:
            detail = ""
            if len(before) == len(now) == 1:
                (old,), (new,) = before.values(), now.values()
                detail = f" (signed {old[:12]}…, now {new[:12]}…)"
            differences.append(Difference("changed", f"digest differs{detail}", shown))
    return differences


def unexpected_ignores(signed_ignores: Iterable[str], accepted: Iterable[str]) -> list[Difference]:
    """Paths the signer left out of the signature that the verifier did not agree to (pure)."""
    allowed = set(accepted)
    return [
        Difference(
            "ignored",
            "left out of the signature, which this verification does not allow "
            "(accept it with --ignore)",
            str(path),
        )
        for path in sorted(set(signed_ignores))
        if not _covered(str(path), allowed)
    ]


def _group(resources: Mapping[str, str], sharded: bool) -> dict[str, dict[str, str]]:
    grouped: dict[str, dict[str, str]] = {}
    for name, digest in resources.items():
        grouped.setdefault(file_of(name, sharded), {})[name] = digest
    return grouped


def _covered(path: str, accepted: Iterable[str]) -> bool:
    candidate = PurePosixPath(path)
    return any(candidate.is_relative_to(PurePosixPath(a)) for a in accepted)


def _accepted(model: Path, signature: Path, extra: Sequence[Path | str]) -> set[str]:
    accepted = {*GIT_PATHS, DEFAULT_SIGNATURE_NAME, *relative_ignores(model, extra)}
    if model.is_dir():
        with contextlib.suppress(ValueError):
            accepted.add(signature.resolve().relative_to(model.resolve()).as_posix())
    return accepted


def _read_bundle(signature: Path) -> dict[str, Any]:
    try:
        bundle = json.loads(signature.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _Rejected(
            Difference("signature", f"{signature}: not a readable bundle ({exc})")
        ) from None
    if not isinstance(bundle, dict) or "verificationMaterial" not in bundle:
        raise _Rejected(Difference("signature", f"{signature}: not a model signature bundle"))
    return bundle


def _check_key_hint(bundle: Mapping[str, Any], expected: ExpectedKey) -> None:
    material = bundle["verificationMaterial"]
    if not isinstance(material, dict) or "publicKey" not in material:
        raise _Rejected(Difference("identity", "signed with a certificate, not with a key"))
    want = key_id(load_public_key(expected.public_key))
    hint = (material.get("publicKey") or {}).get("hint")
    if hint and hint != want:
        raise _Rejected(Difference(
            "identity", f"signed by another key (key id {hint[:16]}…, expected {want[:16]}…)"
        ))  # fmt: skip


def _check_signer(bundle: Mapping[str, Any], expected: Expected) -> str:
    """The signer the verified bundle names, if it is the one expected."""
    material = bundle["verificationMaterial"]
    if isinstance(expected, ExpectedKey):
        return f"key {key_id(load_public_key(expected.public_key))}"
    if isinstance(expected, ExpectedCertificate):
        leaf = _leaf_certificate(material)
        names = certificate_identities(leaf)
        if expected.identity not in names:
            raise _Rejected(Difference(
                "identity",
                f"signed by {', '.join(names) or leaf.subject.rfc4514_string()}, "
                f"expected {expected.identity}",
            ))  # fmt: skip
        return expected.identity
    return expected.identity  # Sigstore: model-signing's verifier checks identity and issuer


def certificate_identities(cert: x509.Certificate) -> list[str]:
    """SAN e-mails, URIs and DNS names, then subject common names."""
    names: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for kind in (x509.RFC822Name, x509.UniformResourceIdentifier, x509.DNSName):
            names.extend(str(v) for v in san.get_values_for_type(kind))
    names.extend(
        str(attr.value) for attr in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    )
    return names


def _check_chain(chain: Sequence[Path]) -> None:
    # Checked up front: an unreadable trust anchor is the verifier's input error (exit 2), not a
    # verdict on the model. An empty chain would silently trust every public web CA instead.
    if not chain:
        raise UserError("a certificate chain is needed to verify a certificate signature")
    for path in chain:
        try:
            x509.load_pem_x509_certificates(path.read_bytes())
        except FileNotFoundError:
            raise UserError(f"{path}: certificate chain file not found") from None
        except ValueError:
            raise UserError(f"{path}: no PEM certificate in the file") from None


def _leaf_certificate(material: Mapping[str, Any]) -> x509.Certificate:
    try:
        raw = material["x509CertificateChain"]["certificates"][0]["rawBytes"]
        return x509.load_der_x509_certificate(base64.b64decode(raw))
    except (KeyError, IndexError, TypeError, ValueError):
        raise _Rejected(Difference("identity", "signed without a certificate chain")) from None


def _verified_manifest(signature: Path, expected: Expected) -> manifest.Manifest:
    """The signed manifest, once model-signing has checked the signature over it."""
    from model_signing._signing import sign_certificate, sign_ec_key, sign_sigstore_pb

    reader: Any = sign_sigstore_pb.Signature
    verifier: Any
    if isinstance(expected, ExpectedKey):
        verifier = sign_ec_key.Verifier(expected.public_key)
        what = f"with {expected.public_key}"
    elif isinstance(expected, ExpectedCertificate):
        verifier = sign_certificate.Verifier(list(expected.chain))
        what = "against the trusted certificate chain"
    else:
        from model_signing._signing import sign_sigstore

        reader = sign_sigstore.Signature
        verifier = sign_sigstore.Verifier(
            identity=expected.identity, oidc_issuer=expected.issuer,
            use_staging=expected.use_staging,
        )  # fmt: skip
        what = f"for {expected.identity} ({expected.issuer})"
    try:
        # model-signing prints compatibility warnings on stdout; keep stdout for results.
        with contextlib.redirect_stdout(sys.stderr):
            return verifier.verify(reader.read(signature))  # type: ignore[no-any-return]
    except Exception as exc:
        # Fail closed: a forged or malformed bundle can make the library raise almost anything
        # (ValueError, InvalidSignature, OpenSSL and Sigstore errors); none of it is a pass.
        reason = str(exc) or type(exc).__name__
        raise _Rejected(Difference(
            "signature", f"the signature does not verify {what}: {reason}"
        )) from None  # fmt: skip

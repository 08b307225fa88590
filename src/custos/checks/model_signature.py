"""model-signature: every local model carries a valid OpenSSF model signature by a trusted signer.

Who is trusted comes from the manifest's `signing:` section (a public key, a certificate chain
with an identity, or a Sigstore identity). Without it the check fails: a signature that merely
verifies with the key it carries proves nothing about who made it.

Evidence lists every model file and the signature with their SHA-256, so it stops counting as
soon as any of those bytes change.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from custos._hashing import sha256_file
from custos.checks.artifacts import display, model_files
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Examined, Finding, Outcome, Severity
from custos.inventory.locations import expand, is_url, resolve
from custos.inventory.schema import Signing

# The integrity package loads model-signing (~0.5 s): imported only when a model is checked.
if TYPE_CHECKING:
    from custos.integrity.verify import Expected

NO_KEY_ADVICE = (
    "add `signing: {public_key: <the signer's .pub file>}` to custos.yaml (or certificate_chain "
    "with identity, or sigstore); a signature is not trusted just because it verifies with the "
    "key it names"
)


def expected_signer(signing: Signing, base_dir: Path) -> Expected:
    """The verifier's expectation for a `signing:` section (paths resolved against base_dir)."""
    from custos.integrity.verify import ExpectedCertificate, ExpectedKey, ExpectedSigstore

    if signing.public_key is not None:
        return ExpectedKey(resolve(base_dir, signing.public_key))
    if signing.certificate_chain is not None:
        chain = tuple(resolve(base_dir, p) for p in signing.certificate_chain)
        return ExpectedCertificate(chain, str(signing.identity))
    assert signing.sigstore is not None  # the schema allows exactly one anchor
    return ExpectedSigstore(signing.sigstore.identity, signing.sigstore.issuer)


def _examined(paths: Iterable[Path], base_dir: Path) -> list[Examined]:
    found = []
    for path in paths:
        if path.is_file():
            found.append(Examined(display(path, base_dir), sha256_file(path), path.stat().st_size))
        else:  # a signature that does not exist yet: named, with no bytes to pin
            found.append(Examined(display(path, base_dir)))
    return found


def _models(paths: list[Path]) -> list[Path]:
    # A glob such as `models/*` also matches the signatures beside the models it names.
    chosen = set(paths)
    return [p for p in paths if not (p.name.endswith(".sig") and p.with_suffix("") in chosen)]


def _anchor_files(signing: Signing, base_dir: Path) -> list[Path]:
    named = [signing.public_key] if signing.public_key else list(signing.certificate_chain or ())
    return [resolve(base_dir, p) for p in named]


class ModelSignature(Check):
    name = "model-signature"
    version = 1
    title = "Models carry a valid signature by a trusted signer over their current bytes"
    kinds = frozenset({"model"})
    evidences = (
        "custos:ai:model-signing",
        "custos:ai:model-provenance",
        "custos:ai:model-change-management",
        "custos:ai:deployment-audit-trail",
        "iso27002:2022:8.24",
        "iso27002:2022:8.32",
        "iso27002:2022:5.21",
    )

    def run(self, target: Target, context: CheckContext) -> Outcome:
        from custos.integrity.sign import default_signature_path
        from custos.integrity.verify import verify

        asset = target.asset
        assert asset is not None
        if is_url(asset.location):
            return Outcome(
                "not_applicable", "remote model: verify its signature where it is stored"
            )
        base = context.base_dir
        models = _models(expand(base, asset.location))
        if not models:
            return Outcome("error", f"{asset.location} matches no model file to verify")
        if asset.signature is not None and len(models) != 1:
            return Outcome(
                "error",
                f"signature: {asset.signature} can sign one model, but {asset.location} "
                f"matches {len(models)}; declare each model as its own asset",
            )
        signing = context.manifest.signing
        anchors = _anchor_files(signing, base) if signing else []
        findings: list[Finding] = []
        looked_at: list[Path] = [*anchors]
        verified = 0
        for model in models:
            signature = (
                resolve(base, asset.signature)
                if asset.signature is not None
                else default_signature_path(model)
            )
            looked_at += [*model_files(model), signature]
            shown = display(model, base)
            if signing is None:
                state = "is signed" if signature.is_file() else "is unsigned"
                message = (
                    f"{shown} {state}, but custos.yaml names no trusted signer: {NO_KEY_ADVICE}"
                )
                findings.append(
                    Finding("model-signature/no-trusted-key", Severity.medium, message, shown)
                )
                continue
            expected = expected_signer(signing, base)
            result = verify(model, expected, signature, signing.ignore_paths)
            if result.ok:
                verified += result.files
            findings += [
                _finding(d.kind, d.message, d.path, model, signature, base)
                for d in result.differences
            ]
        examined = tuple(_examined(dict.fromkeys(looked_at), base))
        if findings:
            return Outcome(
                "fail",
                f"{len(findings)} signature problem(s) in {len(models)} model(s)",
                tuple(findings),
                examined,
            )
        return Outcome(
            "pass",
            f"{len(models)} model(s), {verified} file(s) verified against their signatures",
            examined=examined,
        )


def _finding(
    kind: str, message: str, path: str | None, model: Path, signature: Path, base: Path
) -> Finding:
    """One verification difference as a finding whose message starts with the file it is about."""
    shown = display(model, base)
    if kind == "unsigned":
        sig = display(signature, base)
        message = f"unsigned: no signature at {sig} (sign it with `custos sign {shown} --key KEY`)"
    elif kind == "ignored":
        message = "left out of the signature; accept it by listing it in signing.ignore_paths"
    location = shown
    if path is not None and model.is_dir():
        location = f"{shown}/{path}"
    elif kind in ("signature", "identity"):
        location = display(signature, base)
    return Finding(f"model-signature/{kind}", Severity.high, f"{location}: {message}", location)

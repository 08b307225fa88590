"""encryption: datasets and models classified confidential or restricted are stored encrypted
at rest (Custos' format, custos.datacrypt), under a KEK the project knows and has not retired,
and the files authenticate. Reads headers; verifies every segment when the KEK is at hand
without asking anyone (an environment KEK, or the passphrase in CUSTOS_KEK_PASSPHRASE). age
files are verified through pyrage when $CUSTOS_AGE_IDENTITY gives the identities."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Finding, Outcome, Severity
from custos.datacrypt import age
from custos.datacrypt.format import MAGIC, FormatError
from custos.datacrypt.keks import PASSPHRASE_ENV, Keks
from custos.datacrypt.stream import AuthenticationError, decrypt_file, read_header
from custos.errors import UserError
from custos.inventory.locations import expand, is_url

AGE_MAGIC = b"age-encryption.org/v1"
PROTECTED = ("confidential", "restricted")
CONTROLS = ("custos:ai:encryption-at-rest", "iso27002:2022:8.24", "iso27002:2022:5.33")


class Encryption(Check):
    name = "encryption"
    version = 1
    title = "Confidential and restricted datasets and models are encrypted at rest"
    kinds = frozenset({"dataset", "model"})
    evidences = CONTROLS

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None
        if is_url(asset.location):
            return Outcome("not_applicable", "remote asset: check encryption where it is stored")
        paths = [p for p in expand(context.base_dir, asset.location) if p.is_file()]
        if not paths:
            return Outcome("error", f"{asset.location} matches no file to check")
        keks = Keks(context.base_dir, _passphrase)
        age_keys = _AgeKeys()
        findings: list[Finding] = []
        encrypted = 0
        for path in paths:
            where = context.where(path)
            with path.open("rb") as handle:
                head = handle.read(len(AGE_MAGIC))
            if head.startswith(MAGIC):
                encrypted += 1
                findings.extend(_custos_file(path, where, keks))
            elif head.startswith(AGE_MAGIC):
                encrypted += 1
                findings.extend(_age_file(path, where, age_keys))
            elif asset.classification in PROTECTED:
                severity = (
                    Severity.high if asset.classification == "restricted" else Severity.medium
                )
                findings.append(_finding(
                    "encryption/plaintext", severity,
                    f"classified {asset.classification} but stored in plaintext", where,
                ))  # fmt: skip
        examined = context.examined(paths)
        blocking = [f for f in findings if f.severity >= Severity.medium]
        if not blocking and not encrypted and asset.classification not in PROTECTED:
            return Outcome("not_applicable",
                           f"classified {asset.classification or 'none'}: no encryption required",
                           tuple(findings), examined)  # fmt: skip
        summary = f"{encrypted} of {len(paths)} file(s) encrypted; {len(blocking)} finding(s)"
        return Outcome("fail" if blocking else "pass", summary, tuple(findings), examined)


def _passphrase() -> bytes:
    value = os.environ.get(PASSPHRASE_ENV)
    if not value:
        raise UserError(f"${PASSPHRASE_ENV} is not set")
    return value.encode()


def _finding(rule: str, severity: Severity, message: str, where: str) -> Finding:
    return Finding(rule, severity, message, where, CONTROLS)


class _AgeKeys:
    """The age identities of this run, read once (and why there are none, if so)."""

    def __init__(self) -> None:
        self._loaded: tuple[list[Any] | None, str] | None = None

    def get(self) -> tuple[list[Any] | None, str]:
        if self._loaded is None:
            try:
                self._loaded = (age.identities(), "")
            except age.AgeUnavailable as exc:
                self._loaded = (None, str(exc))
        return self._loaded


def _age_file(path: Path, where: str, keys: _AgeKeys) -> list[Finding]:
    identities, why = keys.get()
    if identities is None:
        return [_finding("encryption/age-not-verified", Severity.info,
                         f"age-encrypted: recognised, not verified ({why})", where)]  # fmt: skip
    try:
        verdict = age.verify(path, identities)
    except age.AgeAuthenticationError as exc:
        return [_finding("encryption/authentication-failed", Severity.critical,
                         f"age file {exc}", where)]  # fmt: skip
    if verdict == "no-matching-identity":
        return [_finding("encryption/age-unknown-recipient", Severity.high,
                         f"age-encrypted for recipients none of ${age.IDENTITY_ENV} matches",
                         where)]  # fmt: skip
    return []


def _custos_file(path: Path, where: str, keks: Keks) -> list[Finding]:
    try:
        with path.open("rb") as handle:
            header = read_header(handle)
    except FormatError as exc:
        return [_finding("encryption/authentication-failed", Severity.critical,
                         f"damaged header: {exc}", where)]  # fmt: skip
    entry = keks.entries.get(header.kek_id)
    if entry is None:
        return [_finding("encryption/unknown-kek", Severity.high,
                         f"encrypted under KEK {header.kek_id!r}, which the project does not know",
                         where)]  # fmt: skip
    if entry.status == "destroyed":
        return [_finding("encryption/destroyed-kek", Severity.high,
                         f"encrypted under KEK {header.kek_id!r}, destroyed on {entry.destroyed}: "
                         "the file cannot be opened again", where)]  # fmt: skip
    found = []
    if entry.status == "retired":
        message = f"encrypted under retired KEK {header.kek_id!r}: rekey it"
        found.append(_finding("encryption/retired-kek", Severity.medium, message, where))
    try:
        decrypt_file(path, None, keks.key)
    except UserError as exc:  # the KEK is not at hand in this run: say so, do not guess
        found.append(_finding("encryption/not-verified", Severity.info,
                              f"segments not verified: {exc}", where))  # fmt: skip
    except (AuthenticationError, FormatError) as exc:
        found.append(_finding("encryption/authentication-failed", Severity.critical,
                              str(exc), where))  # fmt: skip
    return found

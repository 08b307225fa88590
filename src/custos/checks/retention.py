"""retention: a retired asset carries deletion evidence and leaves nothing readable behind.

For each asset whose lifecycle is retired (its own, or its system's): a deletion record in the
ledger (`custos shred`), nothing left at its location but ciphertext whose KEK was destroyed,
and no copy of its files elsewhere in the project, where asset discovery looks: a file with the
recorded plaintext digest is a plaintext copy; one with a recorded ciphertext digest is a copy
that still opens unless its KEK was destroyed. Only files of a recorded size are hashed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from custos._hashing import sha256_file
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Examined, Finding, Outcome, Severity
from custos.datacrypt.keks import load_registry
from custos.datacrypt.shred import SHRED_EVENT, copies, kek_of
from custos.inventory.locations import files_of, is_url
from custos.inventory.schema import is_retired

CONTROLS = ("custos:ai:secure-deletion", "iso27002:2022:8.10")


class Retention(Check):
    name = "retention"
    version = 1
    title = "Retired datasets and models are deleted, recorded, and leave no readable copy"
    kinds = frozenset({"model", "dataset", "pipeline", "repository", "log_source"})
    evidences = CONTROLS
    follows_deletion = True

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None
        if not is_retired(target.system, asset):
            state = asset.lifecycle or target.system.lifecycle
            return Outcome("not_applicable", f"in use (lifecycle {state}): nothing to delete yet")
        events = context.ledger_events(SHRED_EVENT) if context.ledger_events else []
        records = [
            (seq, e) for seq, e in events
            if e.payload.get("asset") == asset.id and e.payload.get("system") == target.system.id
        ]  # fmt: skip
        files: list[dict[str, Any]] = [
            f for _seq, e in records for f in e.payload.get("files", []) if isinstance(f, dict)
        ]  # fmt: skip
        destroyed = {k for k, e in load_registry(context.base_dir).items()
                     if e.status == "destroyed"}  # fmt: skip
        findings: list[Finding] = []
        examined: list[Examined] = [Examined(f"ledger entry {seq}") for seq, _e in records]
        if not records:
            findings.append(_finding(
                "retention/no-deletion-record", Severity.high,
                f"retired, but the ledger holds no deletion record of it (custos shred {asset.id})",
                asset.location,
            ))  # fmt: skip
        left: set[Path] = set()
        if not is_url(asset.location):
            for path in files_of(context.base_dir, asset.location):
                left.add(path.resolve())
                findings.append(_left_behind(path, context.where(path), files, destroyed))
                examined.extend(context.examined([path]))
        findings.extend(_copies(context, files, destroyed, left))
        blank = [f["path"] for f in files if f.get("plaintext_sha256") is None]
        if blank:
            findings.append(_finding(
                "retention/copies-unsearchable", Severity.info,
                f"{len(blank)} deleted file(s) without a recorded plaintext digest (their KEK was "
                f"not at hand when shredded, e.g. {blank[0]}): plaintext copies of them cannot be "
                "recognised", asset.location,
            ))  # fmt: skip
        blocking = [f for f in findings if f.severity >= Severity.medium]
        if records:
            seq, entry = records[-1]
            summary = (f"deleted {entry.recorded_at} by {entry.actor or 'unknown'} "
                       f"(ledger entry {seq}); {len(blocking)} finding(s)")  # fmt: skip
        else:
            summary = f"retired without a deletion record; {len(blocking)} finding(s)"
        return Outcome("fail" if blocking else "pass", summary, tuple(findings), tuple(examined))


def _finding(rule: str, severity: Severity, message: str, where: str) -> Finding:
    return Finding(rule, severity, message, where, CONTROLS)


def _left_behind(path: Path, where: str, files: list[dict[str, Any]],
                 destroyed: set[str]) -> Finding:  # fmt: skip
    kek = kek_of(path)
    if kek is not None and kek in destroyed:
        return _finding("retention/unrecoverable-remains", Severity.info,
                        f"ciphertext left at the location; its KEK {kek!r} is destroyed, so it "
                        "cannot be opened", where)  # fmt: skip
    if sha256_file(path) in {f.get("sha256") for f in files}:
        return _finding("retention/restored", Severity.high,
                        "a deleted file is back at the asset's location (restored from a copy?)",
                        where)  # fmt: skip
    return _finding(
        "retention/not-deleted",
        Severity.high,
        "retired, but this file is still at the asset's location",
        where,
    )


def _copies(context: CheckContext, files: list[dict[str, Any]], destroyed: set[str],
            skip: set[Path]) -> list[Finding]:  # fmt: skip
    plain = {f["plaintext_sha256"]: f for f in files
             if isinstance(f.get("plaintext_sha256"), str) and isinstance(
                 f.get("plaintext_size"), int)}  # fmt: skip
    cipher = {f["sha256"]: f for f in files if f.get("format") != "plaintext"
              and isinstance(f.get("sha256"), str) and isinstance(f.get("size"), int)}  # fmt: skip
    wanted = {d: int(f["plaintext_size"]) for d, f in plain.items()}
    wanted.update({d: int(f["size"]) for d, f in cipher.items()})
    found: list[Finding] = []
    if not wanted:
        return found
    for path, digest in copies(context.base_dir, wanted):
        if path.resolve() in skip:
            continue
        where = context.where(path)
        if digest in plain:
            found.append(_finding(
                "retention/plaintext-copy", Severity.high,
                f"a plaintext copy of deleted file {plain[digest]['path']}", where,
            ))  # fmt: skip
            continue
        kek = cipher[digest].get("kek")
        if kek in destroyed:
            found.append(_finding(
                "retention/unrecoverable-copy", Severity.info,
                f"a copy of deleted file {cipher[digest]['path']}; its KEK {kek!r} is destroyed",
                where,
            ))  # fmt: skip
        else:
            found.append(_finding(
                "retention/recoverable-copy", Severity.medium,
                f"an encrypted copy of deleted file {cipher[digest]['path']} that still opens "
                f"while KEK {kek!r} exists (custos shred --destroy-kek)", where,
            ))  # fmt: skip
    return found

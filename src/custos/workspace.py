"""The shell around the core for one project directory: read the manifest, open the store, run
the checks, gather what `assess()` needs from disk, and persist results.

CLI commands (and later the server) call these functions; they hold no business rules.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import socket
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custos import ledger_records as records
from custos import private_dir
from custos._hashing import sha256_file, sha256_path
from custos.assess.engine import AssessInput, assess
from custos.assess.model import AssessmentReport
from custos.catalog.catalog import Catalog
from custos.catalog.loader import load_catalog
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Evidence
from custos.checks.registry import all_checks, run_all
from custos.errors import UserError
from custos.inventory.load import LoadedManifest, load_manifest
from custos.inventory.locations import is_url, resolve
from custos.inventory.schema import AISystem, Attestation, Manifest
from custos.ledger.canonical import canonical_json
from custos.ledger.entry import LedgerEntry
from custos.vulns.apply import apply as vulns_apply
from custos.vulns.model import Record

if TYPE_CHECKING:
    from custos.ledger.audit import Audit
    from custos.store.ledger import Appended
    from custos.store.store import LedgerWrite, Store


@dataclass(frozen=True)
class Workspace:
    catalog: Catalog
    loaded: LoadedManifest
    store: Store

    @property
    def base_dir(self) -> Path:
        return self.loaded.base_dir

    @property
    def manifest_sha256(self) -> str:
        return sha256_file(self.loaded.path)


def open_workspace(path: Path, db_url: str | None) -> Workspace:
    """Validate the manifest first (bad input changes nothing), then open the store."""
    # SQLAlchemy costs ~0.4 s to import: only the commands that use the store pay for it.
    from custos.store.store import Store

    catalog = load_catalog()
    loaded = load_manifest(path, catalog)
    store = Store.open(db_url, loaded.base_dir)
    store.ensure_current(auto_upgrade=store.is_default)
    if private_dir.key_tracked(loaded.base_dir):
        print(f"warning: {private_dir.TRACKED_WARNING}", file=sys.stderr)
    return Workspace(catalog, loaded, store)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def scan(
    ws: Workspace,
    checks: Sequence[Check] | None = None,
    progress: Callable[[Check, Target], None] | None = None,
    when: dt.datetime | None = None,
) -> tuple[int, list[Evidence]]:
    """Run every applicable check and keep the evidence (one transaction)."""
    done = scan_recorded(ws, checks, progress, when)
    return done.run_id, done.evidence


@dataclass(frozen=True)
class Scanned:
    run_id: int
    evidence: list[Evidence]
    first_entry: int | None  # the ledger index of the first evidence's entry (then in order)

    @property
    def entries(self) -> list[int]:
        """The ledger index of each evidence record's entry."""
        first = self.first_entry
        return [] if first is None else list(range(first, first + len(self.evidence)))


def scan_recorded(
    ws: Workspace,
    checks: Sequence[Check] | None = None,
    progress: Callable[[Check, Target], None] | None = None,
    when: dt.datetime | None = None,
) -> Scanned:
    """`scan`, also saying where in the ledger its evidence entries are (for a push)."""
    started = when or now()
    context = CheckContext(
        ws.loaded.manifest, ws.base_dir, started, ledger_audit(ws.store, ws.base_dir),
        ledger_events(ws.store),
    )  # fmt: skip
    evidence = run_all(context, checks, progress)
    finished = max(now(), started)
    writer = ledger_write(
        ws.base_dir, lambda run: records.evidence_entries(run, evidence, finished, actor())
    )
    run_id = ws.store.save_scan(
        evidence,
        started_at=started,
        finished_at=finished,
        manifest_path=str(ws.loaded.path),
        manifest_sha256=ws.manifest_sha256,
        ledger_write=writer,
    )
    first = writer.appended[0].first if writer.appended else None
    return Scanned(run_id, evidence, first)


def current_hashes(base_dir: Path, evidence: Iterable[Evidence]) -> dict[str, str | None]:
    """Today's digest of every artifact the evidence examined (None when it is gone)."""
    hashes: dict[str, str | None] = {}
    for item in evidence:
        for examined in item.examined:
            location = examined.location
            if examined.sha256 is None or location in hashes or is_url(location):
                continue
            path = resolve(base_dir, location)
            hashes[location] = sha256_path(path) if path.exists() else None
    return hashes


def attestation_files(ws: Workspace) -> dict[str, str | None]:
    files: dict[str, str | None] = {}
    for att in ws.loaded.manifest.attestations:
        if att.evidence is None or att.evidence in files:
            continue
        path = resolve(ws.base_dir, att.evidence)
        files[att.evidence] = sha256_file(path) if path.is_file() else None
    return files


def build_report(ws: Workspace, when: dt.datetime | None = None) -> AssessmentReport:
    """Assess from the latest stored evidence, as of `when` (default: now)."""
    systems = [s.id for s in ws.loaded.manifest.systems]
    at = when or now()
    evidence = with_decisions(
        ws.store.latest_evidence(systems), ws.store.vulnerabilities(systems),
        ws.loaded.manifest, at,
    )  # fmt: skip
    return assess(
        AssessInput(
            catalog=ws.catalog,
            manifest=ws.loaded.manifest,
            evidence=evidence,
            current_hashes=current_hashes(ws.base_dir, evidence),
            attestation_files=attestation_files(ws),
            checks=all_checks(),
            now=at,
            trend=tuple(ws.store.trend()),
        )
    )


def with_decisions(
    evidence: Sequence[Evidence], records: Sequence[Record], manifest: Manifest, at: dt.datetime
) -> list[Evidence]:
    """The evidence as the organisation's decisions on vulnerabilities read it (accepted ones
    informational, overdue ones findings; custos.vulns.apply), under its remediation SLA."""
    sla = manifest.organisation.vulnerability_sla.model_dump()
    return vulns_apply(evidence, records, at, sla)


def decided(
    ws: Workspace, evidence: Sequence[Evidence], at: dt.datetime, server: Sequence[Record] = ()
) -> list[Evidence]:
    """A scan's evidence with the decisions on its vulnerabilities read in (what the scan table,
    the SARIF of `custos ci` and the `--fail-on` gates judge; the stored evidence is as
    observed). `server`: acceptances taken on a Custos server, which stand over local records
    of the same vulnerability that are not fixed."""
    systems = sorted({e.system for e in evidence})
    records = {r.key: r for r in ws.store.vulnerabilities(systems)}
    for r in server:
        local = records.get(r.key)
        if local is None or local.status != "fixed":
            records[r.key] = r
    return with_decisions(evidence, list(records.values()), ws.loaded.manifest, at)


def save_assessment(ws: Workspace, report: AssessmentReport) -> int:
    """Keep the assessment, and append its SoA decisions and the attestations it relied on to
    the ledger in the same transaction."""
    writer = assessment_ledger_write(
        ws.base_dir, ws.loaded.manifest.attestations, attestation_files(ws), report, actor()
    )
    return ws.store.save_assessment(
        report,
        manifest_path=str(ws.loaded.path),
        manifest_sha256=ws.manifest_sha256,
        ledger_write=writer,
    )


def assessment_ledger_write(
    key_dir: Path,
    attestations: Sequence[Attestation],
    files: Mapping[str, str | None],
    report: AssessmentReport,
    who: str,
) -> LedgerWrite:
    """The ledger entries an assessment appends: the attestations it relied on (with their
    files' digests) and its SoA decisions; signed with the key kept under `key_dir`."""
    when = report.generated_at

    def build(run: int) -> list[LedgerEntry]:
        return [
            *records.attestation_entries(run, attestations, files, when, who),
            *records.soa_entries(run, report, when, who),
        ]

    return ledger_write(key_dir, build)


def ledger_audit(store: Store, base_dir: Path | None = None) -> Callable[[], Audit | None]:
    """The ledger audit for the `ledger-integrity` check, run at most once per scan. It trusts
    the key and checkpoint this user's trust file pinned (`custos ledger verify`), else the key
    this project signs with, else the database's own key (which whoever can write to the
    database can swap); it never moves the trust file forward."""
    from custos.ledger.checkpoint import verifier_of
    from custos.store import ledger_trust
    from custos.store.ledger_key import load_signer

    done: list[Audit | None] = []

    def run() -> Audit | None:
        if not done:
            info = store.ledger_info()
            if info is None:
                done.append(None)
            else:
                trusted = ledger_trust.load(ledger_trust.default_path(info.origin))
                key = trusted.verifier_key if trusted else info.verifier_key
                if trusted is None and base_dir is not None:
                    with contextlib.suppress(UserError):  # no key here: nothing signed here
                        key = verifier_of(load_signer(base_dir, create=False))
                checkpoint = trusted.checkpoint if trusted else None
                done.append(store.ledger_audit(key, checkpoint, origin=info.origin))
        return done[0]

    return run


def ledger_events(store: Store) -> Callable[[str], list[tuple[int, LedgerEntry]]]:
    """The ledger's event entries of one event name, for checks that look for a recorded act
    (a deletion): one pass over the ledger per event name and scan, whatever the number of
    assets. The byte filter is coarse (RFC 8785 writes `"event":"NAME"` without spaces); the
    parsed entry decides."""
    done: dict[str, list[tuple[int, LedgerEntry]]] = {}

    def run(event: str) -> list[tuple[int, LedgerEntry]]:
        if event not in done:
            needle = canonical_json({"event": event})[1:-1]
            found = []
            for seq, data in store.ledger_matching(needle):
                with contextlib.suppress(UserError, ValueError):
                    entry = LedgerEntry.from_canonical(data)
                    if entry.kind == "event" and entry.payload.get("event") == event:
                        found.append((seq, entry))
            done[event] = found
        return done[event]

    return run


def actor() -> str:
    """Who is acting, for ledger entries: $CUSTOS_ACTOR, else user@host."""
    named = os.environ.get("CUSTOS_ACTOR", "").strip()
    if named:
        return named
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def ledger_write(base_dir: Path, build: Callable[[int], Sequence[LedgerEntry]]) -> LedgerWrite:
    from custos.store.ledger_key import load_signer
    from custos.store.store import LedgerWrite

    return LedgerWrite(load_signer(base_dir, create=True), build)


def record_entries(
    project: Path,
    db_url: str | None,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    who: str | None = None,
) -> Appended:
    """Append (kind, payload) entries to a project's ledger as one durable batch."""
    from custos.store.ledger_key import load_signer

    when = dt.datetime.now(dt.UTC)
    entries = [records.event_entry(payload, when, who or actor(), kind) for kind, payload in items]
    store, base_dir = open_store(project, db_url)
    with store:
        return store.ledger_append(entries, load_signer(base_dir, create=True))


def open_store(path: Path, db_url: str | None, *, create: bool = True) -> tuple[Store, Path]:
    """The store of a project directory (or of the directory holding a manifest file), for
    commands that need no manifest (the ledger). Migrates the default SQLite file. Commands
    that only read pass `create=False`: where no database exists they say so and write
    nothing (no `.custos/` appears)."""
    from custos.store.store import Store
    from custos.store.urls import resolve as resolve_url

    base_dir = path if path.is_dir() else path.parent
    if not base_dir.is_dir():
        raise UserError(f"{path}: no such directory")
    target = resolve_url(db_url, base_dir, os.environ)
    missing = target.sqlite_path is not None and not target.sqlite_path.exists()
    if not create and target.is_default and missing:
        raise UserError(f"{base_dir}: no Custos database here ({target.sqlite_path} does not "
                        "exist): run custos scan first, or give --db")  # fmt: skip
    store = Store.open(db_url, base_dir)
    store.ensure_current(auto_upgrade=store.is_default)
    return store, base_dir


def system_events(store: Store, system: AISystem) -> list[tuple[dt.datetime, str]]:
    """The ledger's recorded events (`custos ledger append`) naming the system or one of its
    assets, oldest first, as (when, what)."""
    names = {system.id, *(a.id for a in system.assets)}
    found = []
    for _seq, data in store.ledger_matching(b'"event":'):
        with contextlib.suppress(UserError, ValueError):
            entry = LedgerEntry.from_canonical(data)
            payload = entry.payload
            if entry.kind != "event" or "event" not in payload:
                continue
            if not names & {str(v) for v in payload.values() if isinstance(v, str)}:
                continue
            what = ", ".join(f"{k}={v}" for k, v in payload.items() if k != "event")
            when = dt.datetime.fromisoformat(entry.recorded_at.replace("Z", "+00:00"))
            found.append((when, f"{payload['event']}: {what}" + (
                f" (by {entry.actor})" if entry.actor else "")))  # fmt: skip
    return sorted(found)

"""The shell around the core for one project directory: read the manifest, open the store, run
the checks, gather what `assess()` needs from disk, and persist results.

CLI commands (and later the server) call these functions; they hold no business rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from custos._hashing import sha256_file, sha256_path
from custos.assess.engine import AssessInput, assess
from custos.assess.model import AssessmentReport
from custos.catalog.catalog import Catalog
from custos.catalog.loader import load_catalog
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Evidence
from custos.checks.registry import all_checks, run_all
from custos.inventory.load import LoadedManifest, load_manifest
from custos.inventory.locations import is_url, resolve

if TYPE_CHECKING:
    from custos.store.store import Store


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
    started = when or now()
    context = CheckContext(ws.loaded.manifest, ws.base_dir, started)
    evidence = run_all(context, checks, progress)
    run_id = ws.store.save_scan(
        evidence,
        started_at=started,
        finished_at=max(now(), started),
        manifest_path=str(ws.loaded.path),
        manifest_sha256=ws.manifest_sha256,
    )
    return run_id, evidence


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
    evidence = ws.store.latest_evidence(systems)
    return assess(
        AssessInput(
            catalog=ws.catalog,
            manifest=ws.loaded.manifest,
            evidence=evidence,
            current_hashes=current_hashes(ws.base_dir, evidence),
            attestation_files=attestation_files(ws),
            checks=all_checks(),
            now=when or now(),
            trend=tuple(ws.store.trend()),
        )
    )


def save_assessment(ws: Workspace, report: AssessmentReport) -> int:
    return ws.store.save_assessment(
        report, manifest_path=str(ws.loaded.path), manifest_sha256=ws.manifest_sha256
    )

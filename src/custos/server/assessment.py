"""The server's assessment: its inventory, the newest pushed evidence and the uploaded files,
through the same pure `assess()` the CLI uses. The server never takes a status computed
elsewhere: a pushed assessment is re-derived here from the evidence, so what it shows can be
traced to evidence in the ledger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence

from custos.assess.engine import AssessInput, assess
from custos.assess.model import AssessmentReport
from custos.checks.model import Evidence
from custos.checks.registry import all_checks
from custos.inventory.documents import Document, assemble, attestation_files
from custos.inventory.schema import Manifest
from custos.server.context import AppContext
from custos.store import auth_store, inventory_store
from custos.workspace import assessment_ledger_write, with_decisions

MANIFEST_PATH = "custos-server:inventory"  # what the runs table shows as the manifest read


def documents(ctx: AppContext) -> list[Document]:
    with auth_store.transaction(ctx.store) as conn:
        return [item.document for item in inventory_store.items(conn)]


def last_seen_hashes(evidence: Iterable[Evidence]) -> dict[str, str | None]:
    """Each artifact's digest as the newest evidence saw it. The server cannot read the
    artifacts, so "current" means "as last scanned": a later scan that sees other bytes makes
    older evidence about that artifact stop counting, as on the CLI. Claimed evidence (an
    unverified push) is not a witness of the bytes: it could otherwise revive stale evidence."""
    newest: dict[str, tuple[dt.datetime, str]] = {}
    for item in evidence:
        if item.provenance.kind == "claimed":
            continue
        for examined in item.examined:
            if examined.sha256 is None:
                continue
            seen = newest.get(examined.location)
            if seen is None or seen[0] < item.collected_at:
                newest[examined.location] = (item.collected_at, examined.sha256)
    return {location: digest for location, (_at, digest) in newest.items()}


def manifest_digest(manifest: Manifest) -> str:
    canonical = json.dumps(manifest.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def build(ctx: AppContext, docs: Sequence[Document] | None = None) -> AssessmentReport | None:
    """The assessment as of now; None while the inventory has no organisation or system."""
    the_docs = documents(ctx) if docs is None else docs
    manifest = assemble(the_docs)
    if manifest is None:
        return None
    systems = [s.id for s in manifest.systems]
    at = ctx.now()
    evidence = with_decisions(
        ctx.store.latest_evidence(systems), ctx.store.vulnerabilities(systems), manifest, at
    )
    return assess(
        AssessInput(
            catalog=ctx.catalog,
            manifest=manifest,
            evidence=evidence,
            current_hashes=last_seen_hashes(evidence),
            attestation_files=attestation_files(the_docs),
            checks=all_checks(),
            now=at,
            trend=tuple(ctx.store.trend()),
        )
    )


def reassess(ctx: AppContext, actor: str) -> int | None:
    """Assess and keep the result (with its ledger entries); the run id, or None when there is
    nothing to assess yet."""
    docs = documents(ctx)
    report = build(ctx, docs)
    manifest = assemble(docs)
    if report is None or manifest is None:
        return None
    writer = assessment_ledger_write(
        ctx.settings.project_dir, manifest.attestations, attestation_files(docs), report, actor
    )
    return ctx.store.save_assessment(
        report,
        manifest_path=MANIFEST_PATH,
        manifest_sha256=manifest_digest(manifest),
        ledger_write=writer,
    )

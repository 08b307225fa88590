"""Pushes from CI: `custos scan --push URL` sends the manifest and the scan's evidence,
`custos assess --push URL` the manifest alone. The server brings its inventory in line with
the manifest, keeps the evidence (and its ledger entries), and assesses again itself."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections import Counter
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError

from custos import ledger_records as records
from custos.checks.model import RESULTS, Evidence, Examined, Finding, Severity
from custos.inventory.schema import Manifest
from custos.ledger.push_proof import EntryProof
from custos.server import inventory, provenance
from custos.server.accounts import record_event
from custos.server.api.register import UPLOAD_PREFIX
from custos.server.assessment import reassess
from custos.server.context import AppContext, context
from custos.server.errors import Forbidden, Unprocessable
from custos.server.guards import requires
from custos.server.rbac import Permission, Principal
from custos.server.visibility import visible_for
from custos.store import auth_store
from custos.workspace import ledger_write

router = APIRouter(prefix="/api/v1/push", tags=["push"])
Pusher = Annotated[Principal, requires(Permission.scans_push, "any")]
MAX_EVIDENCE = 100_000
Str = Annotated[str, Field(max_length=10_000)]


class ExaminedBody(BaseModel):
    location: Str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    size: Annotated[int, Field(ge=0)] | None = None


class FindingBody(BaseModel):
    rule: Annotated[str, Field(min_length=1, max_length=200)]
    severity: Literal["info", "low", "medium", "high", "critical"]
    message: Str
    location: Str
    controls: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list)


class EntryProofBody(BaseModel):
    """The record's entry in the pusher's own ledger: its bytes as stored, its leaf index and
    the RFC 6962 inclusion proof to the push's `checkpoint`."""

    entry: Annotated[str, Field(min_length=1, max_length=50_000_000)] = Field(
        description="the signed canonical ledger entry, base64"
    )
    index: Annotated[int, Field(ge=0, lt=2**63)]
    proof: list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = Field(max_length=64)

    def to_proof(self) -> EntryProof | None:
        """None when the entry is not base64: the record is then only claimed."""
        try:
            data = base64.b64decode(self.entry, validate=True)
        except binascii.Error:
            return None
        return EntryProof(data, self.index, tuple(bytes.fromhex(h) for h in self.proof))


class EvidenceBody(BaseModel):
    """One evidence record as `custos scan --format json` prints it, with (optionally) its
    entry in the pusher's ledger; without one the record is only "claimed"."""

    check: Annotated[str, Field(min_length=1, max_length=200)]
    check_version: Annotated[int, Field(ge=0, le=2**31)]
    system: Annotated[str, Field(min_length=1, max_length=200)]
    asset: Annotated[str, Field(max_length=200)] | None = None
    result: Literal["pass", "fail", "error", "not_applicable"]
    summary: Str
    controls: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list)
    collected_at: dt.datetime
    expires_at: dt.datetime | None = None
    examined: list[ExaminedBody] = Field(default_factory=list, max_length=10_000)
    findings: list[FindingBody] = Field(default_factory=list, max_length=100_000)
    ledger: EntryProofBody | None = None

    def to_evidence(self) -> Evidence:
        assert self.result in RESULTS
        return Evidence(
            check=self.check, check_version=self.check_version, system=self.system,
            asset=self.asset, result=self.result, summary=self.summary,
            controls=tuple(self.controls), collected_at=_aware(self.collected_at),
            expires_at=_aware(self.expires_at) if self.expires_at else None,
            findings=tuple(
                Finding(f.rule, Severity[f.severity], f.message, f.location, tuple(f.controls))
                for f in self.findings
            ),
            examined=tuple(Examined(x.location, x.sha256, x.size) for x in self.examined),
        )  # fmt: skip


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise Unprocessable(f"{value.isoformat()}: times need a timezone (UTC)")
    return value


class AssessmentPush(BaseModel):
    manifest: dict[str, Any] = Field(description="custos.yaml as JSON (what `custos schema` says)")
    manifest_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    attestation_files: dict[str, Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None] = Field(
        default_factory=dict, description="each attestation evidence file -> its SHA-256 now"
    )


class ScanPush(AssessmentPush):
    started_at: dt.datetime
    finished_at: dt.datetime
    evidence: list[EvidenceBody] = Field(max_length=MAX_EVIDENCE)
    checkpoint: Annotated[str, Field(max_length=65_536)] | None = Field(
        None, description="a signed checkpoint (C2SP signed note) of the pusher's ledger"
    )


class Pushed(BaseModel):
    scan_run: int | None = Field(description="The stored scan (None for an assessment push).")
    assessment_run: int | None
    overall_score: float | None
    systems: list[str]
    verified: int | None = Field(
        None, description="Pushed evidence records verified against a registered ledger key."
    )
    claimed: dict[str, int] | None = Field(
        None, description="Records only claimed, counted by reason (never a pass)."
    )


def _manifest(ctx: AppContext, principal: Principal, body: AssessmentPush) -> Manifest:
    try:
        manifest = Manifest.model_validate(body.manifest)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Unprocessable(f"manifest.{where}: {first['msg']}") from None
    inventory.check_manifest(ctx, manifest)
    forged = [a.id for a in manifest.attestations if (a.evidence or "").startswith(UPLOAD_PREFIX)]
    if forged:
        raise Unprocessable(
            f"manifest: attestation {forged[0]!r}: evidence {UPLOAD_PREFIX!r} names a file "
            "uploaded to the server; upload files through the web UI or the API"
        )
    refused = [
        s.id for s in manifest.systems if not principal.can(Permission.scans_push, "system", s.id)
    ]
    if refused:
        raise Forbidden(f"you may not push results for system(s) {', '.join(refused)}")
    return manifest


def _answer(
    ctx: AppContext, principal: Principal, scan_run: int | None, run: int | None, systems: list[str]
) -> Pushed:
    report = ctx.latest_report() if run is not None else None
    # The pooled score only for pushers who see every system (custos.server.visibility).
    score = visible_for(principal, report).score if report else None
    return Pushed(scan_run=scan_run, assessment_run=run, overall_score=score, systems=systems)


def _event(manifest: Manifest, body: AssessmentPush, kind: str) -> dict[str, Any]:
    return {
        "action": f"push.{kind}",
        "systems": sorted(s.id for s in manifest.systems),
        "manifest_sha256": body.manifest_sha256,
    }


@router.post("/scan", status_code=201, response_model=Pushed)
def push_scan(request: Request, body: ScanPush, principal: Pusher) -> Pushed:
    ctx = context(request)
    manifest = _manifest(ctx, principal, body)
    systems = {s.id for s in manifest.systems}
    evidence = [e.to_evidence() for e in body.evidence]
    strays = sorted({e.system for e in evidence} - systems)
    if strays:
        raise Unprocessable(f"evidence: system(s) {', '.join(strays)} are not in the manifest")
    actor = principal.username
    proofs = [e.ledger.to_proof() if e.ledger is not None else None for e in body.evidence]
    evidence = provenance.attach(ctx, evidence, proofs, body.checkpoint, actor)
    finished = _aware(body.finished_at)
    with auth_store.transaction(ctx.store) as conn:
        inventory.sync_manifest(conn, ctx, manifest, body.attestation_files, actor, principal)
        record_event(
            conn, ctx.settings.project_dir, actor, ctx.now(), _event(manifest, body, "scan")
        )
    writer = ledger_write(
        ctx.settings.project_dir,
        lambda run: records.evidence_entries(run, evidence, finished, actor, provenance=True),
    )
    scan_run = ctx.store.save_scan(
        evidence,
        started_at=_aware(body.started_at),
        finished_at=finished,
        manifest_path="custos push",
        manifest_sha256=body.manifest_sha256,
        ledger_write=writer,
    )
    answer = _answer(ctx, principal, scan_run, reassess(ctx, actor), sorted(systems))
    answer.verified = sum(1 for e in evidence if e.provenance.kind == "verified")
    answer.claimed = dict(
        Counter(str(e.provenance.reason) for e in evidence if e.provenance.kind == "claimed")
    )
    return answer


@router.post("/assessment", status_code=201, response_model=Pushed)
def push_assessment(request: Request, body: AssessmentPush, principal: Pusher) -> Pushed:
    ctx = context(request)
    manifest = _manifest(ctx, principal, body)
    actor = principal.username
    with auth_store.transaction(ctx.store) as conn:
        inventory.sync_manifest(conn, ctx, manifest, body.attestation_files, actor, principal)
        event = _event(manifest, body, "assessment")
        record_event(conn, ctx.settings.project_dir, actor, ctx.now(), event)
    systems = sorted(s.id for s in manifest.systems)
    return _answer(ctx, principal, None, reassess(ctx, actor), systems)

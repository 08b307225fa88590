"""Pushes from CI: `custos scan --push URL` sends the manifest and the scan's evidence,
`custos assess --push URL` the manifest alone. The server brings its inventory in line with
the manifest, keeps the evidence (and its ledger entries), and assesses again itself."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError

from custos.checks.model import RESULTS, Evidence, Examined, Finding, Severity
from custos.inventory.schema import Manifest
from custos.ledger import records
from custos.server import inventory
from custos.server.accounts import record_event
from custos.server.api.register import UPLOAD_PREFIX
from custos.server.assessment import reassess
from custos.server.context import AppContext, context
from custos.server.errors import Forbidden, Unprocessable
from custos.server.guards import requires
from custos.server.rbac import Permission, Principal
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


class EvidenceBody(BaseModel):
    """One evidence record as `custos scan --format json` prints it."""

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


class Pushed(BaseModel):
    scan_run: int | None = Field(description="The stored scan (None for an assessment push).")
    assessment_run: int | None
    overall_score: float | None
    systems: list[str]


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


def _scope(principal: Principal) -> frozenset[str] | None:
    """None when the pusher may push for every system, else the systems it may push for."""
    if principal.can(Permission.scans_push):
        return None
    named = {b.system for b in principal.bindings if b.system is not None}
    return frozenset(s for s in named if principal.can(Permission.scans_push, "system", s))


def _answer(ctx: AppContext, scan_run: int | None, run: int | None, systems: list[str]) -> Pushed:
    report = ctx.latest_report() if run is not None else None
    score = report.get("overall_score") if report else None
    return Pushed(
        scan_run=scan_run,
        assessment_run=run,
        overall_score=float(score) if isinstance(score, int | float) else None,
        systems=systems,
    )


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
    finished = _aware(body.finished_at)
    with auth_store.transaction(ctx.store) as conn:
        inventory.sync_manifest(
            conn, ctx, manifest, body.attestation_files, actor, _scope(principal)
        )
        record_event(
            conn, ctx.settings.project_dir, actor, ctx.now(), _event(manifest, body, "scan")
        )
    writer = ledger_write(
        ctx.settings.project_dir,
        lambda run: records.evidence_entries(run, evidence, finished, actor),
    )
    scan_run = ctx.store.save_scan(
        evidence,
        started_at=_aware(body.started_at),
        finished_at=finished,
        manifest_path="custos push",
        manifest_sha256=body.manifest_sha256,
        ledger_write=writer,
    )
    return _answer(ctx, scan_run, reassess(ctx, actor), sorted(systems))


@router.post("/assessment", status_code=201, response_model=Pushed)
def push_assessment(request: Request, body: AssessmentPush, principal: Pusher) -> Pushed:
    ctx = context(request)
    manifest = _manifest(ctx, principal, body)
    actor = principal.username
    with auth_store.transaction(ctx.store) as conn:
        inventory.sync_manifest(
            conn, ctx, manifest, body.attestation_files, actor, _scope(principal)
        )
        event = _event(manifest, body, "assessment")
        record_event(conn, ctx.settings.project_dir, actor, ctx.now(), event)
    systems = sorted(s.id for s in manifest.systems)
    return _answer(ctx, None, reassess(ctx, actor), systems)

"""Tracked vulnerabilities of one AI system (docs/secdev.md): the list, and accepting or
reopening one. Reading takes `systems:read` on the system; deciding is risk acceptance and
takes `risks:write` on it. Each decision is a ledger event and triggers a new assessment."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from custos.server import vulns
from custos.server.context import context
from custos.server.guards import requires
from custos.server.params import RowId
from custos.server.rbac import Permission, Principal
from custos.vulns import lifecycle
from custos.vulns.model import State

router = APIRouter(prefix="/api/v1/systems/{system_id}/vulnerabilities", tags=["vulnerabilities"])
Reader = Annotated[Principal, requires(Permission.systems_read, "system")]
Decider = Annotated[Principal, requires(Permission.risks_write, "system")]


class Acceptance(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        description="why the risk is accepted (at least 10 characters); recorded in the ledger"
    )
    expires: dt.date = Field(description="until when, at most a year ahead")


class Accepted(BaseModel):
    by: str
    at: dt.datetime
    until: dt.date
    reason: str


class Vulnerability(BaseModel):
    id: int
    system: str
    asset: str = Field(description="the repository asset whose dependencies have it")
    package: str
    advisory: str
    aliases: list[str]
    severity: str
    status: str = Field(description="as stored: open, accepted or fixed")
    state: State = Field(description="as of now: open, overdue, expired, accepted or fixed")
    versions: list[str]
    fixed_in: str | None
    summary: str
    locations: list[str]
    first_seen: dt.datetime
    opened_at: dt.datetime = Field(description="when the remediation clock started")
    due: dt.date | None = Field(description="remediation due date under the SLA")
    last_seen: dt.datetime
    fixed_at: dt.datetime | None
    fixed_run: int | None = Field(description="the scan that no longer found it")
    accepted: Accepted | None
    exposes: list[str] = Field(description="the assets it puts at risk")


class Suggestion(BaseModel):
    risk: str
    likelihood: int
    suggested: int
    because: list[str]
    techniques: list[str]


class Listing(BaseModel):
    system: str
    counts: dict[str, int]
    sla_days: dict[str, int]
    vulnerabilities: list[Vulnerability]
    suggestions: list[Suggestion]


@router.get("", response_model=Listing)
def list_vulnerabilities(
    request: Request,
    system_id: str,
    _who: Reader,
    state: Annotated[list[State] | None, Query(max_length=5)] = None,
) -> dict[str, Any]:
    """The system's vulnerabilities, most pressing first (`state` filters: open, overdue,
    expired, accepted, fixed), with counts, the SLA and likelihood suggestions for risks."""
    return vulns.listing(context(request), system_id, state or ())


@router.post("/{vuln_id}/accept", response_model=Vulnerability)
def accept(
    request: Request, system_id: str, vuln_id: RowId, body: Acceptance, principal: Decider
) -> dict[str, Any]:
    """Accept the risk of one vulnerability until `expires`: informational, not a gap, until
    then; open (or overdue) again after."""
    who = principal.username
    return vulns.decide(
        context(request), who, system_id, vuln_id,
        lambda r, now: lifecycle.accept(r, who, body.reason, body.expires, now),
        "vulnerability-accepted",
    )  # fmt: skip


@router.post("/{vuln_id}/reopen", response_model=Vulnerability)
def reopen(request: Request, system_id: str, vuln_id: RowId, principal: Decider) -> dict[str, Any]:
    """Withdraw an acceptance: open again, on the clock it had."""
    return vulns.decide(
        context(request), principal.username, system_id, vuln_id,
        lambda r, _now: lifecycle.reopen(r), "vulnerability-reopened",
    )  # fmt: skip

"""One system's tracked vulnerabilities (docs/secdev.md): what is open, overdue, accepted and
fixed, when each is due under the organisation's SLA, what it exposes, and which risks it
suggests are more likely; security officers accept one until a date or withdraw an
acceptance (a ledger event each, then a new assessment)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from custos.server import vulns
from custos.server.context import context
from custos.server.errors import Unprocessable
from custos.server.guards import requires
from custos.server.params import RowId
from custos.server.rbac import Permission, Principal
from custos.server.web import forms, views
from custos.server.web.render import Pages
from custos.server.web.views import READ
from custos.vulns import lifecycle
from custos.vulns.model import STATES, State

SystemReader = Annotated[Principal, requires(READ, "system")]
Decider = Annotated[Principal, requires(Permission.risks_write, "system")]
Filter = Annotated[str | None, Query(max_length=200)]


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def show(
        request: Request, principal: Principal, system_id: str, state: str | None = None,
        notice: str | None = None, refusal: str | None = None, status: int = 200,
    ) -> Response:  # fmt: skip
        wanted: list[State] = [s for s in STATES if s == state]
        listing = vulns.listing(context(request), system_id, wanted)
        return views.page(
            pages, request, principal, "vulnerabilities.html", status=status,
            title=f"Vulnerabilities of {system_id}", system_id=system_id, listing=listing,
            states=STATES, state=state if wanted else None, notice=notice, refusal=refusal,
            can_decide=principal.can(Permission.risks_write, "system", system_id),
            today=context(request).now().date(),
        )  # fmt: skip

    @routes.get("/systems/{system_id}/vulnerabilities")
    def vulnerabilities(
        request: Request, system_id: str, principal: SystemReader, state: Filter = None,
        done: Filter = None, item: Filter = None,
    ) -> Response:  # fmt: skip
        return show(request, principal, system_id, state, forms.notice(done, item))

    @routes.post("/systems/{system_id}/vulnerabilities/{vuln_id}/accept")
    def accept(
        request: Request,
        system_id: str,
        vuln_id: RowId,
        principal: Decider,
        reason: Annotated[str, Form(max_length=2000)] = "",
        expires: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        who = principal.username
        try:
            until = dt.date.fromisoformat(expires.strip())
        except ValueError:
            refusal = f"expires: {expires[:20]!r} is not a date (YYYY-MM-DD)"
            return show(request, principal, system_id, refusal=refusal, status=422)
        try:
            vulns.decide(
                context(request), who, system_id, vuln_id,
                lambda r, now: lifecycle.accept(r, who, reason, until, now),
                "vulnerability-accepted",
            )  # fmt: skip
        except Unprocessable as exc:
            return show(request, principal, system_id, refusal=exc.message, status=422)
        return _done(system_id, "vuln-accepted", vuln_id)

    @routes.post("/systems/{system_id}/vulnerabilities/{vuln_id}/reopen")
    def reopen(request: Request, system_id: str, vuln_id: RowId, principal: Decider) -> Response:
        try:
            vulns.decide(
                context(request), principal.username, system_id, vuln_id,
                lambda r, _now: lifecycle.reopen(r), "vulnerability-reopened",
            )  # fmt: skip
        except Unprocessable as exc:
            return show(request, principal, system_id, refusal=exc.message, status=422)
        return _done(system_id, "vuln-reopened", vuln_id)

    return routes


def _done(system_id: str, done: str, vuln_id: int) -> Response:
    return RedirectResponse(
        f"/systems/{quote(system_id, safe='')}/vulnerabilities?done={done}&item={vuln_id}",
        status_code=303,
    )

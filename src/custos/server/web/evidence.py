"""Evidence (the newest record per check, system and asset over all stored scans) and the
attestations of the latest assessment, with their expiry."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from custos.reports.json_schema import evidence_to_dict
from custos.server.context import context
from custos.server.guards import requires
from custos.server.rbac import Principal
from custos.server.web import views
from custos.server.web.render import Pages
from custos.server.web.views import READ, SOON_DAYS, Row

Reader = Annotated[Principal, requires(READ, "any")]
Filter = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]


def _dated(item: Row, expires: str | None, now: dt.datetime) -> Row:
    """The item with flags for its expiry: within the next days, or already past."""
    soon = views.within_days(expires, now, SOON_DAYS)
    return {**item, "soon": soon, "expired": views.expired(expires, now)}


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/evidence")
    def evidence(
        request: Request, principal: Reader, system: Filter = None, check: Filter = None,
        result: Filter = None, page: PageNumber = 1,
    ) -> Response:  # fmt: skip
        ctx = context(request)
        # Read per system in the database for callers bound to some systems only.
        scope = None if views.sees_everything(principal) else views.bound_systems(principal)
        every = [evidence_to_dict(e) for e in ctx.store.latest_evidence(scope)]
        query = {"system": system, "check": check, "result": result}
        now = ctx.now()
        rows = [_dated(e, e.get("expires_at"), now) for e in views.matching(every, **query)]
        visible = views.visible_report(request, principal)
        found = visible.rows("attestations") if visible else []
        attestations = [_dated(a, a.get("expires"), now) for a in found]
        return views.page(
            pages, request, principal, "evidence.html", title="Evidence", visible=visible,
            paged=views.paginate(rows, page, query), query=query, total=len(every),
            systems=views.choices(every, "system"), checks=views.choices(every, "check"),
            results=views.choices(every, "result"), attestations=attestations,
            soon_days=SOON_DAYS,
        )  # fmt: skip

    return routes

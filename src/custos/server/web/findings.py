"""Current findings of the latest assessment, filtered by severity, system, check and rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from custos.server.guards import requires
from custos.server.rbac import Principal
from custos.server.web import views
from custos.server.web.render import Pages
from custos.server.web.views import READ

Reader = Annotated[Principal, requires(READ, "any")]
Filter = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
SEVERITIES = ("critical", "high", "medium", "low", "info")


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/findings")
    def findings(
        request: Request, principal: Reader, severity: Filter = None, system: Filter = None,
        check: Filter = None, rule: Filter = None, page: PageNumber = 1,
    ) -> Response:  # fmt: skip
        visible = views.visible_report(request, principal)
        if visible is None:
            return views.page(pages, request, principal, "findings.html", title="Findings")
        every = visible.rows("findings")  # most severe first, as the assessment ordered them
        query = {"severity": severity, "system": system, "check": check, "rule": rule}
        rows = views.matching(every, **query)
        return views.page(
            pages, request, principal, "findings.html", title="Findings", visible=visible,
            paged=views.paginate(rows, page, query), query=query, severities=SEVERITIES,
            systems=sorted(visible.ids), checks=views.choices(every, "check"),
            rules=views.choices(every, "rule"),
        )  # fmt: skip

    return routes

"""The risk register: the table and 5x5 likelihood x impact heat maps (inherent, residual).
Read-only here; editing forms go in the `risk_actions` block of risks.html."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from custos.server.guards import requires
from custos.server.rbac import Principal
from custos.server.web import charts, views
from custos.server.web.render import Pages
from custos.server.web.views import READ

Reader = Annotated[Principal, requires(READ, "any")]
Filter = Annotated[str | None, Query(max_length=200)]


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/risks")
    def risks(request: Request, principal: Reader, system: Filter = None) -> Response:
        visible = views.visible_report(request, principal)
        if visible is None:
            return views.page(pages, request, principal, "risks.html", title="Risks", visible=None)
        every = visible.rows("risks")
        shown = [r for r in every if not system or system in r.get("systems", [])]
        matrix = visible.report.get("risk_matrix") or {}
        levels = matrix.get("levels") or []
        return views.page(
            pages, request, principal, "risks.html", title="Risks", visible=visible,
            risks=shown, total=len(every), system=system or "",
            system_choices=sorted(visible.ids), appetite=matrix.get("appetite"),
            inherent=charts.heat_map(shown, "likelihood", "impact", levels),
            residual=charts.heat_map(shown, "residual_likelihood", "residual_impact", levels),
        )  # fmt: skip

    return routes

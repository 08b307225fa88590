"""The Statement of Applicability: every ISO 27002 and ISO 42001 Annex A control, whether it
applies and why, and its status on each system the caller may see.

A column per system while they fit on a screen (or for the one system filtered on); beyond
that, how many systems stand at each status, with the control's page one click away for the
per-system detail. A matrix of a thousand columns was unreadable, and 8 MB to send."""

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


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/soa")
    def soa(
        request: Request, principal: Reader, framework: Filter = None, applicable: Filter = None,
        system: Filter = None,
    ) -> Response:  # fmt: skip
        visible = views.visible_report(request, principal)
        if visible is None:
            return views.page(pages, request, principal, "soa.html", title="SoA", visible=None)
        lines = visible.soa()
        shown = [
            line for line in views.matching(lines, framework=framework)
            if not applicable or str(line.get("applicable")).lower() == applicable
        ]  # fmt: skip
        systems = sorted(visible.ids)
        chosen = system if system in visible.ids else None
        columns = views.system_columns(systems, chosen)
        return views.page(
            pages, request, principal, "soa.html", title="Statement of Applicability",
            visible=visible, lines=shown, total=len(lines), systems=systems, columns=columns,
            system=chosen or "", counts=views.status_counts if not columns else None,
            frameworks=views.choices(lines, "framework"), framework=framework or "",
            applicable=applicable or "", framework_name=views.framework_name,
        )  # fmt: skip

    return routes

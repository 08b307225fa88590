"""One system's EU AI Act Annex IV technical documentation (custos.reports.annex_iv), as the
CLI's `custos ai-act annex-iv` writes it: read by those who may download reports, about the
systems they may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from custos.inventory.documents import assemble
from custos.reports.annex_iv import build as build_annex
from custos.server.assessment import build, documents
from custos.server.context import context
from custos.server.errors import NotFound
from custos.server.guards import requires
from custos.server.rbac import Permission, Principal
from custos.server.web import views
from custos.server.web.render import Pages
from custos.workspace import system_events

Reporter = Annotated[Principal, requires(Permission.reports_read, "system")]


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/systems/{system_id}/annex-iv")
    def annex_iv(request: Request, system_id: str, principal: Reporter) -> Response:
        ctx = context(request)
        docs = documents(ctx)
        manifest = assemble(docs)
        system = (
            next((s for s in manifest.systems if s.id == system_id), None) if manifest else None
        )
        report = build(ctx, docs) if system is not None else None
        if system is None or report is None:
            raise NotFound(f"no system {system_id!r} in the inventory")
        doc = build_annex(report, system, system_events(ctx.store, system))
        return views.page(
            pages, request, principal, "annex_iv.html", title=f"Annex IV: {system.name}", doc=doc
        )

    return routes

"""The roadmap: open controls ranked by risk reduction per effort, in phases, as a Gantt chart
(bars from start to due date) over the table of owners, due dates and efforts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from custos.server.context import context
from custos.server.guards import requires
from custos.server.rbac import Principal
from custos.server.web import charts, views
from custos.server.web.render import Pages
from custos.server.web.views import READ

Reader = Annotated[Principal, requires(READ, "any")]
Filter = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
PHASES = ("0-30", "31-90", "91-180")


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/roadmap")
    def roadmap(
        request: Request, principal: Reader, phase: Filter = None, system: Filter = None,
        owner: Filter = None, page: PageNumber = 1,
    ) -> Response:  # fmt: skip
        visible = views.visible_report(request, principal)
        if visible is None:
            return views.page(pages, request, principal, "roadmap.html", title="Roadmap")
        every = visible.rows("roadmap")  # in rank order
        rows = [
            item for item in views.matching(every, phase=phase, owner=owner)
            if not system or system in item.get("systems", [])
        ]  # fmt: skip
        query = {"phase": phase, "system": system, "owner": owner}
        paged = views.paginate(rows, page, query)
        today = context(request).now().date()
        return views.page(
            pages, request, principal, "roadmap.html", title="Roadmap", visible=visible,
            paged=paged, query=query, phases=PHASES, systems=sorted(visible.ids),
            owners=views.choices(every, "owner"), total=len(every),
            counts={p: sum(1 for i in rows if i.get("phase") == p) for p in PHASES},
            chart=charts.gantt(list(paged.items), today),
        )  # fmt: skip

    return routes

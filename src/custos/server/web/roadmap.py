"""The roadmap: open controls ranked by risk reduction per effort, in phases, as a Gantt chart
(bars from start to due date) over the table of owners, due dates and efforts; security
officers assign an owner and a due date per control (an `assignment`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from custos.server import inventory
from custos.server.api.assignments import decide
from custos.server.context import context
from custos.server.errors import Unprocessable
from custos.server.guards import requires
from custos.server.inventory import Change
from custos.server.rbac import Permission, Principal
from custos.server.web import charts, views
from custos.server.web.render import Pages
from custos.server.web.views import READ

Reader = Annotated[Principal, requires(READ, "any")]
Planner = Annotated[Principal, requires(Permission.soa_write)]
Filter = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
PHASES = ("0-30", "31-90", "91-180")


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/roadmap")
    def roadmap(
        request: Request, principal: Reader, phase: Filter = None, system: Filter = None,
        owner: Filter = None, page: PageNumber = 1, done: Filter = None,
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
            can_plan=principal.can(Permission.soa_write), done=done,
        )  # fmt: skip

    @routes.post("/roadmap/{control_id}/assign")
    def assign(
        request: Request,
        control_id: str,
        principal: Planner,
        owner: Annotated[str, Form(max_length=200)] = "",
        due: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        """Decide who closes the gaps on a control and by when (empty fields: Custos' proposal)."""
        ctx = context(request)
        when = _date(due)
        if not owner.strip() and when is None:
            inventory.apply(ctx, principal.username, [Change("assignment", control_id, None)])
        else:
            decide(ctx, principal.username, control_id, owner.strip() or None, when)
        return RedirectResponse(f"/roadmap?done={quote(control_id)}", status_code=303)

    return routes


def _date(text: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise Unprocessable(f"due: {text[:20]!r} is not a date (YYYY-MM-DD)") from None

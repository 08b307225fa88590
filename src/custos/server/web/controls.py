"""Controls: the status of every (system, control) pair of the latest assessment, filtered and
paged, and one control: its status per system with reasons, its catalog text, its mappings to
other frameworks and, for an ISO 27002 control, the AI requirements that extend it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from custos.catalog import Catalog, crosswalk
from custos.catalog.model import Control, ControlId
from custos.server.errors import NotFound
from custos.server.guards import requires
from custos.server.rbac import Principal
from custos.server.web import views
from custos.server.web.render import Pages
from custos.server.web.views import READ, Row, Visible

Reader = Annotated[Principal, requires(READ, "any")]
Filter = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
AI_REQUIREMENTS = "custos-ai"


def _mappings(cat: Catalog, control: Control) -> list[dict[str, Any]]:
    """Where the catalog's mappings lead from this control, nearest first."""
    hits = sorted(crosswalk(cat, control.id), key=lambda h: (h.depth, h.target or ""))
    found = []
    for hit in hits:
        target = cat.controls.get(hit.target) if hit.target else None
        found.append({
            "target": hit.target,
            "title": target.title if target else None,
            "framework": views.framework_name(target.framework) if target else None,
            "relationship": hit.relationship,
            "rationale": hit.rationale,
            "via": hit.path[1:-1],
        })  # fmt: skip
    return found


def _statuses(visible: Visible, control_id: str) -> dict[str, Row]:
    """This control's status row per visible system."""
    return {c["system"]: c for c in visible.rows("controls") if c["id"] == control_id}


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/controls")
    def controls(
        request: Request, principal: Reader, framework: Filter = None, system: Filter = None,
        status: Filter = None, page: PageNumber = 1,
    ) -> Response:  # fmt: skip
        visible = views.visible_report(request, principal)
        if visible is None:
            return views.page(pages, request, principal, "controls.html", title="Controls")
        every = visible.rows("controls")
        rows = views.matching(every, framework=framework, system=system, status=status)
        query = {"framework": framework, "system": system, "status": status}
        return views.page(
            pages, request, principal, "controls.html", title="Controls", visible=visible,
            paged=views.paginate(rows, page, query), query=query,
            frameworks=views.choices(every, "framework"), systems=sorted(visible.ids),
            statuses=views.choices(every, "status"), framework_name=views.framework_name,
        )  # fmt: skip

    @routes.get("/controls/{control_id}")
    def control(request: Request, control_id: str, principal: Reader) -> Response:
        visible = views.visible_report(request, principal)
        cat = views.catalog()
        known = cat.controls.get(ControlId(control_id))
        statuses = _statuses(visible, control_id) if visible else {}
        if known is None and not statuses:
            raise NotFound(f"no control {control_id!r} in the catalog or the latest assessment")
        children = [c for c in cat.children(control_id) if c.framework == AI_REQUIREMENTS]
        below = [
            {"control": c, "statuses": _statuses(visible, c.id) if visible else {}}
            for c in children
        ]
        title = known.title if known else next(iter(statuses.values()))["title"]
        return views.page(
            pages, request, principal, "control.html", title=title, control_id=control_id,
            control=known, parents=cat.ancestors(control_id) if known else [],
            framework=views.framework_name(known.framework) if known else None,
            statuses=statuses, systems=sorted(visible.ids) if visible else [],
            mappings=_mappings(cat, known) if known else [], requirements=below,
            visible=visible,
        )  # fmt: skip

    return routes

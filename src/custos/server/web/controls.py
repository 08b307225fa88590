"""Controls: the status of every (system, control) pair of the latest assessment, filtered and
paged, and one control: its status per system with reasons, its catalog text, its mappings to
other frameworks and, for an ISO 27002 control, the AI requirements that extend it.

Applicability is edited on the control's page (soa:write): an exclusion marks the control not
applicable to some systems or all, with the justification the Statement of Applicability
shows; deleting it makes the control apply again. Both go through custos.server.inventory."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from custos.catalog import Catalog, crosswalk
from custos.catalog.model import Control, ControlId
from custos.inventory.documents import Document, exclusion_key
from custos.inventory.schema import Exclusion
from custos.server import inventory
from custos.server.context import context
from custos.server.errors import ApiError, Conflict, NotFound, Unprocessable
from custos.server.guards import requires
from custos.server.inventory import Change
from custos.server.rbac import Permission, Principal
from custos.server.visibility import cut_document
from custos.server.web import forms, views
from custos.server.web.forms import Long, Refusal, Short
from custos.server.web.render import Pages
from custos.server.web.views import READ, Row

Reader = Annotated[Principal, requires(READ, "any")]
SoaWriter = Annotated[Principal, requires(Permission.soa_write)]
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


class ExclusionForm(BaseModel):
    """ "Mark not applicable": to every system, or to the ticked ones, and why."""

    scope: Literal["all", "some", ""] = ""
    systems: list[Short] = []
    justification: Long = ""

    def data(self, control_id: str) -> dict[str, Any]:
        # "all" wins over ticked boxes: the radio button is the explicit choice.
        systems = [] if self.scope == "all" else self.systems
        return {"control": control_id, "systems": systems, "justification": self.justification}


def _exclusion_change(control_id: str, form: ExclusionForm) -> Change:
    if form.scope != "all" and not form.systems:
        # An empty list means "every system" to the schema: never infer that from no ticks.
        raise Unprocessable("systems: tick the systems, or choose every system")
    exclusion = forms.validated(Exclusion, form.data(control_id))
    key = exclusion_key(exclusion)
    doc = Document("exclusion", key, exclusion.model_dump(mode="json"))
    return Change("exclusion", key, doc, expect_new=True)


def _exclusions(
    request: Request, control_id: str, ids: frozenset[str], everything: bool
) -> list[Row]:
    """This control's exclusions as the caller may see them: those about their systems, with
    other systems left out of the list (as the report rows are cut)."""
    found = []
    for item in inventory.items(context(request), "exclusion"):
        body = item.document.body
        if body.get("control") != control_id:
            continue
        named = list(body.get("systems") or [])
        shown = named if everything else cut_document(body, ids, {}).get("systems") or []
        if named and not shown:
            continue
        found.append({
            "id": item.document.key, "systems": shown, "justification": body.get("justification"),
            "updated_by": item.updated_by, "updated_at": item.updated_at,
        })  # fmt: skip
    return found


def _back(control_id: str, done: str) -> Response:
    # Post/redirect/get, back to the control whose applicability changed.
    target = f"/controls/{quote(control_id, safe=':')}?done={done}#applicability"
    return RedirectResponse(target, status_code=303)


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

    def control_page(
        request: Request, principal: Principal, control_id: str, *, status: int = 200,
        page: int = 1, shown: str | None = None, **values: Any,
    ) -> Response:  # fmt: skip
        visible = views.visible_report(request, principal)
        cat = views.catalog()
        known = cat.controls.get(ControlId(control_id))
        statuses = visible.statuses(control_id) if visible else {}
        # One page of systems at a time (an estate has hundreds), filtered by status.
        listed = [
            (system, row) for system, row in sorted(statuses.items())
            if not shown or str(row.get("status")) == shown
        ]  # fmt: skip
        paged = views.paginate(listed, page, {"status": shown})
        all_systems = sorted(visible.ids) if visible else []
        if known is None and not statuses:
            raise NotFound(f"no control {control_id!r} in the catalog or the latest assessment")
        children = [c for c in cat.children(control_id) if c.framework == AI_REQUIREMENTS]
        below = []
        for child in children:
            found = visible.statuses(child.id) if visible else {}
            only = {system: row.get("status") for system, row in found.items()}
            below.append({"control": child, "statuses": found, "statuses_only": only})
        title = known.title if known else next(iter(statuses.values()))["title"]
        ids = visible.ids if visible else frozenset()
        editor = principal.can(Permission.soa_write)
        systems = inventory.items(context(request), "system") if editor else []
        return views.page(
            pages, request, principal, "control.html", status=status, title=title,
            control_id=control_id, control=known,
            parents=cat.ancestors(control_id) if known else [],
            framework=views.framework_name(known.framework) if known else None,
            statuses=statuses, paged=paged, shown=shown or "",
            counts=views.status_counts({s: r.get("status") for s, r in statuses.items()}),
            systems=all_systems, columns=views.system_columns(all_systems, None),
            status_counts=views.status_counts,
            mappings=_mappings(cat, known) if known else [], requirements=below,
            visible=visible, editor=editor,
            can_attest=principal.can(Permission.attestations_write),
            exclusions=_exclusions(request, control_id, ids, views.sees_everything(principal)),
            inventory_systems=[
                {"id": i.document.key, "name": str(i.document.body.get("name", ""))}
                for i in systems
            ],
            **values,
        )  # fmt: skip

    @routes.get("/controls/{control_id}")
    def control(
        request: Request, control_id: str, principal: Reader, done: Filter = None,
        status: Filter = None, page: PageNumber = 1,
    ) -> Response:  # fmt: skip
        return control_page(
            request, principal, control_id, page=page, shown=status,
            notice=forms.notice(done, None),
        )  # fmt: skip

    @routes.post("/controls/{control_id}/exclusions")
    def exclude(
        request: Request, control_id: str, principal: SoaWriter,
        form: Annotated[ExclusionForm, Form()],
    ) -> Response:  # fmt: skip
        try:
            change = _exclusion_change(control_id, form)
            inventory.apply(context(request), principal.username, [change])
        except Conflict:
            refusal = Refusal(
                409, "systems: already marked not applicable to these systems", "systems"
            )
            return control_page(
                request, principal, control_id, status=409, refusal=refusal, form=form.model_dump()
            )
        except ApiError as exc:
            refusal = Refusal.of(exc)
            return control_page(
                request, principal, control_id, status=refusal.status, refusal=refusal,
                form=form.model_dump(),
            )  # fmt: skip
        return _back(control_id, "excluded")

    @routes.post("/exclusions/{exclusion_id}/delete")
    def make_applicable(request: Request, exclusion_id: str, principal: SoaWriter) -> Response:
        ctx = context(request)
        found = inventory.item(ctx, "exclusion", exclusion_id)  # NotFound: a 404 page
        inventory.apply(ctx, principal.username, [Change("exclusion", exclusion_id, None)])
        return _back(str(found.document.body.get("control", "")), "applicable")

    return routes

"""The risk register: the table and 5x5 likelihood x impact heat maps (inherent, residual), and
for callers with risks:write the forms to add, edit and delete a risk.

The table shows the latest assessment's rows (every change re-assesses, so they follow the
inventory); the forms edit the server's inventory through custos.server.inventory, which
checks the change against the whole inventory and records it in the ledger."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from custos.inventory.documents import Document
from custos.inventory.schema import Risk
from custos.server import inventory
from custos.server.context import context
from custos.server.errors import ApiError
from custos.server.guards import requires
from custos.server.inventory import Change
from custos.server.rbac import Permission, Principal
from custos.server.web import charts, forms, views
from custos.server.web.forms import Long, Refusal, Short
from custos.server.web.render import Pages
from custos.server.web.views import READ

Reader = Annotated[Principal, requires(READ, "any")]
Writer = Annotated[Principal, requires(Permission.risks_write)]
Filter = Annotated[str | None, Query(max_length=200)]
TREATMENTS = ("mitigate", "accept", "transfer", "avoid")


class RiskForm(BaseModel):
    """The risk form as typed. Lists arrive as text (ids by line or comma) or as repeated
    checkboxes (systems); `data()` is what the schema model `Risk` then validates."""

    id: Short = ""
    title: Long = ""
    threats: Long = ""
    systems: list[Short] = []
    assets: Long = ""
    likelihood: Short = ""
    impact: Short = ""
    treatment: Short = ""
    controls: Long = ""
    owner: Short = ""
    review_date: Short = ""
    residual_likelihood: Short = ""
    residual_impact: Short = ""

    def data(self) -> dict[str, Any]:
        residual = forms.given(
            {"likelihood": self.residual_likelihood, "impact": self.residual_impact}
        )
        return forms.given({
            "id": self.id.strip(), "title": self.title, "threats": forms.ids(self.threats),
            "systems": self.systems, "assets": forms.ids(self.assets),
            "likelihood": self.likelihood, "impact": self.impact, "treatment": self.treatment,
            "controls": forms.ids(self.controls), "owner": self.owner.strip(),
            "review_date": self.review_date, "residual": residual or None,
        })  # fmt: skip

    @classmethod
    def of(cls, risk: Risk) -> RiskForm:
        residual = risk.residual
        return cls(
            id=risk.id, title=risk.title, threats="\n".join(risk.threats),
            systems=list(risk.systems), assets="\n".join(risk.assets),
            likelihood=str(risk.likelihood), impact=str(risk.impact), treatment=risk.treatment,
            controls="\n".join(risk.controls), owner=risk.owner or "",
            review_date=risk.review_date.isoformat() if risk.review_date else "",
            residual_likelihood=str(residual.likelihood) if residual else "",
            residual_impact=str(residual.impact) if residual else "",
        )  # fmt: skip


RiskFields = Annotated[RiskForm, Form()]


def _change(form: RiskForm, risk_id: str | None) -> Change:
    """The inventory change the form asks for; `risk_id` None: a new risk."""
    data = form.data()
    if risk_id is not None:
        data["id"] = risk_id  # the id is the URL's: editing cannot rename a risk
    risk = forms.validated(Risk, data)
    doc = Document("risk", risk.id, risk.model_dump(mode="json"))
    return Change("risk", risk.id, doc, expect_new=risk_id is None)


def _saved(done: str, risk_id: str) -> Response:
    # Post/redirect/get: a reload does not submit the form again.
    item = quote(risk_id, safe="")
    target = f"/risks?done={done}&item={item}"
    if done != "risk-deleted":
        target += f"#risk-{item}"
    return RedirectResponse(target, status_code=303)


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def system_choices(request: Request) -> list[dict[str, str]]:
        found = inventory.items(context(request), "system")
        return [{"id": i.document.key, "name": str(i.document.body.get("name", ""))} for i in found]

    def register(
        request: Request, principal: Principal, *, status: int = 200, system: str | None = None,
        form: RiskForm | None = None, refusal: Refusal | None = None, notice: str | None = None,
    ) -> Response:  # fmt: skip
        editor = principal.can(Permission.risks_write)
        values: dict[str, Any] = {
            "title": "Risks", "editor": editor, "refusal": refusal, "notice": notice,
            "form": form.model_dump() if form else None,
            "inventory_systems": system_choices(request) if editor else [],
            "editable": (
                {i.document.key for i in inventory.items(context(request), "risk")}
                if editor else set()
            ),
            "treatments": TREATMENTS,
        }  # fmt: skip
        visible = views.visible_report(request, principal)
        if visible is None:
            return views.page(
                pages, request, principal, "risks.html", status=status, visible=None, **values
            )
        every = visible.rows("risks")
        shown = [r for r in every if not system or system in r.get("systems", [])]
        matrix = visible.report.get("risk_matrix") or {}
        levels = matrix.get("levels") or []
        return views.page(
            pages, request, principal, "risks.html", status=status, visible=visible,
            risks=shown, total=len(every), system=system or "",
            system_choices=sorted(visible.ids), appetite=matrix.get("appetite"),
            inherent=charts.heat_map(shown, "likelihood", "impact", levels),
            residual=charts.heat_map(shown, "residual_likelihood", "residual_impact", levels),
            **values,
        )  # fmt: skip

    def edit_page(
        request: Request, principal: Principal, risk_id: str, form: RiskForm | None = None,
        refusal: Refusal | None = None, status: int = 200,
    ) -> Response:  # fmt: skip
        found = inventory.item(context(request), "risk", risk_id)  # NotFound: a 404 page
        current = RiskForm.of(Risk.model_validate(dict(found.document.body)))
        return views.page(
            pages, request, principal, "risk_edit.html", status=status,
            title=f"Edit risk {risk_id}", risk_id=risk_id, source=found.source,
            updated_at=found.updated_at, updated_by=found.updated_by,
            form=(form or current).model_dump(), refusal=refusal,
            inventory_systems=system_choices(request), treatments=TREATMENTS,
        )  # fmt: skip

    @routes.get("/risks")
    def risks(
        request: Request, principal: Reader, system: Filter = None, done: Filter = None,
        item: Filter = None,
    ) -> Response:  # fmt: skip
        return register(request, principal, system=system, notice=forms.notice(done, item))

    @routes.post("/risks/new")
    def create(request: Request, principal: Writer, form: RiskFields) -> Response:
        try:
            change = _change(form, None)
            inventory.apply(context(request), principal.username, [change])
        except ApiError as exc:
            refusal = Refusal.of(exc)
            return register(request, principal, status=refusal.status, form=form, refusal=refusal)
        return _saved("risk-added", change.key)

    @routes.get("/risks/{risk_id}/edit")
    def edit(request: Request, risk_id: str, principal: Writer) -> Response:
        return edit_page(request, principal, risk_id)

    @routes.post("/risks/{risk_id}/edit")
    def save(request: Request, risk_id: str, principal: Writer, form: RiskFields) -> Response:
        try:
            inventory.apply(context(request), principal.username, [_change(form, risk_id)])
        except ApiError as exc:
            if exc.status == 404:
                raise  # the risk is gone: nothing to show a form for
            refusal = Refusal.of(exc)
            return edit_page(request, principal, risk_id, form, refusal, refusal.status)
        return _saved("risk-saved", risk_id)

    @routes.post("/risks/{risk_id}/delete")
    def delete(request: Request, risk_id: str, principal: Writer) -> Response:
        try:
            inventory.apply(context(request), principal.username, [Change("risk", risk_id, None)])
        except ApiError as exc:
            if exc.status == 404:
                raise
            # Deleting can only break a reference to the risk; say so on its edit page.
            refusal = Refusal.of(exc)
            return edit_page(request, principal, risk_id, None, refusal, refusal.status)
        return _saved("risk-deleted", risk_id)

    return routes

"""Evidence (the newest record per check, system and asset over all stored scans) and the
attestations of the latest assessment, with their expiry; for callers with attestations:write
the forms to record an attestation (with its document) and to attach or replace a file.

Files go through `custos.server.api.register.attach`, as on the API: the bytes are stored and
their SHA-256 pinned in the attestation, so it stops counting if anyone swaps the file."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from custos.inventory.documents import Document
from custos.inventory.schema import Attestation
from custos.reports.json_schema import evidence_with_provenance
from custos.server import inventory
from custos.server.api import register
from custos.server.context import context
from custos.server.errors import ApiError, Unprocessable
from custos.server.guards import requires
from custos.server.inventory import Change
from custos.server.rbac import Permission, Principal
from custos.server.web import forms, views
from custos.server.web.forms import Long, Refusal, Short
from custos.server.web.render import Pages
from custos.server.web.views import READ, SOON_DAYS, Row

Reader = Annotated[Principal, requires(READ, "any")]
Writer = Annotated[Principal, requires(Permission.attestations_write)]
Filter = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
Upload = Annotated[UploadFile | None, File()]
# The controls offered as suggestions in the form: those an attestation usually speaks to.
SUGGESTED = frozenset({"iso27002", "iso42001", "custos-ai"})


class AttestationForm(BaseModel):
    """The attestation form as typed; `data()` is what the schema model validates."""

    id: Short = ""
    control: Short = ""
    systems: list[Short] = []
    statement: Long = ""
    author: Short = ""
    date: Short = ""
    expires: Short = ""

    def data(self) -> dict[str, Any]:
        return forms.given({
            "id": self.id.strip(), "control": self.control.strip(), "systems": self.systems,
            "statement": self.statement, "author": self.author, "date": self.date,
            "expires": self.expires,
        })  # fmt: skip


AttestationFields = Annotated[AttestationForm, Form()]


def _dated(item: Row, expires: str | None, now: dt.datetime) -> Row:
    """The item with flags for its expiry: within the next days, or already past."""
    soon = views.within_days(expires, now, SOON_DAYS)
    return {**item, "soon": soon, "expired": views.expired(expires, now)}


def _upload(file: UploadFile | None) -> bytes | None:
    """The chosen file's bytes (None: no file chosen), checked as the API checks them."""
    if file is None or not file.filename:
        return None
    return register.checked_upload(file.file.read(register.MAX_UPLOAD + 1))


def _saved(done: str, attestation_id: str) -> Response:
    # Post/redirect/get: a reload does not send the form (or the file) again.
    item = quote(attestation_id, safe="")
    return RedirectResponse(
        f"/evidence?done={done}&item={item}#attestation-{item}", status_code=303
    )


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def editing(request: Request, principal: Principal) -> dict[str, Any]:
        """What the forms need: the inventory's systems and suggested controls."""
        if not principal.can(Permission.attestations_write):
            return {"editor": False}
        systems = inventory.items(context(request), "system")
        controls = [
            {"id": c.id, "title": c.title}
            for c in sorted(views.catalog().controls.values(), key=lambda c: c.id)
            if c.framework in SUGGESTED
        ]
        return {
            "editor": True, "controls": controls, "today": context(request).now().date(),
            "inventory_systems": [
                {"id": i.document.key, "name": str(i.document.body.get("name", ""))}
                for i in systems
            ],
        }  # fmt: skip

    def show(
        request: Request, principal: Principal, *, status: int = 200,
        query: dict[str, str | None] | None = None, page: int = 1, **values: Any,
    ) -> Response:  # fmt: skip
        ctx = context(request)
        # Read per system in the database for callers bound to some systems only.
        scope = None if views.sees_everything(principal) else views.bound_systems(principal)
        every = [evidence_with_provenance(e) for e in ctx.store.latest_evidence(scope)]
        query = query or {"system": None, "check": None, "result": None}
        now = ctx.now()
        rows = [_dated(e, e.get("expires_at"), now) for e in views.matching(every, **query)]
        visible = views.visible_report(request, principal)
        found = visible.rows("attestations") if visible else []
        attestations = [_dated(a, a.get("expires"), now) for a in found]
        stored = inventory.items(ctx, "attestation")
        uploaded = {
            i.document.key for i in stored
            if str(i.document.body.get("evidence") or "").startswith(register.UPLOAD_PREFIX)
        }  # fmt: skip
        return views.page(
            pages, request, principal, "evidence.html", status=status, title="Evidence",
            visible=visible, paged=views.paginate(rows, page, query), query=query,
            total=len(every), systems=views.choices(every, "system"),
            checks=views.choices(every, "check"), results=views.choices(every, "result"),
            attestations=attestations, soon_days=SOON_DAYS, uploaded=uploaded,
            in_inventory={i.document.key for i in stored},
            **editing(request, principal), **values,
        )  # fmt: skip

    @routes.get("/evidence")
    def evidence(
        request: Request, principal: Reader, system: Filter = None, check: Filter = None,
        result: Filter = None, page: PageNumber = 1, done: Filter = None, item: Filter = None,
        attest: Filter = None,
    ) -> Response:  # fmt: skip
        query = {"system": system, "check": check, "result": result}
        # `attest`: the control page's "record an attestation" link fills in the control.
        form = {"control": attest} if attest else None
        return show(
            request, principal, query=query, page=page, notice=forms.notice(done, item),
            form=form, open_form=bool(attest),
        )  # fmt: skip

    @routes.post("/attestations/new")
    def create(
        request: Request, principal: Writer, form: AttestationFields, file: Upload = None
    ) -> Response:
        ctx = context(request)
        try:
            attestation = forms.validated(Attestation, form.data())
            data = _upload(file)  # checked before anything is stored
            doc = Document("attestation", attestation.id, attestation.model_dump(mode="json"))
            change = Change("attestation", attestation.id, doc, expect_new=True)
            inventory.apply(ctx, principal.username, [change])
            if file is not None and data is not None:
                register.attach(ctx, principal.username, attestation.id, file, data)
        except ApiError as exc:
            refusal = Refusal.of(exc)
            return show(
                request, principal, status=refusal.status, refusal=refusal,
                form=form.model_dump(), open_form=True,
            )  # fmt: skip
        return _saved("attestation-added", attestation.id)

    @routes.post("/attestations/{attestation_id}/file")
    def attach_file(
        request: Request, attestation_id: str, principal: Writer, file: Upload = None
    ) -> Response:
        try:
            data = _upload(file)
            if file is None or data is None:
                raise Unprocessable("file: choose the file to attach")
            register.attach(context(request), principal.username, attestation_id, file, data)
        except ApiError as exc:
            if exc.status == 404:
                raise  # no such attestation: a 404 page
            refused = {"id": attestation_id, "message": Refusal.of(exc).message}
            return show(request, principal, status=exc.status, file_refusal=refused)
        return _saved("file-attached", attestation_id)

    return routes

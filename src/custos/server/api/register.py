"""The risk register, attestations (with uploaded evidence files) and exclusions. Security
officers write them; everyone who reads systems sees those about their systems."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, UploadFile
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from custos.inventory.documents import Document, Kind, exclusion_key
from custos.inventory.schema import Attestation, Exclusion, Risk, Treatment
from custos.server import inventory
from custos.server.api.inventory import Stored, stored
from custos.server.api.paging import Limit, Offset, Page, matches, page_of, visible
from custos.server.api.responses import inventory_list
from custos.server.context import AppContext, context
from custos.server.errors import Forbidden, NotFound, Unprocessable
from custos.server.guards import requires
from custos.server.inventory import Change
from custos.server.rbac import Permission, Principal
from custos.server.visibility import cut_document
from custos.store import auth_store, inventory_store

router = APIRouter(prefix="/api/v1", tags=["register"])

Reader = Annotated[Principal, requires(Permission.systems_read, "any")]
RiskWriter = Annotated[Principal, requires(Permission.risks_write)]
AttestationWriter = Annotated[Principal, requires(Permission.attestations_write)]
SoaWriter = Annotated[Principal, requires(Permission.soa_write)]
MAX_UPLOAD = 25 * 1024 * 1024  # attestation documents: policies, minutes, certificates
UPLOAD_PREFIX = "upload:"


def _asset_systems(ctx: AppContext) -> dict[str, str | None]:
    with auth_store.transaction(ctx.store) as conn:
        return inventory_store.owners(conn, "asset")


def _risk_systems(body: Mapping[str, Any], owners: Mapping[str, str | None]) -> list[str]:
    """The systems a risk is about: its own, and those of its assets (from the stored body,
    so a list filters before validating anything)."""
    systems = [str(s) for s in body.get("systems") or []]
    return [*systems, *(owners.get(str(a)) or "" for a in body.get("assets") or [])]


def _listed(body: Mapping[str, Any], field: str) -> list[str]:
    return [str(v) for v in body.get(field) or []]


def _as_seen(
    scope: frozenset[str] | None, item: inventory_store.Item, owners: Mapping[str, str | None]
) -> inventory_store.Item:
    """The item as a caller seeing the systems `scope` (None: all) may see it: a document
    naming several systems cut to theirs (see custos.server.visibility)."""
    if scope is None:
        return item
    body = cut_document(item.document.body, scope, owners)
    return dataclasses.replace(item, document=dataclasses.replace(item.document, body=body))


def _one(request: Request, principal: Principal, kind: Kind, key: str) -> inventory_store.Item:
    """The item; 403 when it is about systems the caller may not see."""
    ctx = context(request)
    found = inventory.item(ctx, kind, key)
    systems = list(found.document.body.get("systems") or [])
    owners = _asset_systems(ctx) if kind == "risk" else {}
    if kind == "risk":
        systems = _risk_systems(found.document.body, owners)
    if not visible(principal, [found], lambda _i: systems):
        raise Forbidden(f"you lack the {Permission.systems_read.value} permission here")
    return _as_seen(principal.system_scope(Permission.systems_read), found, owners)


def _put(request: Request, actor: str, kind: Kind, key: str, body: BaseModel, new: bool) -> None:
    doc = Document(
        kind, key, body.model_dump(mode="json"), file_sha256=_kept_file(request, kind, key)
    )
    inventory.apply(context(request), actor, [Change(kind, key, doc, expect_new=new)])


def _kept_file(request: Request, kind: Kind, key: str) -> str | None:
    """An attestation keeps the digest of its uploaded file across edits."""
    if kind != "attestation":
        return None
    with auth_store.transaction(context(request).store) as conn:
        found = inventory_store.get(conn, kind, key)
    return found.document.file_sha256 if found else None


def _same_id(path_id: str, body_id: str) -> None:
    if path_id != body_id:
        raise Unprocessable(f"id: the body says {body_id!r}, the URL says {path_id!r}")


# -- risks -------------------------------------------------------------------------------------


@router.get("/risks", response_model=Page[Stored[Risk]])
def list_risks(
    request: Request,
    principal: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    system: Annotated[str | None, Query(max_length=200)] = None,
    treatment: Annotated[Treatment | None, Query()] = None,
    owner: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    scope = principal.system_scope(Permission.systems_read)

    def build(conn: Connection) -> Page[Stored[Risk]]:
        owners = inventory_store.owners(conn, "asset")
        seen = visible(
            principal,
            inventory_store.items(conn, "risk"),
            lambda i: _risk_systems(i.document.body, owners),
        )
        # Filtered after the cut: a filter on a system the caller may not see matches nothing.
        rows = [
            i
            for i in (_as_seen(scope, i, owners) for i in seen)
            if (system is None or system in _risk_systems(i.document.body, owners))
            and matches(dict(i.document.body), treatment=treatment, owner=owner)
        ]
        return page_of(rows, limit, offset, lambda i: stored(Risk, i))

    key = ("risks", scope, system, treatment, owner, limit, offset)
    return inventory_list(request, key, build)


@router.post("/risks", status_code=201, response_model=Stored[Risk])
def create_risk(request: Request, body: Risk, principal: RiskWriter) -> Stored[Risk]:
    _put(request, principal.username, "risk", body.id, body, new=True)
    return stored(Risk, inventory.item(context(request), "risk", body.id))


@router.get("/risks/{risk_id}", response_model=Stored[Risk])
def get_risk(request: Request, risk_id: str, principal: Reader) -> Stored[Risk]:
    return stored(Risk, _one(request, principal, "risk", risk_id))


@router.put("/risks/{risk_id}", response_model=Stored[Risk])
def put_risk(request: Request, risk_id: str, body: Risk, principal: RiskWriter) -> Stored[Risk]:
    _same_id(risk_id, body.id)
    _put(request, principal.username, "risk", risk_id, body, new=False)
    return stored(Risk, inventory.item(context(request), "risk", risk_id))


@router.delete("/risks/{risk_id}", status_code=204, response_class=Response)
def delete_risk(request: Request, risk_id: str, principal: RiskWriter) -> Response:
    inventory.apply(context(request), principal.username, [Change("risk", risk_id, None)])
    return Response(status_code=204)


# -- attestations ------------------------------------------------------------------------------


@router.get("/attestations", response_model=Page[Stored[Attestation]])
def list_attestations(
    request: Request,
    principal: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    system: Annotated[str | None, Query(max_length=200)] = None,
    control: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    def systems(i: inventory_store.Item) -> list[str]:
        return _listed(i.document.body, "systems")

    scope = principal.system_scope(Permission.systems_read)

    def build(conn: Connection) -> Page[Stored[Attestation]]:
        seen = visible(principal, inventory_store.items(conn, "attestation"), systems)
        rows = [
            i
            for i in (_as_seen(scope, i, {}) for i in seen)
            if (system is None or not systems(i) or system in systems(i))
            and matches(dict(i.document.body), control=control)
        ]
        return page_of(rows, limit, offset, lambda i: stored(Attestation, i))

    key = ("attestations", scope, system, control, limit, offset)
    return inventory_list(request, key, build)


@router.post("/attestations", status_code=201, response_model=Stored[Attestation])
def create_attestation(
    request: Request, body: Attestation, principal: AttestationWriter
) -> Stored[Attestation]:
    _no_upload_ref(body)
    _put(request, principal.username, "attestation", body.id, body, new=True)
    return stored(Attestation, inventory.item(context(request), "attestation", body.id))


@router.get("/attestations/{attestation_id}", response_model=Stored[Attestation])
def get_attestation(
    request: Request, attestation_id: str, principal: Reader
) -> Stored[Attestation]:
    return stored(Attestation, _one(request, principal, "attestation", attestation_id))


@router.put("/attestations/{attestation_id}", response_model=Stored[Attestation])
def put_attestation(
    request: Request, attestation_id: str, body: Attestation, principal: AttestationWriter
) -> Stored[Attestation]:
    _same_id(attestation_id, body.id)
    current = Attestation.model_validate(
        dict(inventory.item(context(request), "attestation", attestation_id).document.body)
    )
    if body.evidence != current.evidence:
        _no_upload_ref(body)
    _put(request, principal.username, "attestation", attestation_id, body, new=False)
    return stored(Attestation, inventory.item(context(request), "attestation", attestation_id))


@router.delete("/attestations/{attestation_id}", status_code=204, response_class=Response)
def delete_attestation(
    request: Request, attestation_id: str, principal: AttestationWriter
) -> Response:
    change = Change("attestation", attestation_id, None)
    inventory.apply(context(request), principal.username, [change])
    return Response(status_code=204)


def _no_upload_ref(body: Attestation) -> None:
    if body.evidence is not None and body.evidence.startswith(UPLOAD_PREFIX):
        raise Unprocessable("evidence: upload the file with POST .../attestations/{id}/file")


class Uploaded(BaseModel):
    attestation: Stored[Attestation]
    sha256: str
    size: int
    filename: str


@router.post("/attestations/{attestation_id}/file", status_code=201, response_model=Uploaded)
async def upload_file(
    request: Request, attestation_id: str, file: UploadFile, principal: AttestationWriter
) -> Uploaded:
    """Attach the evidence document: its SHA-256 is recorded and pinned in the attestation,
    so the attestation stops counting if anyone swaps the file."""
    data = checked_upload(await file.read(MAX_UPLOAD + 1))
    return attach(context(request), principal.username, attestation_id, file, data)


def checked_upload(data: bytes) -> bytes:
    """The uploaded bytes (read with at most MAX_UPLOAD + 1), or Unprocessable when empty or
    too large; the API and the web form take the same files."""
    if len(data) > MAX_UPLOAD:
        raise Unprocessable(f"file: larger than {MAX_UPLOAD // (1024 * 1024)} MiB")
    if not data:
        raise Unprocessable("file: empty")
    return data


def attach(
    ctx: AppContext, actor: str, attestation_id: str, file: UploadFile, data: bytes
) -> Uploaded:
    current = Attestation.model_validate(
        dict(inventory.item(ctx, "attestation", attestation_id).document.body)
    )
    digest = hashlib.sha256(data).hexdigest()
    # Only plain characters: the name goes back out in a Content-Disposition header.
    name = re.sub(r"[^A-Za-z0-9._ -]", "_", file.filename or "evidence")[:200] or "evidence"
    with auth_store.transaction(ctx.store) as conn:
        attachment_id = inventory_store.add_attachment(
            conn, sha256=digest, filename=name,
            media_type=file.content_type or "application/octet-stream", data=data,
            now=ctx.now(), actor=actor,
        )  # fmt: skip
    updated = current.model_copy(
        update={"evidence": f"{UPLOAD_PREFIX}{attachment_id}/{name}", "sha256": digest}
    )
    doc = Document(
        "attestation", attestation_id, updated.model_dump(mode="json"), file_sha256=digest
    )
    inventory.apply(ctx, actor, [Change("attestation", attestation_id, doc)])
    item = inventory.item(ctx, "attestation", attestation_id)
    return Uploaded(
        attestation=stored(Attestation, item), sha256=digest, size=len(data), filename=name
    )


@router.get("/attestations/{attestation_id}/file", response_class=Response)
def download_file(request: Request, attestation_id: str, principal: Reader) -> Response:
    found = Attestation.model_validate(
        dict(_one(request, principal, "attestation", attestation_id).document.body)
    )
    ref = found.evidence or ""
    if not ref.startswith(UPLOAD_PREFIX):
        raise NotFound("this attestation has no uploaded file")
    number = ref[len(UPLOAD_PREFIX) :].split("/", 1)[0]
    if not number.isdigit():
        raise NotFound("this attestation has no uploaded file")
    attachment_id = int(number)
    with auth_store.transaction(context(request).store) as conn:
        got = inventory_store.attachment(conn, attachment_id)
    if got is None or got[0].sha256 != found.sha256:
        # The attestation must pin this very file: an id alone would let anyone who can write
        # an attestation read any other upload.
        raise NotFound("the uploaded file is gone")
    info, data = got
    # Served as a download, never rendered: an uploaded HTML file must not run in our origin.
    headers = {
        "Content-Disposition": f'attachment; filename="{info.filename}"',
        "X-Content-SHA256": info.sha256,
    }
    return Response(data, media_type="application/octet-stream", headers=headers)


# -- exclusions --------------------------------------------------------------------------------


class StoredExclusion(Stored[Exclusion]):
    id: str


def _exclusion(item: inventory_store.Item) -> StoredExclusion:
    return StoredExclusion(id=item.document.key, **stored(Exclusion, item).model_dump())


@router.get("/exclusions", response_model=Page[StoredExclusion])
def list_exclusions(
    request: Request,
    principal: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    control: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    scope = principal.system_scope(Permission.systems_read)

    def build(conn: Connection) -> Page[StoredExclusion]:
        rows = [
            i
            for i in inventory_store.items(conn, "exclusion")
            if matches(dict(i.document.body), control=control)
        ]
        rows = visible(principal, rows, lambda i: _listed(i.document.body, "systems"))
        return page_of([_as_seen(scope, i, {}) for i in rows], limit, offset, _exclusion)

    return inventory_list(request, ("exclusions", scope, control, limit, offset), build)


@router.post("/exclusions", status_code=201, response_model=StoredExclusion)
def create_exclusion(request: Request, body: Exclusion, principal: SoaWriter) -> StoredExclusion:
    """Declare a control not applicable (to some systems, or all), with the justification the
    Statement of Applicability shows."""
    key = exclusion_key(body)
    _put(request, principal.username, "exclusion", key, body, new=True)
    return _exclusion(inventory.item(context(request), "exclusion", key))


@router.delete("/exclusions/{exclusion_id}", status_code=204, response_class=Response)
def delete_exclusion(request: Request, exclusion_id: str, principal: SoaWriter) -> Response:
    inventory.apply(context(request), principal.username, [Change("exclusion", exclusion_id, None)])
    return Response(status_code=204)

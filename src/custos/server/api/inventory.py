"""The inventory: the organisation, AI systems and their assets. Lists are paginated and show
only the systems the caller may see; assets are written by the engineers of their system."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Generic, Literal, TypeVar

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from custos.inventory.documents import SINGLETON_KEY, Document
from custos.inventory.schema import AISystem, Asset, AssetKind, Lifecycle, Organisation
from custos.server import inventory
from custos.server.api.paging import Limit, Offset, Page
from custos.server.api.responses import inventory_list
from custos.server.context import context
from custos.server.errors import NotFound, Unprocessable
from custos.server.guards import requires
from custos.server.inventory import Change
from custos.server.rbac import Permission, Principal
from custos.store import inventory_store
from custos.store.inventory_store import Item

router = APIRouter(prefix="/api/v1", tags=["inventory"])
M = TypeVar("M", bound=BaseModel)

Reader = Annotated[Principal, requires(Permission.systems_read, "any")]
Writer = Annotated[Principal, requires(Permission.inventory_write)]
SystemReader = Annotated[Principal, requires(Permission.systems_read, "system")]
AssetWriter = Annotated[Principal, requires(Permission.assets_write, "system")]


class Stored(BaseModel, Generic[M]):
    """An inventory item with where it came from: `manifest` (pushed by the CLI from
    custos.yaml; the next push may change it) or `server` (made here)."""

    data: M
    source: Literal["manifest", "server"]
    updated_at: dt.datetime
    updated_by: str


@functools.cache
def _stored_type(model: type[M]) -> type[Stored[M]]:
    # Parametrising a generic model per call looked the class up each time: most of a list.
    return Stored[model]  # type: ignore[valid-type]


def stored(model: type[M], item: Item) -> Stored[M]:
    """One validation of the stored body and its provenance together."""
    return _stored_type(model).model_validate(
        {
            "data": item.document.body,
            "source": "manifest" if item.source == "manifest" else "server",
            "updated_at": item.updated_at,
            "updated_by": item.updated_by,
        }
    )


def _same_id(path_id: str, body_id: str, what: str) -> None:
    if path_id != body_id:
        raise Unprocessable(f"id: the {what} in the body is {body_id!r}, the URL says {path_id!r}")


# -- organisation ------------------------------------------------------------------------------


@router.get("/organisation", response_model=Stored[Organisation])
def get_organisation(request: Request, _who: Reader) -> Stored[Organisation]:
    return stored(Organisation, inventory.item(context(request), "organisation", SINGLETON_KEY))


@router.put("/organisation", response_model=Stored[Organisation])
def put_organisation(
    request: Request, body: Organisation, principal: Writer
) -> Stored[Organisation]:
    ctx = context(request)
    exists = any(True for _ in inventory.items(ctx, "organisation"))
    doc = Document("organisation", SINGLETON_KEY, body.model_dump(mode="json"))
    change = Change("organisation", SINGLETON_KEY, doc, expect_new=not exists)
    inventory.apply(ctx, principal.username, [change])
    return get_organisation(request, principal)


# -- AI systems --------------------------------------------------------------------------------


def _system_doc(body: AISystem) -> Document:
    if body.assets:
        raise Unprocessable(
            "assets: add assets with POST /api/v1/systems/{system_id}/assets, one at a time"
        )
    return Document("system", body.id, body.model_dump(mode="json", exclude={"assets"}))


@router.get("/systems", response_model=Page[Stored[AISystem]])
def list_systems(
    request: Request,
    principal: Reader,
    limit: Limit = 50,
    offset: Offset = 0,
    lifecycle: Annotated[Lifecycle | None, Query()] = None,
) -> Response:
    """Filtered and paged in the database, so only the page is read and validated; kept
    while the inventory is unchanged."""
    scope = principal.system_scope(Permission.systems_read)

    def build(conn: Connection) -> Page[Stored[AISystem]]:
        found, total = inventory_store.page(
            conn, "system", limit=limit, offset=offset, keys=scope,
            fields={"lifecycle": lifecycle},
        )  # fmt: skip
        items = [stored(AISystem, item) for item in found]
        return Page(items=items, total=total, limit=limit, offset=offset)

    return inventory_list(request, ("systems", scope, lifecycle, limit, offset), build)


@router.post("/systems", status_code=201, response_model=Stored[AISystem])
def create_system(request: Request, body: AISystem, principal: Writer) -> Stored[AISystem]:
    ctx = context(request)
    inventory.apply(ctx, principal.username, [Change("system", body.id, _system_doc(body), True)])
    return stored(AISystem, inventory.item(ctx, "system", body.id))


@router.get("/systems/{system_id}", response_model=Stored[AISystem])
def get_system(request: Request, system_id: str, _who: SystemReader) -> Stored[AISystem]:
    return stored(AISystem, inventory.item(context(request), "system", system_id))


@router.put("/systems/{system_id}", response_model=Stored[AISystem])
def put_system(
    request: Request, system_id: str, body: AISystem, principal: Writer
) -> Stored[AISystem]:
    _same_id(system_id, body.id, "system id")
    ctx = context(request)
    inventory.apply(ctx, principal.username, [Change("system", system_id, _system_doc(body))])
    return stored(AISystem, inventory.item(ctx, "system", system_id))


@router.delete("/systems/{system_id}", status_code=204, response_class=Response)
def delete_system(request: Request, system_id: str, principal: Writer) -> Response:
    """Deletes the system and its assets; refused while a risk or attestation names them."""
    ctx = context(request)
    assets = [i for i in inventory.items(ctx, "asset") if i.document.system == system_id]
    changes = [Change("system", system_id, None)]
    changes += [Change("asset", a.document.key, None) for a in assets]
    inventory.apply(ctx, principal.username, changes)
    return Response(status_code=204)


# -- assets ------------------------------------------------------------------------------------


def _asset_of(request: Request, system_id: str, asset_id: str) -> Item:
    found = inventory.item(context(request), "asset", asset_id)
    if found.document.system != system_id:
        raise NotFound(f"no asset {asset_id!r} in system {system_id!r}")
    return found


@router.get("/systems/{system_id}/assets", response_model=Page[Stored[Asset]])
def list_assets(
    request: Request,
    system_id: str,
    _who: SystemReader,
    limit: Limit = 50,
    offset: Offset = 0,
    kind: Annotated[AssetKind | None, Query()] = None,
) -> Response:
    inventory.item(context(request), "system", system_id)  # 404 for an unknown system

    def build(conn: Connection) -> Page[Stored[Asset]]:
        found, total = inventory_store.page(
            conn, "asset", limit=limit, offset=offset, system=system_id, fields={"kind": kind},
        )  # fmt: skip
        items = [stored(Asset, item) for item in found]
        return Page(items=items, total=total, limit=limit, offset=offset)

    return inventory_list(request, ("assets", system_id, kind, limit, offset), build)


@router.post("/systems/{system_id}/assets", status_code=201, response_model=Stored[Asset])
def create_asset(
    request: Request, system_id: str, body: Asset, principal: AssetWriter
) -> Stored[Asset]:
    ctx = context(request)
    inventory.item(ctx, "system", system_id)
    doc = Document("asset", body.id, body.model_dump(mode="json"), system=system_id)
    inventory.apply(ctx, principal.username, [Change("asset", body.id, doc, expect_new=True)])
    return stored(Asset, inventory.item(ctx, "asset", body.id))


@router.get("/systems/{system_id}/assets/{asset_id}", response_model=Stored[Asset])
def get_asset(request: Request, system_id: str, asset_id: str, _who: SystemReader) -> Stored[Asset]:
    return stored(Asset, _asset_of(request, system_id, asset_id))


@router.put("/systems/{system_id}/assets/{asset_id}", response_model=Stored[Asset])
def put_asset(
    request: Request, system_id: str, asset_id: str, body: Asset, principal: AssetWriter
) -> Stored[Asset]:
    _same_id(asset_id, body.id, "asset id")
    _asset_of(request, system_id, asset_id)
    doc = Document("asset", asset_id, body.model_dump(mode="json"), system=system_id)
    inventory.apply(context(request), principal.username, [Change("asset", asset_id, doc)])
    return stored(Asset, inventory.item(context(request), "asset", asset_id))


@router.delete("/systems/{system_id}/assets/{asset_id}", status_code=204, response_class=Response)
def delete_asset(
    request: Request, system_id: str, asset_id: str, principal: AssetWriter
) -> Response:
    _asset_of(request, system_id, asset_id)
    inventory.apply(context(request), principal.username, [Change("asset", asset_id, None)])
    return Response(status_code=204)

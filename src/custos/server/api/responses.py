"""JSON answers built from a validated pydantic model.

A route that returns a model makes FastAPI validate it a second time against `response_model`
and, for a sync route, in one more hop to the thread pool; on the list routes that was most of
the time a request took. The routes build their model (validated once, in their own thread),
return it as bytes from pydantic-core, and keep `response_model` for the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy.engine import Connection

from custos.server.context import context
from custos.store import auth_store, inventory_store

MEDIA = "application/json"


def json_of(model: BaseModel, status_code: int = 200) -> Response:
    return Response(_bytes(model), status_code, media_type=MEDIA)


def json_data(value: Any) -> Response:
    """Plain JSON data (dicts, lists, strings, numbers) as an answer, without a model."""
    return Response(to_json(value), media_type=MEDIA)


def inventory_list(
    request: Request, key: Hashable, build: Callable[[Connection], BaseModel]
) -> Response:
    """A list of inventory items, kept while the inventory is unchanged (server/list_cache.py);
    `key` must name everything the page depends on besides the inventory: the route, the
    caller's visible systems, the filters and the paging."""
    ctx = context(request)
    with auth_store.transaction(ctx.store) as conn:
        generation = inventory_store.generation(conn)
        body = ctx.lists.get(generation, key, lambda: _bytes(build(conn)))
    return Response(body, media_type=MEDIA)


def _bytes(model: BaseModel) -> bytes:
    return model.__pydantic_serializer__.to_json(model)

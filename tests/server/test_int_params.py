"""Integers from the path and the query never give a 5xx (issue 13: a huge token id gave 500).
Every route of the app with an integer path or query parameter, found from the app itself, is
called with values around and far beyond every integer width, and with text."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from custos.server.app import create_app
from custos.server.guards import routes
from custos.server.params import MAX_ID
from custos.server.rbac import Binding, Role
from custos.server.settings import Settings
from tests.server.conftest import Running
from tests.server.helpers import api_csrf
from tests.server.inventory_data import SYSTEM_A, seed

OUT_OF_RANGE: tuple[Any, ...] = (-1, 2**31, 2**63, 10**30, "abc", "1e3")
EDGES: tuple[Any, ...] = (0, MAX_ID)  # may exist or not: never a 5xx either
FILLERS = {"system_id": SYSTEM_A, "report_format": "md"}  # other path parameters


@dataclass(frozen=True)
class IntParam:
    method: str
    path: str
    name: str
    where: str  # "path" or "query"
    bounds: tuple[int | None, int | None]


def _walk(dependant: Dependant) -> Iterator[tuple[str, Any]]:
    yield from (("path", f) for f in dependant.path_params)
    yield from (("query", f) for f in dependant.query_params)
    for sub in dependant.dependencies:
        yield from _walk(sub)


def _bounds(field: Any) -> tuple[int | None, int | None]:
    low = next((m.ge for m in field.field_info.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in field.field_info.metadata if hasattr(m, "le")), None)
    return low, high


def int_params() -> list[IntParam]:
    found = []
    for path, route in routes(create_app(Settings(db_url="sqlite://"))):
        if not isinstance(route, APIRoute):
            continue
        for where, field in _walk(route.dependant):
            annotation = field.field_info.annotation
            if int not in (annotation, *typing.get_args(annotation)):
                continue
            for method in sorted(route.methods or ()):
                found.append(IntParam(method, path, field.name, where, _bounds(field)))
    return found


PARAMS = int_params()


def test_every_integer_parameter_is_bounded() -> None:
    assert len(PARAMS) >= 30  # the walk finds them: lists, ids, pages
    names = {(p.method, p.path, p.name) for p in PARAMS}
    assert ("DELETE", "/api/v1/tokens/{token_id}", "token_id") in names
    assert ("POST", "/account/tokens/{token_id}/revoke", "token_id") in names
    for param in PARAMS:
        low, high = param.bounds
        assert low is not None, param
        assert low >= 0, param
        assert high is not None, param
        # Ids are 32-bit columns; a ledger index is no id and is compared in Python.
        assert high <= (2**62 if param.name == "index" else MAX_ID), param


def _url(param: IntParam, value: Any) -> tuple[str, dict[str, str]]:
    path = param.path
    for name, filler in FILLERS.items():
        path = path.replace(f"{{{name}}}", filler)
    if param.where == "path":
        return path.replace(f"{{{param.name}}}", str(value)), {}
    path = path.replace("{", "").replace("}", "")  # any other id: a plain word
    return path, {param.name: str(value)}


@pytest.mark.parametrize("where", ["path", "query"])
def test_integers_from_the_path_and_query_never_give_5xx(server: Running, where: str) -> None:
    seed(server.store)
    server.user("admin", Binding(Role.admin))
    admin = server.signed_in("admin")
    admin.headers["X-CSRF-Token"] = api_csrf(admin)
    failures = []
    for param in (p for p in PARAMS if p.where == where):
        for value in (*OUT_OF_RANGE, *EDGES):
            path, query = _url(param, value)
            answer = admin.request(param.method, path, params=query)
            refused = value in OUT_OF_RANGE and answer.status_code not in (404, 422)
            if answer.status_code >= 500 or refused:
                failures.append(f"{param.method} {path} {query}: {answer.status_code}")
    assert failures == []

"""`requires(permission)` and `public()`: every route declares what it needs, and the registry
reads those declarations back from the app, so it cannot drift from the routes.

`requires` authenticates the caller (401 without a credential), checks the permission in its
scope (403), and for cookie-authenticated state-changing requests checks the CSRF token (403).
`check_declared(app)` runs when the app is built: a route without a declaration stops start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import fastapi.routing
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from custos.server.auth import csrf
from custos.server.errors import Forbidden, Unauthenticated
from custos.server.principal import recent, resolve
from custos.server.rbac import Permission, Principal, Scope

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SYSTEM_PARAM = "system_id"


@dataclass(frozen=True)
class Declaration:
    permission: Permission | None  # None: public
    scope: Scope = "global"


PUBLIC = Declaration(None)
_DECLARED: dict[Callable[..., Any], Declaration] = {}


async def optional_principal(request: Request) -> Principal | None:
    """The caller seen a moment ago, on the event loop; else read from the database in the
    thread pool."""
    found = recent(request)
    if found is not None:
        return found
    return await run_in_threadpool(resolve, request)


async def check_csrf(request: Request, principal: Principal) -> None:
    if request.method in SAFE_METHODS or principal.session_token is None:
        return
    presented = request.headers.get(csrf.HEADER)
    if presented is None and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(csrf.FORM_FIELD)
        presented = value if isinstance(value, str) else None
    if not csrf.valid(principal.session_token, presented):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again")


def requires(permission: Permission, scope: Scope = "global") -> Any:
    """A dependency giving the authorised `Principal`; use as a parameter default or in
    `dependencies=[...]`. Scope "system" reads the `system_id` path parameter."""

    async def guard(
        request: Request,
        principal: Annotated[Principal | None, Depends(optional_principal)],
    ) -> Principal:
        if principal is None:
            raise Unauthenticated("sign in or send an API token")
        await check_csrf(request, principal)
        system = request.path_params.get(SYSTEM_PARAM) if scope == "system" else None
        if not principal.can(permission, scope, system):
            raise Forbidden(f"you lack the {permission.value} permission here")
        return principal

    _DECLARED[guard] = Declaration(permission, scope)
    return Depends(guard)


def _public_marker() -> None:
    """Declares a route open to anyone (login form, health, static files)."""


_DECLARED[_public_marker] = PUBLIC


def public() -> Any:
    return Depends(_public_marker)


def declaration(route: APIRoute) -> Declaration | None:
    found = [_DECLARED[d.call] for d in route.dependant.dependencies if d.call in _DECLARED]
    if len(found) > 1:
        raise RuntimeError(f"route {route.path} declares {len(found)} permissions; give one")
    return found[0] if found else None


def routes(app: FastAPI) -> list[tuple[str, BaseRoute]]:
    """Every route of the app as (path, route), included routers flattened. FastAPI 0.16x keeps
    included routers as nested objects and walks them with `iter_route_contexts`; older
    versions copied their routes into `app.routes`."""
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    if walk is None:
        return [(str(getattr(r, "path", "")), r) for r in app.routes]
    found = []
    for ctx in walk(app.routes):
        route = ctx.original_route
        found.append((str(ctx.path or getattr(route, "path", "")), route))
    return found


def registry(app: FastAPI) -> dict[tuple[str, str], Declaration | None]:
    """(method, path) -> what the route declared, for every API route of the app."""
    table: dict[tuple[str, str], Declaration | None] = {}
    for path, route in routes(app):
        if isinstance(route, APIRoute):
            for method in sorted(route.methods or ()):
                table[(method, path)] = declaration(route)
    return table


def check_declared(app: FastAPI) -> None:
    missing = [f"{m} {p}" for (m, p), d in registry(app).items() if d is None]
    if missing:
        raise RuntimeError(f"routes without a permission declaration: {', '.join(missing)}")

"""The caller's API tokens: list, create (the secret is shown once, on the answer to the form)
and revoke. Rules are custos.server.accounts' and rbac's; the API applies the same ones."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from custos.errors import UserError
from custos.server import accounts
from custos.server.context import context
from custos.server.errors import NotFound
from custos.server.guards import requires
from custos.server.params import RowId
from custos.server.rbac import Permission, Principal, Role, check_binding
from custos.server.web import views
from custos.server.web.render import Pages
from custos.store import auth_store

TokenMaker = Annotated[Principal, requires(Permission.tokens_create, "any")]
DEFAULT_DAYS = 90


def _create(
    request: Request, principal: Principal, name: str, role: str, systems: list[str], days: int
) -> accounts.NewToken:
    """The token, or UserError / ValueError naming the rule the form broke."""
    ctx = context(request)
    if not 1 <= days <= ctx.settings.token_max_days:
        raise UserError(f"the expiry must be 1 to {ctx.settings.token_max_days} days")
    targets: list[str | None] = [*systems] or [None]
    for system in targets:
        check_binding(role, system)  # ValueError: e.g. an engineer token needs its system
    now = ctx.now()
    return accounts.create_token(
        ctx.store, ctx.settings.project_dir, principal, name=name, role=Role(role),
        systems=systems, expires_at=now + dt.timedelta(days=days), now=now,
    )  # fmt: skip


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def show(
        request: Request, principal: Principal, status: int = 200, **values: object
    ) -> Response:
        ctx = context(request)
        with auth_store.transaction(ctx.store) as conn:
            tokens = auth_store.tokens_of(conn, principal.user_id)
        # The form starts on the caller's own role: the widest a token of theirs may have.
        own_role = principal.bindings[0].role.value if principal.bindings else ""
        return views.page(
            pages, request, principal, "tokens.html", status=status, title="API tokens",
            tokens=tokens, roles=[r.value for r in Role], max_days=ctx.settings.token_max_days,
            default_days=DEFAULT_DAYS, now=ctx.now(), own_role=own_role, **values,
        )  # fmt: skip

    @routes.get("/account/tokens")
    def tokens(
        request: Request, principal: TokenMaker, revoked: Annotated[int, Query(ge=0, le=1)] = 0
    ) -> Response:
        return show(request, principal, revoked=bool(revoked))

    @routes.post("/account/tokens")
    def create(
        request: Request,
        principal: TokenMaker,
        name: Annotated[str, Form(max_length=accounts.TOKEN_NAME_MAX)] = "",
        role: Annotated[str, Form(max_length=50)] = "",
        systems: Annotated[str, Form(max_length=2000)] = "",
        days: Annotated[int, Form(ge=1, le=100_000)] = DEFAULT_DAYS,
    ) -> Response:
        wanted = [s.strip() for s in systems.replace(",", " ").split() if s.strip()]
        try:
            made = _create(request, principal, name, role, wanted, days)
        except (UserError, ValueError) as exc:
            form = {"name": name, "role": role, "systems": systems, "days": days}
            return show(request, principal, status=400, message=str(exc), form=form)
        # Answered here rather than redirected: the secret exists only in this response
        # (never stored), and pages are sent with Cache-Control: no-store.
        return show(request, principal, created=made)

    @routes.post("/account/tokens/{token_id}/revoke")
    def revoke(request: Request, token_id: RowId, principal: TokenMaker) -> Response:
        ctx = context(request)
        done = accounts.revoke_token(
            ctx.store, ctx.settings.project_dir, principal, token_id,
            is_admin=principal.can(Permission.users_manage), now=ctx.now(),
        )  # fmt: skip
        if not done:
            raise NotFound(f"no token {token_id} of yours")
        return RedirectResponse("/account/tokens?revoked=1", status_code=303)

    return routes

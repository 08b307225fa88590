"""Accounts: users (admins: create, change roles, deactivate, reactivate, reset the second
factor) and API tokens (their owners; admins may revoke any). The rules are
custos.server.accounts'."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Request, Response

from custos.errors import UserError
from custos.server import accounts
from custos.server.api import schemas
from custos.server.context import context
from custos.server.errors import NotFound
from custos.server.guards import requires
from custos.server.params import RowId
from custos.server.rbac import Binding, Permission, Principal, check_binding
from custos.store import auth_store

router = APIRouter(prefix="/api/v1", tags=["accounts"])
Admin = Annotated[Principal, requires(Permission.users_manage)]
TokenMaker = Annotated[Principal, requires(Permission.tokens_create, "any")]
UserId = RowId


def _user(user: auth_store.User) -> schemas.User:
    return schemas.User(
        id=user.id,
        username=user.username,
        active=user.active,
        created_at=user.created_at,
        bindings=[schemas.BindingBody(role=r, system=s) for r, s in user.bindings],
        two_factor=user.totp_enabled,
    )


def _token(token: auth_store.Token) -> schemas.Token:
    return schemas.Token(
        id=token.id, name=token.name, hint=token.hint, role=token.role,
        systems=list(token.systems), created_at=token.created_at, expires_at=token.expires_at,
        revoked_at=token.revoked_at, last_used_at=token.last_used_at,
    )  # fmt: skip


def _checked(items: list[schemas.BindingBody]) -> list[Binding]:
    bindings: list[Binding] = []
    for item in items:
        try:
            bindings.append(check_binding(item.role.value, item.system))
        except ValueError as exc:
            raise UserError(str(exc)) from None
    return bindings


@router.post("/users", status_code=201, response_model=schemas.User)
def create_user(request: Request, body: schemas.NewUser, principal: Admin) -> schemas.User:
    ctx = context(request)
    bindings = _checked(body.bindings)
    accounts.create_user(
        ctx.store, ctx.settings.project_dir, username=body.username, password=body.password,
        bindings=bindings, actor=principal.username, now=ctx.now(),
    )  # fmt: skip
    with auth_store.transaction(ctx.store) as conn:
        created = auth_store.user_by_name(conn, body.username)
    assert created is not None
    return _user(created)


@router.get(
    "/users", response_model=list[schemas.User], dependencies=[requires(Permission.users_manage)]
)
def list_users(request: Request) -> list[schemas.User]:
    with auth_store.transaction(context(request).store) as conn:
        return [_user(u) for u in auth_store.list_users(conn)]


def _found(user: auth_store.User | None, user_id: int) -> schemas.User:
    if user is None:
        raise NotFound(f"no user {user_id}")
    return _user(user)


@router.post("/users/{user_id}/deactivate", response_model=schemas.User)
def deactivate_user(request: Request, user_id: UserId, principal: Admin) -> schemas.User:
    """Their sessions end; their API tokens are refused until they are reactivated."""
    ctx = context(request)
    done = accounts.set_active(
        ctx.store, ctx.settings.project_dir, principal, user_id, active=False, now=ctx.now()
    )
    return _found(done, user_id)


@router.post("/users/{user_id}/reactivate", response_model=schemas.User)
def reactivate_user(request: Request, user_id: UserId, principal: Admin) -> schemas.User:
    ctx = context(request)
    done = accounts.set_active(
        ctx.store, ctx.settings.project_dir, principal, user_id, active=True, now=ctx.now()
    )
    return _found(done, user_id)


@router.put("/users/{user_id}/bindings", response_model=schemas.User)
def set_bindings(
    request: Request, user_id: UserId, body: schemas.NewBindings, principal: Admin
) -> schemas.User:
    """Replace the user's role bindings; their sessions and tokens follow from the next
    request (tokens never exceed their creator's bindings)."""
    ctx = context(request)
    done = accounts.set_bindings(
        ctx.store, ctx.settings.project_dir, principal, user_id, _checked(body.bindings),
        now=ctx.now(),
    )  # fmt: skip
    return _found(done, user_id)


@router.delete("/users/{user_id}/two-factor", response_model=schemas.User)
def reset_two_factor(request: Request, user_id: UserId, principal: Admin) -> schemas.User:
    """Remove the user's TOTP seed and recovery codes (a lost authenticator)."""
    ctx = context(request)
    done = accounts.reset_second_factor(
        ctx.store, ctx.settings.project_dir, principal, user_id, now=ctx.now()
    )
    return _found(done, user_id)


@router.post("/tokens", status_code=201, response_model=schemas.CreatedToken)
def create_token(
    request: Request, body: schemas.NewToken, principal: TokenMaker
) -> schemas.CreatedToken:
    ctx = context(request)
    if body.expires_in_days > ctx.settings.token_max_days:
        raise UserError(f"expires_in_days must be at most {ctx.settings.token_max_days}")
    targets: list[str | None] = [*body.systems] or [None]
    for system in targets:
        try:
            check_binding(body.role.value, system)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    now = ctx.now()
    made = accounts.create_token(
        ctx.store, ctx.settings.project_dir, principal, name=body.name, role=body.role,
        systems=body.systems, expires_at=now + dt.timedelta(days=body.expires_in_days), now=now,
    )  # fmt: skip
    return schemas.CreatedToken(**_token(made.token).model_dump(), token=made.secret)


@router.get("/tokens", response_model=list[schemas.Token])
def list_tokens(request: Request, principal: TokenMaker) -> list[schemas.Token]:
    """The caller's own tokens (secrets are never shown again)."""
    with auth_store.transaction(context(request).store) as conn:
        return [_token(t) for t in auth_store.tokens_of(conn, principal.user_id)]


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response)
def revoke_token(request: Request, token_id: RowId, principal: TokenMaker) -> Response:
    ctx = context(request)
    is_admin = principal.can(Permission.users_manage)
    if not accounts.revoke_token(
        ctx.store, ctx.settings.project_dir, principal, token_id, is_admin=is_admin, now=ctx.now()
    ):
        raise NotFound(f"no token {token_id} of yours")
    return Response(status_code=204)

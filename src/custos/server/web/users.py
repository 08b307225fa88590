"""Admin: the users and their role bindings, a form to create a user with one binding, forms
to add and remove a user's roles, and buttons to deactivate or reactivate a user and to reset
their second factor. The rules (names,
passwords, bindings, who may be deactivated) are custos.server.accounts' and rbac's, not
repeated."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from custos.errors import UserError
from custos.server import accounts
from custos.server.auth import passwords
from custos.server.context import context
from custos.server.errors import NotFound
from custos.server.guards import requires
from custos.server.params import OptionalRowId, RowId
from custos.server.rbac import Permission, Principal, Role, check_binding
from custos.server.web import views
from custos.server.web.render import Pages
from custos.store import auth_store

Admin = Annotated[Principal, requires(Permission.users_manage)]
UserId = RowId

# The notices after an action (post/redirect/get): fixed text, the username read from the
# database by id, so a crafted link cannot make the page say anything else.
NOTICES = {
    "deactivated": "User {user} was deactivated: their sessions ended and their API tokens "
    "are refused.",
    "reactivated": "User {user} was reactivated.",
    "roles": "The roles of {user} were changed; they apply from their next request.",
    "two-factor-reset": "The second factor of {user} was removed: they sign in with their "
    "password until they enrol again.",
}


def notice(done: str | None, user_id: int | None, users: list[auth_store.User]) -> str | None:
    template = NOTICES.get(done or "")
    name = next((u.username for u in users if u.id == user_id), None)
    return template.format(user=name) if template and name else None


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def show(
        request: Request,
        principal: Principal,
        status: int = 200,
        done: str | None = None,
        user_id: int | None = None,
        **values: object,
    ) -> Response:
        with auth_store.transaction(context(request).store) as conn:
            users = auth_store.list_users(conn)
        return views.page(
            pages, request, principal, "users.html", status=status, title="Users", users=users,
            roles=[r.value for r in Role], min_length=passwords.MIN_LENGTH,
            notice=notice(done, user_id, users), self_id=principal.user_id, **values,
        )  # fmt: skip

    @routes.get("/admin/users")
    def users(
        request: Request,
        principal: Admin,
        created: Annotated[str | None, Query(max_length=64)] = None,
        done: Annotated[str | None, Query(max_length=40)] = None,
        user: OptionalRowId = None,
    ) -> Response:
        return show(request, principal, created=created, done=done, user_id=user)

    @routes.post("/admin/users")
    def create(
        request: Request,
        principal: Admin,
        username: Annotated[str, Form(max_length=200)] = "",
        password: Annotated[str, Form(max_length=passwords.MAX_LENGTH)] = "",
        role: Annotated[str, Form(max_length=50)] = "",
        system: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        ctx = context(request)
        try:
            binding = check_binding(role, system.strip() or None)
            accounts.create_user(
                ctx.store, ctx.settings.project_dir, username=username, password=password,
                bindings=[binding], actor=principal.username, now=ctx.now(),
            )  # fmt: skip
        except (UserError, ValueError) as exc:
            form = {"username": username[:64], "role": role, "system": system}
            return show(request, principal, status=400, message=str(exc), form=form)
        # Post/redirect/get: a reload does not submit the form again.
        return RedirectResponse(f"/admin/users?created={quote(username)}", status_code=303)

    def _set_active(request: Request, principal: Principal, user_id: int, active: bool) -> Response:
        ctx = context(request)
        try:
            done = accounts.set_active(
                ctx.store, ctx.settings.project_dir, principal, user_id, active=active,
                now=ctx.now(),
            )  # fmt: skip
        except UserError as exc:
            return show(request, principal, status=400, problem=str(exc))
        if done is None:
            raise NotFound(f"no user {user_id}")
        what = "reactivated" if active else "deactivated"
        return RedirectResponse(f"/admin/users?done={what}&user={user_id}", status_code=303)

    @routes.post("/admin/users/{user_id}/deactivate")
    def deactivate(request: Request, user_id: UserId, principal: Admin) -> Response:
        return _set_active(request, principal, user_id, active=False)

    @routes.post("/admin/users/{user_id}/reactivate")
    def reactivate(request: Request, user_id: UserId, principal: Admin) -> Response:
        return _set_active(request, principal, user_id, active=True)

    def _change_roles(
        request: Request, principal: Principal, user_id: int, change: str, role: str, system: str
    ) -> Response:
        ctx = context(request)
        with auth_store.transaction(ctx.store) as conn:
            user = auth_store.user_by_id(conn, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        try:
            wanted = check_binding(role, system.strip() or None)
            held = [check_binding(r, s) for r, s in user.bindings]
            if change == "add":
                new = held if wanted in held else [*held, wanted]
            else:
                new = [b for b in held if b != wanted]
            accounts.set_bindings(
                ctx.store, ctx.settings.project_dir, principal, user_id, new, now=ctx.now()
            )
        except (UserError, ValueError) as exc:
            return show(request, principal, status=400, problem=str(exc))
        return RedirectResponse(f"/admin/users?done=roles&user={user_id}", status_code=303)

    @routes.post("/admin/users/{user_id}/roles/add")
    def add_role(
        request: Request,
        user_id: UserId,
        principal: Admin,
        role: Annotated[str, Form(max_length=50)] = "",
        system: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        return _change_roles(request, principal, user_id, "add", role, system)

    @routes.post("/admin/users/{user_id}/roles/remove")
    def remove_role(
        request: Request,
        user_id: UserId,
        principal: Admin,
        role: Annotated[str, Form(max_length=50)] = "",
        system: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        return _change_roles(request, principal, user_id, "remove", role, system)

    @routes.post("/admin/users/{user_id}/two-factor/reset")
    def reset_two_factor(request: Request, user_id: UserId, principal: Admin) -> Response:
        ctx = context(request)
        done = accounts.reset_second_factor(
            ctx.store, ctx.settings.project_dir, principal, user_id, now=ctx.now()
        )
        if done is None:
            raise NotFound(f"no user {user_id}")
        return RedirectResponse(
            f"/admin/users?done=two-factor-reset&user={user_id}", status_code=303
        )

    return routes

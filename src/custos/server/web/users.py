"""Admin: the users and their role bindings, and a form to create a user with one binding.
The rules (names, passwords, bindings) are custos.server.accounts' and rbac's, not repeated."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from custos.errors import UserError
from custos.server import accounts
from custos.server.auth import passwords
from custos.server.context import context
from custos.server.guards import requires
from custos.server.rbac import Permission, Principal, Role, check_binding
from custos.server.web import views
from custos.server.web.render import Pages
from custos.store import auth_store

Admin = Annotated[Principal, requires(Permission.users_manage)]


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def show(
        request: Request, principal: Principal, status: int = 200, **values: object
    ) -> Response:
        with auth_store.transaction(context(request).store) as conn:
            users = auth_store.list_users(conn)
        return views.page(
            pages, request, principal, "users.html", status=status, title="Users", users=users,
            roles=[r.value for r in Role], min_length=passwords.MIN_LENGTH, **values,
        )  # fmt: skip

    @routes.get("/admin/users")
    def users(
        request: Request,
        principal: Admin,
        created: Annotated[str | None, Query(max_length=64)] = None,
    ) -> Response:
        return show(request, principal, created=created)

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

    return routes

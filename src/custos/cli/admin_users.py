"""`custos admin ...`: bootstrap the server's accounts from the command line."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from custos.cli.options import DbOption
from custos.cli.output import console
from custos.errors import UserError

PASSWORD_ENV = "CUSTOS_ADMIN_PASSWORD"  # noqa: S105  (the variable's name, not a password)

admin_app = typer.Typer(
    help="Server accounts.\n\nExample: custos admin create-user alice --role admin"
)


@admin_app.command("create-user")
def create_user_cmd(
    username: str = typer.Argument(..., help="The new user's login name."),
    role: str = typer.Option(
        ..., "--role", help="admin, security_officer, engineer, auditor or viewer."
    ),
    system: str | None = typer.Option(
        None, "--system", help="Bind the role to this AI system only (required for engineer)."
    ),
    db: str | None = DbOption,
    directory: Path = typer.Option(
        Path("."), "--dir", help="Project directory (default SQLite file and ledger key)."
    ),
) -> None:
    """Create a user with one role binding; the password comes from $CUSTOS_ADMIN_PASSWORD or
    a prompt.

    Example: CUSTOS_ADMIN_PASSWORD=... custos admin create-user alice --role admin --db URL
    """
    from custos.server import accounts
    from custos.server.rbac import check_binding
    from custos.server.settings import utcnow
    from custos.store.store import Store
    from custos.workspace import actor

    try:
        binding = check_binding(role, system)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    accounts.check_username(username)
    password = os.environ.get(PASSWORD_ENV) or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    project = directory.resolve()
    with Store.open(db, project) as store:
        if not store.is_current():
            raise UserError(f"database {store.url} is not migrated; run `custos db upgrade` first")
        accounts.create_user(
            store,
            project,
            username=username,
            password=password,
            bindings=[binding],
            actor=actor(),
            now=utcnow(),
        )
    where = f" on system {system}" if system else ""
    console.print(f"created user {username} with role {binding.role.value}{where}")

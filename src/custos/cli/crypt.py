"""`custos kek create | list | retire`: the key-encryption keys of encryption at rest
(docs/encryption.md). `encrypt`, `decrypt` and `rekey` are lean commands in crypt_files.py.

Exit codes: 0 ok; 2 bad input (an unknown KEK, a wrong or short passphrase).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from custos.cli.output import TableOrJson, console, emit_json

if TYPE_CHECKING:
    from custos.datacrypt.keks import Keks

kek_app = typer.Typer(
    help="Key-encryption keys: create, list and retire them (keys stay outside the database).",
    no_args_is_help=True,
)
DirOption = typer.Option(Path("."), "--dir", help="The project (its .custos/ holds the KEKs).")


def _passphrase(confirm: bool) -> bytes:
    import os

    from custos.datacrypt.keks import PASSPHRASE_ENV

    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value.encode()
    typed: str = typer.prompt(
        f"KEK passphrase (or set {PASSPHRASE_ENV})", hide_input=True,
        confirmation_prompt=confirm, err=True,
    )  # fmt: skip
    return typed.encode()


def _keks(base: Path, confirm: bool = False) -> Keks:
    from custos.datacrypt.keks import Keks

    return Keks(base, lambda: _passphrase(confirm))


@kek_app.command("create")
def kek_create_cmd(
    kek_id: str = typer.Argument(..., metavar="ID", help="letters, digits, '.', '_', '-'"),
    env: str | None = typer.Option(
        None, "--env", metavar="VAR", help="the KEK is in this variable (base64 of 32 bytes)"
    ),
    base: Path = DirOption,
) -> None:
    """Create a KEK: a random key in .custos/keks/ID.key sealed with a passphrase (scrypt), or
    register one held in an environment variable (--env).

    Example: CUSTOS_KEK_PASSPHRASE=... custos kek create data-2026
    """
    entry = _keks(base, confirm=True).create(kek_id, env, dt.datetime.now(dt.UTC))
    where = f"${entry.env}" if entry.env else f".custos/keks/{entry.id}.key (mode 0600)"
    console.print(f"KEK {entry.id}: active, key in {where}")


@kek_app.command("list")
def kek_list_cmd(
    base: Path = DirOption,
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """List the project's KEKs: id, status, where the key is, when it was created."""
    entries = sorted(_keks(base).entries.values(), key=lambda e: e.id)
    if output_format == TableOrJson.json:
        emit_json([{"id": e.id, "status": e.status, "source": e.source, "env": e.env,
                    "created": e.created} for e in entries])  # fmt: skip
        return
    table = Table(title=f"KEKs: {len(entries)}")
    for column in ("id", "status", "key in", "created"):
        table.add_column(column)
    for e in entries:
        table.add_row(e.id, e.status, f"${e.env}" if e.env else "file", e.created)
    console.print(table)


@kek_app.command("retire")
def kek_retire_cmd(kek_id: str = typer.Argument(..., metavar="ID"), base: Path = DirOption) -> None:
    """Retire a KEK: nothing new is encrypted with it; files under it still open, to rekey
    them, and the `encryption` check reports them."""
    _keks(base).retire(kek_id)
    console.print(f"KEK {kek_id}: retired")

"""`custos encrypt | decrypt | rekey` and `custos kek create | list | retire`: encryption at
rest for datasets and models in Custos' streaming format (docs/encryption.md).

Exit codes: 0 ok; 2 bad input (a missing or retired KEK, a wrong passphrase, a file that fails
authentication). A failed decryption writes nothing: the output appears only once every segment
authenticated.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from custos.cli.output import TableOrJson, console, emit_json
from custos.errors import UserError

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


def _failed(path: Path, exc: Exception) -> UserError:
    return UserError(f"{path}: {exc}")


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


def encrypt_cmd(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, help="the file to encrypt"),
    out: Path | None = typer.Option(None, "--out", help="default: FILE.cenc"),
    kek: str | None = typer.Option(None, "--kek", metavar="ID", help="default: the active KEK"),
    base: Path = DirOption,
) -> None:
    """Encrypt a file (AES-256-GCM in 1 MiB segments, a random data key wrapped by a KEK).

    Example: custos encrypt data/train.csv --kek data-2026
    """
    from custos.datacrypt.stream import encrypt_file

    keks = _keks(base)
    kek_id = keks.active(kek)
    target = out or source.with_name(source.name + ".cenc")
    if target.resolve() == source.resolve():
        raise UserError(f"{target}: the output would overwrite the input")
    encrypt_file(source, target, kek_id, keks.key(kek_id))
    console.print(f"{source} -> {target} (KEK {kek_id})")


def decrypt_cmd(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, help="an encrypted file"),
    out: Path | None = typer.Option(None, "--out", help="where the plaintext goes"),
    check: bool = typer.Option(False, "--check", help="only verify every segment; write nothing"),
    base: Path = DirOption,
) -> None:
    """Decrypt a file, or verify it with --check. Every segment is authenticated before the
    output appears (written to a temporary file, then renamed).

    Example: custos decrypt data/train.csv.cenc --out /tmp/train.csv
    """
    from custos.datacrypt.format import FormatError
    from custos.datacrypt.stream import AuthenticationError, decrypt_file

    if out is None and not check:
        raise UserError("give --out PATH for the plaintext, or --check to only verify")
    try:
        header = decrypt_file(source, None if check else out, _keks(base).key)
    except (AuthenticationError, FormatError) as exc:
        raise _failed(source, exc) from None
    done = "verified" if check else f"-> {out}"
    console.print(f"{source}: {done} (KEK {header.kek_id}, every segment authenticated)")


def rekey_cmd(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="an encrypted file"),
    kek: str = typer.Option(..., "--kek", metavar="ID", help="the KEK to wrap the data key with"),
    base: Path = DirOption,
) -> None:
    """Wrap a file's data key with another KEK; the encrypted segments are not re-sealed.

    Example: custos rekey data/train.csv.cenc --kek data-2027
    """
    from custos.datacrypt.format import FormatError
    from custos.datacrypt.stream import AuthenticationError, rekey_file

    keks = _keks(base)
    new_id = keks.active(kek)
    try:
        header = rekey_file(path, keks.key, new_id, keks.key(new_id))
    except (AuthenticationError, FormatError) as exc:
        raise _failed(path, exc) from None
    console.print(f"{path}: data key now wrapped by KEK {header.kek_id}")

"""`custos shred ASSET`: crypto-shred an asset's files and record the deletion in the ledger.

Order matters for the record: every file is examined first (digests, format, KEK; a Custos
file whose KEK is at hand is authenticated and its plaintext digest taken), then every refusal
is decided (plaintext without --allow-plaintext, a KEK other files still need), then the ledger
key is loaded, and only then is anything destroyed. If the ledger cannot take the record after
the destruction, the record is kept in .custos/deletions/ with the command that appends it.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from custos.cli.options import DbOption, PathArg
from custos.cli.output import TableOrJson, console, emit_json, err_console, warn
from custos.errors import UserError

if TYPE_CHECKING:
    from custos.datacrypt.keks import Keks
    from custos.datacrypt.shred import Victim
    from custos.inventory.schema import AISystem, Asset, Manifest

PENDING_DIR = Path(".custos") / "deletions"


def shred_cmd(
    asset_id: str = typer.Argument(..., metavar="ASSET", help="The asset's id in custos.yaml."),
    path: Path = PathArg,
    db: str | None = DbOption,
    reason: str | None = typer.Option(
        None, "--reason", help="Why (retention period over, erasure request ...); recorded."
    ),
    destroy_kek: bool = typer.Option(
        False,
        "--destroy-kek",
        help="Also destroy the KEK(s) of its files, so no copy anywhere opens again "
        "(refused while other files in the project are under them).",
    ),
    allow_plaintext: bool = typer.Option(
        False,
        "--allow-plaintext",
        help="Overwrite and delete plaintext files too (no guarantee on SSDs, copy-on-write "
        "filesystems or backups).",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """Crypto-shred an asset: destroy the key material of its encrypted files, delete them,
    and append a deletion record (what, when, who, digests) to the ledger.

    Example: custos shred transactions-2023 --reason "retention period over" --destroy-kek
    """
    from custos.datacrypt.keks import Keks
    from custos.datacrypt.shred import deletion_record, destroy
    from custos.inventory.locations import files_of, is_url
    from custos.store.ledger_key import load_signer
    from custos.workspace import actor, now, open_workspace

    ws = open_workspace(path, db)
    system, asset = _find(ws.loaded.manifest, asset_id)
    if is_url(asset.location):
        raise UserError(f"asset {asset.id}: {asset.location} is remote; shred it where it lives")
    files = files_of(ws.base_dir, asset.location)
    if not files:
        raise UserError(f"asset {asset.id}: {asset.location} matches no file (already deleted?)")
    keks = Keks(ws.base_dir, _passphrase)
    notes: dict[str, str] = {}
    victims = [_survey(p, keks, notes) for p in _progress(files, "examining")]
    plaintext = [v for v in victims if v.format == "plaintext"]
    if plaintext and not allow_plaintext:
        raise UserError(
            f"{plaintext[0].path}: not encrypted ({len(plaintext)} plaintext file(s) in asset "
            f"{asset.id}); crypto-shredding needs `custos encrypt` first, or pass "
            "--allow-plaintext to overwrite and delete them. Nothing was shredded"
        )
    doomed = sorted({v.kek_id for v in victims if v.kek_id}) if destroy_kek else []
    if destroy_kek:
        _check_keks(keks, doomed, ws.base_dir, files)
    if not yes:
        _confirm(asset, victims, doomed)
    when = now()
    signer = load_signer(ws.base_dir, create=True)  # before anything is destroyed
    for victim in _progress(victims, "shredding"):
        destroy(victim)
    _prune_dirs(ws.base_dir, files)
    for kek_id in doomed:
        entry = keks.destroy(kek_id, when)
        if entry.source == "env":
            warn(f"KEK {kek_id} lives in ${entry.env}: marked destroyed; delete that secret "
                 "wherever it is kept")  # fmt: skip
    payload = deletion_record(system.id, asset.id, asset.location, victims, ws.base_dir, doomed,
                              reason)  # fmt: skip
    seq = _record(ws, payload, when, actor(), signer)
    _report(output_format, asset, victims, doomed, notes, seq, payload)
    if not destroy_kek and any(v.kek_id for v in victims):
        kept = sorted({v.kek_id for v in victims if v.kek_id})
        warn(f"copies of these files made earlier (backups) still open while KEK(s) "
             f"{', '.join(kept)} exist; --destroy-kek destroys them")  # fmt: skip


def _find(manifest: Manifest, asset_id: str) -> tuple[AISystem, Asset]:
    for system in manifest.systems:
        for asset in system.assets:
            if asset.id == asset_id:
                return system, asset
    raise UserError(f"no asset {asset_id!r} in custos.yaml")


def _passphrase() -> bytes:
    import os

    from custos.datacrypt.keks import PASSPHRASE_ENV

    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value.encode()
    if not sys.stdin.isatty():
        raise UserError(f"${PASSPHRASE_ENV} is not set")
    typed: str = typer.prompt(f"KEK passphrase (or set {PASSPHRASE_ENV})", hide_input=True,
                              err=True)  # fmt: skip
    return typed.encode()


def _survey(path: Path, keks: Keks, notes: dict[str, str]) -> Victim:
    from custos.datacrypt.format import FormatError
    from custos.datacrypt.shred import survey
    from custos.datacrypt.stream import AuthenticationError

    def key_of(kek_id: str) -> bytes | None:
        try:
            return keks.key(kek_id)
        except UserError as exc:  # not at hand: the record says the plaintext digest is unknown
            notes[str(path)] = f"plaintext digest not recorded: {exc}"
            return None

    try:
        return survey(path, key_of)
    except (FormatError, AuthenticationError) as exc:
        raise UserError(f"{path}: {exc}; nothing was shredded") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}; nothing was shredded") from None


def _check_keks(keks: Keks, doomed: list[str], base: Path, files: list[Path]) -> None:
    from custos.datacrypt.shred import files_under_keks

    if not doomed:
        raise UserError("--destroy-kek: none of the asset's files is in Custos' format")
    for kek_id in doomed:
        keks.entry(kek_id)  # known to the project, or a clear error
    others = files_under_keks(base, doomed, skip=files)
    if others:
        raise UserError(
            f"--destroy-kek: {len(others)} other file(s) in the project are under KEK(s) "
            f"{', '.join(doomed)}, e.g. {others[0]}; rekey them first (custos rekey FILE --kek "
            "OTHER). Nothing was shredded"
        )


def _confirm(asset: Asset, victims: list[Victim], doomed: list[str]) -> None:
    what = f"{len(victims)} file(s) of asset {asset.id}"
    if doomed:
        what += f" and KEK(s) {', '.join(doomed)}"
    if not sys.stdin.isatty():
        raise UserError(f"shredding {what} cannot be undone: pass --yes to confirm")
    if not typer.confirm(f"Destroy {what}? This cannot be undone", err=True):
        raise typer.Exit(1)


def _prune_dirs(base: Path, files: list[Path]) -> None:
    """Remove directories the shredding left empty (inside the project only)."""
    root = base.resolve()
    for folder in sorted({f.parent.resolve() for f in files}, key=lambda p: -len(p.parts)):
        current = folder
        while current != root and current.is_relative_to(root):
            try:
                current.rmdir()
            except OSError:
                break
            current = current.parent


def _record(ws: Any, payload: dict[str, Any], when: dt.datetime, who: str, signer: str) -> int:
    from custos import ledger_records as records
    from custos._files import write_atomic

    try:
        appended = ws.store.ledger_append([records.event_entry(payload, when, who)], signer)
    except Exception as exc:
        pending = ws.base_dir / PENDING_DIR / f"{payload['asset']}-{when:%Y%m%dT%H%M%SZ}.jsonl"
        write_atomic(pending, (json.dumps(payload, sort_keys=True) + "\n").encode())
        raise UserError(
            f"the files are shredded but the ledger refused the record ({exc}); it is kept in "
            f"{pending}: append it with `custos ledger append --file {pending}`"
        ) from None
    return int(appended.first)


def _report(output_format: TableOrJson, asset: Asset, victims: list[Victim], doomed: list[str],
            notes: dict[str, str], seq: int, payload: dict[str, Any]) -> None:  # fmt: skip
    if output_format == TableOrJson.json:
        emit_json({"ledger_entry": seq, "record": payload, "notes": notes})
        return
    table = Table(title=f"Shredded asset {asset.id}: {len(victims)} file(s)")
    for column in ("file", "size", "method", "KEK", "SHA-256"):
        table.add_column(column)
    for item in payload["files"]:
        table.add_row(item["path"], f"{item['size']:,}", item["method"], item["kek"] or "-",
                      item["sha256"][:16] + "…")  # fmt: skip
    console.print(table)
    for text in notes.values():
        err_console.print(f"note: {text}")
    if doomed:
        console.print(f"KEK(s) destroyed: {', '.join(doomed)}")
    console.print(f"Deletion recorded as ledger entry {seq} (proof: custos ledger prove {seq})")


def _progress(items: list[Any], label: str) -> Any:
    from rich.progress import track

    if len(items) < 4:
        return items
    return track(items, description=label, console=err_console, transient=True)

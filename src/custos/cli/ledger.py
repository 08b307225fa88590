"""`custos ledger ...`: append events, verify, prove inclusion, export an audit bundle.

Exit codes: 0 ok; 1 verification failed (the ledger or bundle was tampered with, rolled back or
forked, or departs from a checkpoint kept with `--checkpoint`); 2 bad input or usage.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from custos._files import write_atomic
from custos.cli.options import DbOption
from custos.cli.output import TableOrJson, console, emit_json, warn
from custos.errors import EXIT_FINDINGS, UserError
from custos.ledger.audit import Audit, audit
from custos.ledger.bundle import read
from custos.ledger.entry import KINDS
from custos.ledger.witness import Kept, decode_file, encode_file
from custos.store import ledger_trust

app = typer.Typer(
    help=(
        "The tamper-evident evidence ledger: every check result, attestation, SoA decision and "
        "recorded event, in a signed Merkle log an auditor can verify offline.\n\n"
        "Example: custos ledger verify . && custos ledger export --out audit.bundle ."
    ),
    no_args_is_help=True,
)
ProjectArg = typer.Argument(Path("."), help="The project directory (holds .custos/).")


class Kind(StrEnum):
    event = "event"
    attestation = "attestation"
    evidence = "evidence"
    soa_decision = "soa-decision"


assert {k.value for k in Kind} == set(KINDS)


@app.command("append")
def append_cmd(
    project: Path = ProjectArg,
    payload: str | None = typer.Option(None, "--payload", help="The entry's JSON object."),
    file: Path | None = typer.Option(
        None, "--file", help="JSON Lines file: one object per line, appended as one batch."
    ),
    kind: Kind = typer.Option(Kind.event, "--kind"),
    actor: str | None = typer.Option(
        None, "--actor", envvar="CUSTOS_ACTOR", help="Who did it (default: user@host)."
    ),
    db: str | None = DbOption,
) -> None:
    """Record events (training, deployment, approvals) in the ledger; durable on exit 0.

    Example: custos ledger append --payload '{"event": "deployed", "model": "fraud-scoring",
    "version": 3, "endpoint": "https://scoring.internal", "by": "release-bot"}'
    """
    from custos.workspace import record_entries

    if (payload is None) == (file is None):
        raise UserError("give exactly one of --payload JSON or --file FILE")
    items = [_object(payload, "--payload")] if payload is not None else _lines(file)
    done = record_entries(project, db, [(kind.value, item) for item in items], actor)
    emit_json({"first": done.first, "count": len(items), "size": done.size})


def _object(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UserError(f"{where}: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UserError(f"{where}: must be a JSON object, got {type(value).__name__}")
    return value


def _lines(file: Path | None) -> list[dict[str, Any]]:
    assert file is not None
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{file}: cannot read: {exc}") from None
    items = [_object(line, f"{file}:{n}") for n, line in enumerate(lines, 1) if line.strip()]
    if not items:
        raise UserError(f"{file}: no entries")
    return items


@app.command("status")
def status_cmd(
    project: Path = ProjectArg,
    db: str | None = DbOption,
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """Show the ledger's origin, size, public verifier key and latest checkpoint."""
    from custos.workspace import open_store

    store, _ = open_store(project, db, create=False)
    with store:
        state = store.ledger_info()
    if state is None:
        raise UserError("the ledger is empty: `custos scan` or `custos ledger append` starts it")
    info = {
        "origin": state.origin,
        "size": state.size,
        "verifier_key": state.verifier_key,
        "checkpoint": state.checkpoint,
    }
    if output_format is TableOrJson.json:
        emit_json(info)
        return
    table = Table(show_header=False, title="Evidence ledger")
    for key, value in info.items():
        table.add_row(key, str(value))
    console.print(table)


@app.command("key")
def key_cmd(project: Path = ProjectArg) -> None:
    """Print the public verifier key of the ledger signing key this project uses
    ($CUSTOS_LEDGER_KEY, $CUSTOS_LEDGER_KEY_FILE or .custos/ledger.key, made if missing), to
    register on a server so that `custos scan --push` results are verified, not just claimed.

    Example: custos ledger key . (then POST it to /api/v1/systems/SYSTEM/ledger-keys)
    """
    from custos.ledger.checkpoint import verifier_of
    from custos.store.ledger_key import load_signer

    base_dir = project if project.is_dir() else project.parent
    console.print(verifier_of(load_signer(base_dir, create=True)), highlight=False, soft_wrap=True)


@app.command("verify")
def verify_cmd(
    project: Path = ProjectArg,
    db: str | None = DbOption,
    bundle: Path | None = typer.Option(
        None, "--bundle", help="Verify an exported bundle instead (no database needed)."
    ),
    key: str | None = typer.Option(
        None, "--key", help="The verifier key to trust (`custos ledger status` prints it)."
    ),
    trust: Path | None = typer.Option(
        None, "--trust", help="Trust file with the last verified checkpoint (default: per user)."
    ),
    kept: list[Path] | None = typer.Option(
        None,
        "--checkpoint",
        help="A checkpoint kept earlier (`custos ledger checkpoint --out`, or a signed note); "
        "the history must still reproduce it. Repeatable.",
    ),
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """Recompute every entry, the tree and every checkpoint; refuse rollbacks and forks.

    Exit 0 when everything verifies, 1 when anything does not (the first bad entry is named).
    Example (an auditor, offline): custos ledger verify --bundle audit.bundle --key KEY
    Example (against checkpoints CI kept): custos ledger verify --checkpoint run-41.checkpoint
    """
    files = kept or []
    if bundle is not None:
        result, origin, used_key = _verify_bundle(bundle, key, trust, files)
    else:
        result, origin, used_key = _verify_store(project, db, key, trust, files)
    trust_path = trust or ledger_trust.default_path(origin)
    if result.ok and result.latest_note is not None:
        ledger_trust.save(trust_path, used_key, result.latest_note)
    _show(result, output_format, trust_path)
    if not result.ok:
        raise typer.Exit(EXIT_FINDINGS)


def _pick_key(key: str | None, trusted: ledger_trust.Trust | None, offered: str, where: str) -> str:
    if key is not None:
        if trusted is not None and trusted.verifier_key != key:
            raise UserError(f"--key differs from the key pinned in the trust file ({where})")
        return key
    if trusted is not None:
        return trusted.verifier_key
    warn(
        f"trusting the verifier key {where} offers ({offered}) on first use; "
        "pin the key you were given with --key"
    )
    return offered


def _load_kept(files: list[Path], verifier: str) -> list[Kept]:
    found = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(f"{path}: cannot read: {exc}") from None
        found.append(decode_file(data, verifier, str(path)))
    return found


def _verify_store(
    project: Path, db: str | None, key: str | None, trust: Path | None, files: list[Path]
) -> tuple[Audit, str, str]:
    from custos.workspace import open_store

    store, _ = open_store(project, db, create=False)
    with store:
        state = store.ledger_info()
        if state is None:
            raise UserError("the ledger is empty: nothing to verify")
        trust_path = trust or ledger_trust.default_path(state.origin)
        trusted = ledger_trust.load(trust_path)
        used = _pick_key(key, trusted, state.verifier_key, "the database")
        result = store.ledger_audit(
            used,
            trusted.checkpoint if trusted else None,
            origin=state.origin,
            kept=_load_kept(files, used),
        )
    return result, state.origin, used


def _verify_bundle(
    bundle: Path, key: str | None, trust: Path | None, files: list[Path]
) -> tuple[Audit, str, str]:
    try:
        handle = bundle.open("rb")
    except OSError as exc:
        raise UserError(f"{bundle}: cannot read: {exc}") from None
    with handle:
        header, notes, entries = read(iter(handle), str(bundle))
        trust_path = trust or ledger_trust.default_path(header.origin)
        trusted = ledger_trust.load(trust_path)
        used = _pick_key(key, trusted, header.verifier_key, "the bundle")
        rows = ((seq, None, data) for seq, data in enumerate(entries))
        result = audit(
            rows,
            notes,
            used,
            trusted=trusted.checkpoint if trusted else None,
            declared_size=header.size,
            origin=header.origin,
            kept=_load_kept(files, used),
        )
    return result, header.origin, used


def _show(result: Audit, output_format: TableOrJson, trust_path: Path) -> None:
    latest = result.latest
    summary = {
        "ok": result.ok,
        "entries": result.entries,
        "checkpoints": result.checkpoints,
        "size": latest.size if latest else None,
        "root": latest.root.hex() if latest else None,
        "first_bad_entry": result.first_bad,
        "problems": list(result.problems),
        "trust_file": str(trust_path),
    }
    if output_format is TableOrJson.json:
        emit_json(summary)
        return
    if result.ok:
        console.print(
            f"[green]verified[/green]: {result.entries} entries, {result.checkpoints} signed "
            f"checkpoints, root {summary['root']} (trust pinned in {trust_path})"
        )
        return
    where = "" if result.first_bad is None else f": first bad entry {result.first_bad}"
    console.print(f"[bold red]ledger does not verify[/bold red]{where}")
    for problem in result.problems:
        console.print(f"  - {problem}", markup=False)


@app.command("prove")
def prove_cmd(
    index: int = typer.Argument(..., help="The entry's sequence number."),
    project: Path = ProjectArg,
    db: str | None = DbOption,
) -> None:
    """Print an inclusion proof (JSON) of one entry in the latest signed checkpoint."""
    from custos.workspace import open_store

    store, _ = open_store(project, db, create=False)
    with store:
        proof = store.ledger_prove(index)
        data = store.ledger_entry(index)
    assert data is not None
    from custos.store.ledger import proof_document

    emit_json(proof_document(proof, data))


@app.command("export")
def export_cmd(
    out: Path = typer.Option(..., "--out", help="Bundle file to write (JSON Lines)."),
    project: Path = ProjectArg,
    db: str | None = DbOption,
) -> None:
    """Write an audit bundle (entries, checkpoints, public key) for `verify --bundle`."""
    from custos.workspace import open_store

    store, _ = open_store(project, db, create=False)
    with store:
        write_atomic(out, store.ledger_export())
    console.print(f"wrote {out}")


@app.command("checkpoint")
def checkpoint_cmd(
    out: Path = typer.Option(..., "--out", help="Checkpoint file to write (JSON)."),
    project: Path = ProjectArg,
    db: str | None = DbOption,
    key: str | None = typer.Option(
        None, "--key", help="The verifier key to trust (`custos ledger status` prints it)."
    ),
    trust: Path | None = typer.Option(
        None, "--trust", help="Trust file with the last verified checkpoint (default: per user)."
    ),
) -> None:
    """Keep the latest signed checkpoint, with its tree's leaf hashes, outside the database.

    Keep the file where the database's administrators cannot write (a CI artifact per run);
    `custos ledger verify --checkpoint FILE` later names the first entry that was rewritten,
    deleted or reordered since. Refused (exit 1) when the ledger does not verify now.
    Example: custos ledger checkpoint --out "checkpoint-$CI_PIPELINE_ID.json" --key KEY
    """
    from custos.store.ledger_witness import snapshot
    from custos.workspace import open_store

    result, _origin, used = _verify_store(project, db, key, trust, [])
    if not result.ok:
        _show(result, TableOrJson.table, trust or ledger_trust.default_path(_origin))
        raise typer.Exit(EXIT_FINDINGS)
    store, _ = open_store(project, db, create=False)
    with store:
        note, hashes = snapshot(store, used)
    write_atomic(out, encode_file(used, note, hashes))
    console.print(f"wrote {out} (checkpoint of {len(hashes)} entries)")

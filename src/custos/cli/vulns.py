"""`custos vulns list | accept | reopen`: the known vulnerabilities of the project's repository
assets, tracked across scans (docs/secdev.md, custos.vulns). Each `custos scan` opens what it
finds and marks fixed what a repository no longer has; a person accepts the risk of one for a
stated reason until a date (a ledger entry), or withdraws an acceptance.

Exit codes: 0 ok; 2 bad input (unknown id, a reason too short, a date past or too far).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from custos.cli.options import DbOption, PathArg
from custos.cli.output import TableOrJson, console, emit_json
from custos.errors import UserError

if TYPE_CHECKING:
    from collections.abc import Callable

    from custos.vulns.model import Record, State
    from custos.workspace import Workspace

vulns_app = typer.Typer(
    help="Known vulnerabilities of the repositories: list them, accept one, reopen one.",
    no_args_is_help=True,
)
IdArg = typer.Argument(..., metavar="ID", help="The number `custos vulns list` shows, or an "
                       "advisory id or alias (GHSA-..., PYSEC-..., CVE-...).")  # fmt: skip
SystemOption = typer.Option(None, "--system", help="Only this AI system.")


def _sla(ws: Workspace) -> dict[str, int]:
    return ws.loaded.manifest.organisation.vulnerability_sla.model_dump()


@vulns_app.command("list")
def list_cmd(
    path: Path = PathArg,
    db: str | None = DbOption,
    system: str | None = SystemOption,
    states: list[str] = typer.Option(
        [], "--state", help="open, overdue, expired, accepted or fixed (repeatable; default all)."
    ),
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """The tracked vulnerabilities, most pressing first, with the date each is due under the
    organisation's remediation SLA, the assets it exposes, and the risks whose likelihood the
    open ones suggest raising.

    Example: custos vulns list --state overdue --state open
    """
    from custos.vulns import exposure, view
    from custos.vulns.model import STATES
    from custos.workspace import now, open_workspace

    wanted = _states(states, STATES)
    ws = open_workspace(path, db)
    at, sla = now(), _sla(ws)
    manifest = ws.loaded.manifest
    everything = ws.store.vulnerabilities([system] if system else None)
    shown = view.ordered(everything, at, sla, wanted)
    exposed = exposure.exposure_of(manifest, shown)
    hints = exposure.suggestions(manifest, ws.catalog, everything, at, sla)
    if output_format is TableOrJson.json:
        emit_json({
            "counts": view.counts(everything, at, sla),
            "vulnerabilities": [
                view.to_json(r, at, sla, view.exposes_of(exposed, r)) for r in shown],
            "suggestions": [view.suggestion_json(s) for s in hints],
        })  # fmt: skip
        return
    _table(shown, at, sla, exposed)
    counts = view.counts(everything, at, sla)
    console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing tracked yet: "
                  "custos scan a project with repository assets")  # fmt: skip
    for s in hints:
        console.print(f"risk {s.risk}: likelihood {s.likelihood} -> suggested {s.suggested} "
                      f"while open: {'; '.join(s.because[:3])}")  # fmt: skip


def _states(given: list[str], known: tuple[State, ...]) -> list[State]:
    bad = [s for s in given if s not in known]
    if bad:
        raise UserError(f"--state {bad[0]!r}: use one of {', '.join(known)}")
    return [s for s in known if s in given]


def _table(
    shown: list[Record], at: dt.datetime, sla: dict[str, int], exposed: dict[int | None, list[str]]
) -> None:
    from custos.vulns import view

    table = Table(title=f"Vulnerabilities: {len(shown)}")
    for column in ("id", "state", "severity", "system/asset", "package", "advisory", "fixed in",
                   "due", "exposes"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for r in shown:
        row = view.to_json(r, at, sla, view.exposes_of(exposed, r))
        state = row["state"]
        if row["accepted"]:
            state += f" until {row['accepted']['until']}"
        table.add_row(
            str(r.id), state, row["severity"], f"{r.key.system}/{r.key.asset}",
            f"{r.key.package} {', '.join(r.versions)}", r.key.advisory, r.fixed_in or "-",
            row["due"] or "-", ", ".join(row["exposes"]),
        )  # fmt: skip
    console.print(table)


def _one(ws: Workspace, ident: str, system: str | None) -> Record:
    from custos.vulns.view import find

    found = find(ws.store.vulnerabilities([system] if system else None), ident, system)
    if not found:
        raise UserError(f"no tracked vulnerability {ident!r}" + (
            f" in system {system}" if system else "") + ": see custos vulns list")  # fmt: skip
    if len(found) > 1:
        where = ", ".join(f"{r.id} ({r.key.system}/{r.key.asset})" for r in found[:5])
        raise UserError(f"{ident!r} names {len(found)} vulnerabilities ({where}): give the "
                        "number or --system")  # fmt: skip
    return found[0]


def _decide(
    ws: Workspace, record: Record, decide: Callable[[Record], Record], event: str
) -> Record:
    from custos import ledger_records as records
    from custos.store.ledger_key import load_signer
    from custos.workspace import actor, now

    signer = load_signer(ws.base_dir, create=True)
    who, at = actor(), now()
    assert record.id is not None
    try:
        return ws.store.decide_vulnerability(
            record.id, decide,
            lambda r: records.event_entry(records.vulnerability_event(r, event), at, who),
            signer,
        )  # fmt: skip
    except ValueError as exc:
        raise UserError(str(exc)) from None


@vulns_app.command("accept")
def accept_cmd(
    ident: str = IdArg,
    path: Path = PathArg,
    db: str | None = DbOption,
    system: str | None = SystemOption,
    reason: str = typer.Option(..., "--reason", help="Why the risk is accepted; recorded."),
    expires: str = typer.Option(
        ..., "--expires", metavar="YYYY-MM-DD", help="Until when (at most a year ahead)."
    ),
) -> None:
    """Accept the risk of one vulnerability until a date: it no longer counts as a gap or
    fails the repository check, and comes back as open (or overdue) when the date passes. The
    decision is a ledger entry (who, why, until when).

    Example: custos vulns accept GHSA-xxxx-xxxx-xxxx --reason "not reachable: offline batch
    job only" --expires 2027-03-31
    """
    from custos.vulns import lifecycle
    from custos.workspace import actor, now, open_workspace

    try:
        until = dt.date.fromisoformat(expires)
    except ValueError:
        raise UserError(f"--expires {expires!r}: give a date as YYYY-MM-DD") from None
    ws = open_workspace(path, db)
    found = _one(ws, ident, system)
    who, at = actor(), now()
    decided = _decide(ws, found, lambda r: lifecycle.accept(r, who, reason, until, at),
                      "vulnerability-accepted")  # fmt: skip
    console.print(f"accepted {decided.key.label} until {until.isoformat()} (recorded in the "
                  "ledger); custos assess to see it counted")  # fmt: skip


@vulns_app.command("reopen")
def reopen_cmd(
    ident: str = IdArg,
    path: Path = PathArg,
    db: str | None = DbOption,
    system: str | None = SystemOption,
) -> None:
    """Withdraw an acceptance: the vulnerability is open again, on the clock it had.

    Example: custos vulns reopen 12
    """
    from custos.vulns import lifecycle
    from custos.workspace import open_workspace

    ws = open_workspace(path, db)
    found = _one(ws, ident, system)
    decided = _decide(ws, found, lifecycle.reopen, "vulnerability-reopened")
    console.print(f"reopened {decided.key.label} (recorded in the ledger)")

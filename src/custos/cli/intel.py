"""`custos intel import | status`: the threat intelligence Custos matches dependencies against
(docs/secdev.md): OSV-format advisory exports loaded offline into the advisory store, and how
fresh they are. Intelligence older than a week is stale (ISO 27002 5.7): `status` exits 1.

Exit codes: 0 ok; 1 the store is empty or stale (status); 2 bad input (nothing readable).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.table import Table

from custos.cli.output import TableOrJson, console, emit_json, err_console

intel_app = typer.Typer(
    help="Threat intelligence: load OSV advisory exports and see how fresh they are.",
    no_args_is_help=True,
)
StoreOption = typer.Option(None, "--store", metavar="DIR",
                           help="the advisory store (default: $CUSTOS_HOME/intel)")  # fmt: skip


@intel_app.command("import")
def intel_import_cmd(
    source: Path = typer.Argument(
        ...,
        metavar="FILE|DIR",
        help="an OSV export zip, a folder of OSV .json records, or one record",
    ),
    store: Path | None = StoreOption,
) -> None:
    """Load OSV advisories into the store, offline: an ecosystem export (OSV publishes
    PyPI/all.zip and others on osv-vulnerabilities.storage.googleapis.com) or GitHub's
    advisory database, which is OSV too. Importing the same export again replaces it.

    Example: custos intel import ~/Downloads/PyPI-all.zip
    """
    from custos.intel.store import import_source

    found, malformed = import_source(source, store)
    newest = found.newest.date().isoformat() if found.newest else "unknown"
    console.print(f"{found.advisories:,} advisories from {source} (newest record {newest}); "
                  f"stored as {found.name}")  # fmt: skip
    if malformed:
        err_console.print(f"{len(malformed):,} malformed record(s) skipped, e.g. "
                          f"{malformed[0][0]}: {malformed[0][1]}")  # fmt: skip


@intel_app.command("status")
def intel_status_cmd(
    store: Path | None = StoreOption,
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """What the store holds: each export, when it was imported, its newest record. Exit 1
    when nothing is loaded or the newest import is more than a week old."""
    from custos.intel.store import STALE_DAYS, sources, stale

    now = dt.datetime.now(dt.UTC)
    found = sources(store)
    old = stale(found, now)
    if output_format == TableOrJson.json:
        emit_json({"sources": [s.to_json() for s in found], "stale": old,
                   "stale_after_days": STALE_DAYS})  # fmt: skip
    else:
        table = Table(title=f"Advisory store: {len(found)} export(s)")
        for column in ("export", "from", "imported", "advisories", "malformed", "newest"):
            table.add_column(column, overflow="fold")
        for s in found:
            table.add_row(s.name, s.origin, s.imported.date().isoformat(), f"{s.advisories:,}",
                          str(s.malformed),
                          s.newest.date().isoformat() if s.newest else "")  # fmt: skip
        console.print(table)
        if old:
            what = "nothing imported" if not found else f"older than {STALE_DAYS} days"
            console.print(f"[yellow]stale threat intelligence ({what}): run custos intel "
                          "import with a fresh export[/yellow]")  # fmt: skip
    if old:
        raise typer.Exit(1)

"""`custos schema` and `custos db ...`: the manifest's JSON Schema and database migrations."""

from __future__ import annotations

from pathlib import Path

import typer

from custos.cli.options import DbOption
from custos.cli.output import console, emit_json
from custos.inventory.schema import Manifest

db_app = typer.Typer(help="Database maintenance.\n\nExample: custos db upgrade --db URL")


def schema_cmd() -> None:
    """Print the JSON Schema of custos.yaml (for editors and CI validation).

    Example: custos schema > custos.schema.json
    """
    emit_json(Manifest.model_json_schema())


@db_app.command("upgrade")
def upgrade_cmd(
    db: str | None = DbOption,
    directory: Path = typer.Option(
        Path("."), "--dir", help="Project directory (for the default SQLite file)."
    ),
) -> None:
    """Apply the database migrations (needed once for a new PostgreSQL database).

    Example: custos db upgrade --db postgresql://postgres@127.0.0.1/custos
    """
    from custos.store.store import Store  # lazy: SQLAlchemy only for store commands

    store = Store.open(db, directory)
    store.upgrade()
    console.print(f"{store.describe()} is at the latest schema")

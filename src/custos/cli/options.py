"""Options shared by the project commands (scan, assess, report)."""

from __future__ import annotations

from pathlib import Path

import typer

PathArg = typer.Argument(
    Path("."), help="The project directory holding custos.yaml, or the manifest file itself."
)
DbOption = typer.Option(
    None,
    "--db",
    envvar="CUSTOS_DATABASE_URL",
    help="Database URL (default: SQLite file .custos/custos.db beside custos.yaml), "
    "e.g. postgresql://user@host/custos.",
    show_envvar=True,
)

"""`custos init [DIR]`: find a repository's AI artifacts and write a starter custos.yaml.

An existing custos.yaml is never overwritten, not even with a flag: it is the user's own work.
The file is created with exclusive mode, so a file that appears between the check and the write
is not clobbered either.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from custos.cli.output import console, warn
from custos.errors import UserError
from custos.inventory.discover import scan_tree
from custos.inventory.load import MANIFEST_NAME
from custos.inventory.starter import SYSTEM_ID, plan_assets, starter_manifest


def init_cmd(
    directory: Path = typer.Argument(
        Path("."), help="The repository to search; custos.yaml is written there."
    ),
    organisation: str | None = typer.Option(
        None, "--organisation", help="Your organisation's name, written into the manifest."
    ),
) -> None:
    """Discover AI artifacts (models by content, datasets, serving code, pipelines, notebooks,
    Dockerfiles, access logs) and write a starter custos.yaml with TODO markers.

    Example: custos init .
    """
    if not directory.exists():
        raise UserError(f"{directory} does not exist; give the repository folder to search")
    if not directory.is_dir():
        raise UserError(f"{directory} is not a directory; give the repository folder to search")
    target = directory / MANIFEST_NAME
    exists = UserError(
        f"{target} already exists; Custos never overwrites it. Move it away or edit it."
    )
    if target.exists():
        raise exists
    discovery = scan_tree(directory)
    found = list(discovery.found)
    text = starter_manifest(directory, found, organisation)
    try:
        with target.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise exists from None
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror}") from None
    from custos import private_dir

    private_dir.ensure(directory)  # .custos/.gitignore before anything secret lands there

    if discovery.truncated:
        warn(
            f"stopped after {discovery.files_seen} files; artifacts further on were not "
            "searched (run init on a narrower folder)"
        )
    table = Table(title=escape(f"AI artifacts found under {directory}"))
    planned = plan_assets(found)
    table.add_column("path", overflow="fold", ratio=3)
    table.add_column("kind", no_wrap=True)
    table.add_column("format", no_wrap=True)
    table.add_column("asset id", overflow="fold", ratio=1)
    if any(asset.commented for asset in planned):
        table.caption = "* suggested in comments: not an asset kind of its own"
    for asset in planned:
        entry = f"{asset.id} *" if asset.commented else asset.id
        row = (asset.found.path, asset.found.kind, asset.found.format, entry)
        table.add_row(*(escape(cell) for cell in row))
    if found:
        console.print(table)
    else:
        console.print("No AI artifacts found; the manifest has an empty asset list to fill in.")
    where, folder = escape(str(target)), escape(str(directory))
    console.print(
        f"\nWrote [bold]{where}[/bold] with AI system [bold]{SYSTEM_ID}[/bold].\n"
        "Next steps:\n"
        f"  1. Review every line marked TODO in {where}: owners, classifications, the "
        "purpose and the EU AI Act answers.\n"
        f"  2. custos scan {folder}\n"
        f"  3. custos assess {folder}\n"
        f"  4. custos report {folder} --format html --out custos-report.html",
        markup=True,
        soft_wrap=True,
    )

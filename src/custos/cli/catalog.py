"""`custos catalog ...`: browse, search, map, export and extend the control catalog."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from custos.catalog.catalog import Catalog
from custos.catalog.crosswalk import DEFAULT_DEPTH, Hit, crosswalk
from custos.catalog.loader import load_catalog
from custos.catalog.mapping_table import MappingTable, mapping_table, table_csv, table_json
from custos.catalog.model import Control, Framework
from custos.catalog.user_files import Imported, import_atlas, import_file
from custos.cli.output import ShowFormat, TableOrJson, console, emit_json, emit_yaml, warn
from custos.errors import CustosError, UnknownIdError, UserError

app = typer.Typer(
    help="Browse, search, map, export and extend the control catalog.\n\n"
    "Example: custos catalog show iso27002:2022:8.24",
    no_args_is_help=True,
)


class ExportFormat(StrEnum):
    oscal = "oscal"


def _load() -> Catalog:
    return load_catalog()


# -- JSON shapes (a contract: later checks and other tools read these) ---------------------------


def framework_json(catalog: Catalog, framework: Framework) -> dict[str, Any]:
    return {
        "id": framework.id,
        "name": framework.name,
        "version": framework.version,
        "controls": catalog.count(framework.id),
        "prefix": framework.prefix,
        "kinds": catalog.kinds(framework.id),
        "publisher": framework.publisher,
        "source_url": framework.source_url,
        "licence": framework.licence,
        "attribution": framework.attribution,
        "notice": framework.notice,
        "origin": framework.origin,
        "dates": [
            {"date": d.date, "label": d.label, "applies_to": list(d.applies_to), "note": d.note}
            for d in framework.dates
        ],
    }


def control_json(catalog: Catalog, control: Control) -> dict[str, Any]:
    verification = None
    if control.verification is not None:
        attestation = control.verification.attestation
        verification = {
            "checks": list(control.verification.checks),
            "attestation": (
                {
                    "prompt": attestation.prompt,
                    "evidence_examples": list(attestation.evidence_examples),
                }
                if attestation
                else None
            ),
        }
    return {
        "id": control.id,
        "framework": control.framework,
        "ref": control.ref,
        "title": control.title,
        "kind": control.kind,
        "group": control.group,
        "parent": control.parent,
        "children": [c.id for c in catalog.children(control.id)],
        "guidance": control.guidance,
        "statement": control.statement,
        "rationale": control.rationale,
        "verification": verification,
        "counters": list(control.counters),
        "applicability": dict(control.applicability),
        "attributes": {key: list(values) for key, values in control.attributes.items()},
        "mappings": [
            {
                "source": m.source,
                "target": m.target,
                "relationship": m.relationship,
                "rationale": m.rationale,
            }
            for m in (*catalog.mappings_from(control.id), *catalog.mappings_to(control.id))
        ],
    }


def hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "source": hit.source,
        "target": hit.target,
        "relationship": hit.relationship,
        "rationale": hit.rationale,
        "path": list(hit.path),
        "direct": hit.direct,
    }


# -- commands -------------------------------------------------------------------------------------


@app.command("frameworks")
def frameworks_cmd(
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """List the frameworks in the catalog with their control counts.

    Example: custos catalog frameworks --format json
    """
    catalog = _load()
    for message in catalog.warnings:
        warn(message)
    rows = sorted(catalog.frameworks.values(), key=lambda f: f.id)
    if output_format is TableOrJson.json:
        emit_json([framework_json(catalog, f) for f in rows])
        return
    table = Table(title="Custos catalog")
    table.add_column("id", no_wrap=True)
    table.add_column("name")
    table.add_column("version")
    table.add_column("controls", justify="right")
    table.add_column("origin")
    for f in rows:
        table.add_row(f.id, f.name, f.version, str(catalog.count(f.id)), f.origin)
    console.print(table)


@app.command("show")
def show_cmd(
    ident: str = typer.Argument(..., metavar="ID", help="A control id or a framework id."),
    output_format: ShowFormat = typer.Option(ShowFormat.table, "--format", "-f"),
) -> None:
    """Show one control (or a framework and its tree).

    Example: custos catalog show custos:ai:model-signing --format yaml
    """
    catalog = _load()
    if ident in catalog.controls:
        data = control_json(catalog, catalog.control(ident))
    else:
        try:
            framework = catalog.framework(ident)
        except UnknownIdError:
            catalog.control(ident)  # raises with "did you mean" suggestions
            raise
        data = framework_json(catalog, framework)
        data["tree"] = [
            {"id": c.id, "title": c.title, "kind": c.kind, "parent": c.parent}
            for c in catalog.framework_controls(framework.id, groups=True)
        ]
    if output_format is ShowFormat.json:
        emit_json(data)
    elif output_format is ShowFormat.yaml:
        emit_yaml(data)
    else:
        _print_record(data)


def _print_record(data: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in data.items():
        if value in (None, [], {}, ""):
            continue
        if key == "tree":
            value = "\n".join(f"{row['id']}  {row['title']}" for row in value)
        elif key == "mappings":
            value = "\n".join(
                f"{m['source']} {m['relationship']} {m['target'] or '(no counterpart)'}"
                for m in value
            )
        elif isinstance(value, dict):
            value = "\n".join(f"{k}: {_flat(v)}" for k, v in value.items() if v)
        elif isinstance(value, list):
            value = "\n".join(_flat(v) for v in value)
        table.add_row(key, _flat(value) if not isinstance(value, str) else value)
    console.print(table)


def _flat(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in value.items() if v)
    return str(value)


@app.command("search")
def search_cmd(
    text: str = typer.Argument(..., help="Words that must all appear (id, title or guidance)."),
    framework: str | None = typer.Option(None, "--framework", help="Only this framework."),
    limit: int = typer.Option(50, "--limit", min=1, help="Show at most this many results."),
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """Search controls by words in their id, title, guidance or statement.

    Example: custos catalog search "model signing" --framework custos-ai
    """
    catalog = _load()
    results = catalog.search(text, framework=framework, limit=limit)
    if output_format is TableOrJson.json:
        emit_json(
            [
                {"id": c.id, "framework": c.framework, "title": c.title, "kind": c.kind}
                for c in results
            ]
        )
        return
    if not results:
        console.print(f"No control matches {text!r}.")
        return
    table = Table(title=f"{len(results)} result(s) for {text!r}")
    table.add_column("id", no_wrap=True)
    table.add_column("title")
    table.add_column("framework")
    for c in results:
        table.add_row(c.id, c.title, c.framework)
    console.print(table)


class MapFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    oscal = "oscal"


@app.command("map")
def map_cmd(
    ident: str | None = typer.Argument(
        None, metavar="ID", help="The control to start from (or use --from for a whole table)."
    ),
    from_: str | None = typer.Option(
        None, "--from", help="A framework: map all its controls (needs --to).", show_default=False
    ),
    to: str | None = typer.Option(None, "--to", help="Only targets in this framework."),
    depth: int = typer.Option(DEFAULT_DEPTH, "--depth", min=1, max=6, help="Mapping steps."),
    output_format: MapFormat = typer.Option(
        MapFormat.table, "--format", "-f", help="csv and oscal need --from."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="With --from: write json, csv or oscal here.", dir_okay=False
    ),
) -> None:
    """Follow mappings from a control to other frameworks (transitively, up to --depth), or
    with --from list the whole table between two frameworks, direct and derived.

    Example: custos catalog map custos:ai:model-signing --to iso42001 --format json

    Example: custos catalog map --from eu-ai-act --to iso27002 --format csv
    """
    if from_ is not None:
        if ident is not None:
            raise UserError(f"give a control id or --from {from_}, not both")
        if to is None:
            raise UserError("--from needs --to FRAMEWORK")
        _map_table(from_, to, depth, output_format, out)
        return
    if ident is None:
        raise UserError("give a control id, or --from FRAMEWORK --to FRAMEWORK")
    if output_format in (MapFormat.csv, MapFormat.oscal) or out is not None:
        option = "--out" if out is not None else f"--format {output_format}"
        raise UserError(f"{option} needs --from FRAMEWORK --to FRAMEWORK")
    catalog = _load()
    hits = crosswalk(catalog, ident, to_framework=to, depth=depth)
    if output_format is MapFormat.json:
        emit_json([hit_json(h) for h in hits])
        return
    if not hits:
        console.print(f"No mappings from {ident}" + (f" to {to}." if to else "."))
        return
    table = Table(title=f"Mappings from {ident}")
    table.add_column("target", no_wrap=True)
    table.add_column("relationship")
    table.add_column("via")
    table.add_column("rationale", overflow="fold")
    for h in hits:
        via = "direct" if h.direct else " -> ".join(h.path[1:-1])
        table.add_row(h.target or "(no counterpart)", h.relationship, via, h.rationale)
    console.print(table)


def _map_table(
    from_framework: str, to_framework: str, depth: int, output_format: MapFormat, out: Path | None
) -> None:
    if output_format is MapFormat.table and out is not None:
        raise UserError("--out needs --format json, csv or oscal")
    catalog = _load()
    source, target = catalog.framework(from_framework), catalog.framework(to_framework)
    if source.id == target.id:
        raise UserError(f"--from and --to name the same framework ({source.id})")
    result = mapping_table(catalog, source.id, target.id, depth=depth)
    if output_format is MapFormat.table:
        _print_map_table(result)
        return
    if output_format is MapFormat.oscal:
        # trestle takes half a second to import: load it only for the form that needs it.
        from custos.catalog.oscal_mapping import mapping_collection_json, write_mapping_collection

        if out is None:
            sys.stdout.write(mapping_collection_json(result) + "\n")
            return
        model = write_mapping_collection(result, out)
        entries = sum(len(m.maps) for m in _as_list(model.mappings))
        console.print(
            f"Wrote OSCAL mapping collection {out} ({entries} entries); it re-reads cleanly."
        )
        return
    text = (
        table_csv(result)
        if output_format is MapFormat.csv
        else json.dumps(table_json(result), indent=2, ensure_ascii=False) + "\n"
    )
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise CustosError(f"{out}: cannot write: {exc.strerror}") from exc
    console.print(f"Wrote {len(result.rows)} rows to {out}.")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _print_map_table(result: MappingTable) -> None:
    direct = result.direct_rows
    title = (
        f"{result.source.id} -> {result.target.id}: {len(result.rows)} pairs "
        f"({direct} direct, {len(result.rows) - direct} derived)"
    )
    if not result.rows:
        console.print(f"No mappings from {result.source.id} to {result.target.id}.")
        return
    table = Table(title=title)
    table.add_column("source", no_wrap=True)
    table.add_column("target", no_wrap=True)
    table.add_column("relationship")
    table.add_column("via")
    table.add_column("rationale", overflow="fold")
    for row in result.rows:
        via = "direct" if row.direct else " -> ".join(row.via)
        table.add_row(row.source.id, row.target.id, row.relationship, via, row.rationale)
    console.print(table)
    if result.unmapped:
        console.print(
            f"{len(result.unmapped)} {result.source.id} controls map to nothing in "
            f"{result.target.id}: " + ", ".join(c.id for c in result.unmapped)
        )


@app.command("export")
def export_cmd(
    framework: str = typer.Option(..., "--framework", help="Framework id to export."),
    out: Path = typer.Option(..., "--out", help="File to write.", dir_okay=False),
    output_format: ExportFormat = typer.Option(ExportFormat.oscal, "--format", "-f"),
) -> None:
    """Export a framework (OSCAL catalog JSON, validated by re-reading it with trestle).

    Example: custos catalog export --format oscal --framework iso27002 --out iso27002.json
    """
    # trestle takes half a second to import: load it only for the command that needs it.
    from custos.catalog.oscal import export_oscal

    catalog = _load()
    model = export_oscal(catalog, framework, out)
    groups = len(model.groups or [])
    console.print(f"Wrote OSCAL catalog {out} ({groups} groups); it re-reads cleanly.")


def _report_import(result: Imported) -> None:
    for message in result.warnings:
        warn(message)
    replaced = " (replaces the shipped one)" if result.replaces_shipped else ""
    console.print(
        f"Imported {result.kind} {result.id}{replaced}: {result.entries} entries "
        f"-> {result.destination}"
    )


@app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="A custos-framework/1 or custos-mappings/1 YAML file."),
) -> None:
    """Add your own framework or mappings (e.g. a licensed copy of ISO text you own).

    The file is validated like the shipped catalog and copied under your config directory
    ($CUSTOS_HOME/catalog or the platform default); it is never shipped.

    Example: custos catalog import my-policies.yaml
    """
    _report_import(import_file(file))


@app.command("import-atlas")
def import_atlas_cmd(
    file: Path = typer.Argument(..., help="MITRE ATLAS.yaml (v5 'matrices' or v6 layout)."),
) -> None:
    """Replace the shipped MITRE ATLAS with a newer ATLAS.yaml release.

    Example: custos catalog import-atlas ATLAS.yaml
    """
    _report_import(import_atlas(file))

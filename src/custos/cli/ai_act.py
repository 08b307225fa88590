"""`custos ai-act classify | annex-iv`: the EU AI Act for each AI system (docs/ai-act.md).

`classify` shows the regimes, roles and obligations the manifest's answers give (or asks the
questions in the terminal with --interactive and prints the answers to paste), each obligation
cited to its point, with its date and the ISO 27002 / 42001 controls and Custos checks that
evidence it. `annex-iv` writes the Annex IV technical documentation of one system from the
manifest, the latest evidence and the ledger, with every gap named.

Exit codes: 0 ok; 2 bad input (an unknown system, a format that cannot be written).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from custos.cli.options import DbOption, PathArg
from custos.cli.output import TableOrJson, console, emit_json, err_console
from custos.errors import UserError

if TYPE_CHECKING:
    from custos.catalog.catalog import Catalog
    from custos.inventory.schema import AISystem

ai_act_app = typer.Typer(
    help="The EU AI Act per AI system: classification, obligations, Annex IV documentation.",
    no_args_is_help=True,
)
SystemOption = typer.Option(None, "--system", help="Only this AI system (default: all).")


def scoping_json(catalog: Catalog, system: AISystem, today: dt.date) -> dict[str, Any]:
    """One system's classification (a contract: docs/ai-act.md)."""
    from custos.catalog.ai_act_links import links
    from custos.inventory.tier import system_tier

    decided = system_tier(system.eu_ai_act)
    s = decided.scoping
    return {
        "id": system.id,
        "name": system.name,
        "declared": not decided.derived,
        "tier": s.tier,
        "regimes": [r for r in s.regimes if r != "baseline"],
        "roles": list(s.roles),
        "reasons": list(decided.reasons),
        "obligations": [
            {**o.to_json(), "in_force": o.applies_from <= today,
             "evidenced_by": links(catalog, o).to_json()}
            for o in s.obligations
        ],
    }  # fmt: skip


@ai_act_app.command("classify")
def classify_cmd(
    path: Path = PathArg,
    system: str | None = SystemOption,
    interactive: bool = typer.Option(
        False, "--interactive", help="Ask the questions here and print the answers to paste."
    ),
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """Each system's EU AI Act regimes, roles and obligations, cited to the point, with the
    date each applies and what evidences it.

    Example: custos ai-act classify --system credit-limit-advisor --format json
    """
    from custos.catalog.loader import load_catalog
    from custos.inventory.load import load_manifest

    catalog = load_catalog()
    today = dt.datetime.now(dt.UTC).date()
    if interactive:
        _interactive(catalog, today)
        return
    manifest = load_manifest(path, catalog).manifest
    chosen = [s for s in manifest.systems if system in (None, s.id)]
    if not chosen:
        known = ", ".join(s.id for s in manifest.systems)
        raise UserError(f"no AI system {system!r} in the manifest (known: {known})")
    found = [scoping_json(catalog, s, today) for s in chosen]
    if output_format is TableOrJson.json:
        emit_json({"systems": found})
        return
    for item in found:
        _print(item)


def _print(item: dict[str, Any]) -> None:
    regimes = ", ".join(item["regimes"]) or "minimal risk"
    console.print(f"[bold]{item['name']}[/bold] ({item['id']}): {item['tier']}; regimes: "
                  f"{regimes}; roles: {', '.join(item['roles'])}")  # fmt: skip
    for why in item["reasons"]:
        console.print(f"  - {why}")
    table = Table(show_lines=False)
    for column in ("citation", "role", "duty", "from", "evidenced by"):
        table.add_column(column, overflow="fold")
    for o in item["obligations"]:
        links = o["evidenced_by"]
        shown = ", ".join([*links["iso27002"][:3], *links["iso42001"][:2], *links["checks"][:3]])
        when = o["applies_from"] + ("" if o["in_force"] else " (not yet)")
        table.add_row(o["citation"], o["role"], o["duty"], when, shown or "-")
    console.print(table)


_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("annex_i_product", "Is it, or is it a safety component of, a product under the Annex I "
                        "legislation (machinery, toys, medical devices, ...)?"),
    ("annex_iii_exception", "Does it only perform a narrow procedural or preparatory task, "
                            "with no significant risk of harm (Art. 6(3))?"),
    ("profiling", "Does it profile natural persons?"),
    ("gpai", "Is it a general-purpose AI model you provide?"),
    ("gpai_systemic", "Is that model one with systemic risk (Art. 51(1))?"),
    ("own_name_or_trademark", "Do you put your name or trademark on a high-risk system "
                              "another party made (Art. 25(1)(a))?"),
    ("substantial_modification", "Did you substantially modify it (Art. 25(1)(b))?"),
    ("changed_intended_purpose", "Did you change its intended purpose (Art. 25(1)(c))?"),
    ("public_service", "Are you a public body or a private entity providing public services?"),
)  # fmt: skip


def _interactive(catalog: Catalog, today: dt.date) -> None:
    """Ask, classify what was answered, and print the answers as custos.yaml lines."""
    from custos.inventory.schema import AISystem, EuAiAct

    role = typer.prompt(
        "Your role (provider, deployer, importer, distributor, authorised-representative, "
        "product-manufacturer)", default="provider",
    )  # fmt: skip
    prohibited = typer.prompt("Art. 5 practices, comma-separated (e.g. social-scoring), "
                              "or none", default="none")  # fmt: skip
    annex_iii = typer.prompt("Annex III points or areas, comma-separated (e.g. 5(b), "
                             "employment), or none", default="none")  # fmt: skip
    transparency = typer.prompt(
        "Art. 50 cases, comma-separated (interacts-with-people, synthetic-content, "
        "emotion-recognition, biometric-categorisation, deepfake), or none", default="none",
    )  # fmt: skip
    answers: dict[str, Any] = {
        "prohibited_practices": _listed(prohibited), "annex_iii": _listed(annex_iii),
        "transparency": _listed(transparency),
    }  # fmt: skip
    for key, question in _QUESTIONS:
        answers[key] = typer.confirm(question, default=False)
    try:
        act = EuAiAct.model_validate({"role": role, "questionnaire": answers})
    except ValueError as exc:
        raise UserError(f"the answers do not fit: {' '.join(str(exc).split())[:300]}") from None
    system = AISystem(id="answers", name="Your answers", purpose="(interactive)",
                      lifecycle="design", eu_ai_act=act)  # fmt: skip
    _print(scoping_json(catalog, system, today))
    import yaml

    err_console.print("Paste under the system in custos.yaml:")
    console.print(yaml.safe_dump({"eu_ai_act": act.model_dump(mode="json", exclude_none=True)},
                                 sort_keys=False))  # fmt: skip


def _listed(text: str) -> list[str]:
    return [] if text.strip().lower() in ("", "none", "no") else [
        t.strip() for t in text.split(",") if t.strip()]  # fmt: skip


class DocFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


@ai_act_app.command("annex-iv")
def annex_iv_cmd(
    system_id: str = typer.Argument(..., metavar="SYSTEM", help="The AI system's id."),
    path: Path = PathArg,
    db: str | None = DbOption,
    output_format: DocFormat = typer.Option(DocFormat.md, "--format", "-f"),
    out: Path | None = typer.Option(
        None, "--out", help="Write here (default: stdout; pdf needs --out)."
    ),
) -> None:
    """The Annex IV technical documentation of one system: nine sections filled from the
    manifest, the latest evidence (scans, robustness, evaluation, monitoring), attestations,
    the risk register and the ledger's recorded events, with every gap named and how to fill it.

    Example: custos ai-act annex-iv credit-limit-advisor --format html --out annex-iv.html
    """
    from custos._files import write_atomic
    from custos.reports import annex_iv_render as render
    from custos.reports.annex_iv import build
    from custos.workspace import build_report, open_workspace, system_events

    if output_format is DocFormat.pdf and out is None:
        raise UserError("--format pdf needs --out FILE")
    ws = open_workspace(path, db)
    system = next((s for s in ws.loaded.manifest.systems if s.id == system_id), None)
    if system is None:
        known = ", ".join(s.id for s in ws.loaded.manifest.systems)
        raise UserError(f"no AI system {system_id!r} in the manifest (known: {known})")
    doc = build(build_report(ws), system, system_events(ws.store, system))
    data: bytes
    if output_format is DocFormat.pdf:
        data = render.pdf(doc)
    else:
        text = render.html(doc) if output_format is DocFormat.html else render.markdown(doc)
        data = text.encode()
    if out is None:
        console.file.write(data.decode())
    else:
        write_atomic(out, data)
        err_console.print(f"wrote {out}: {len(doc.gaps)} gap(s) named")

"""`custos scan`: run every applicable check on every asset and keep the evidence."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Severity
from custos.checks.registry import all_checks, targets
from custos.cli.options import DbOption, PathArg
from custos.cli.output import TableOrJson, console, emit_json, err_console, warn
from custos.errors import EXIT_FINDINGS, UserError
from custos.reports.json_schema import evidence_to_dict
from custos.workspace import decided, now, open_workspace, scan_recorded


def scan_cmd(
    path: Path = PathArg,
    db: str | None = DbOption,
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 if any finding is at or above this severity."
    ),
    push_url: str | None = typer.Option(
        None, "--push", help="Also send the results to this Custos server ($CUSTOS_TOKEN)."
    ),
) -> None:
    """Run the checks on every AI system and asset in custos.yaml and store the evidence.

    Example: custos scan examples/fraud-detection --fail-on high --push https://custos.example
    """
    threshold = parse_severity(fail_on)
    ws = open_workspace(path, db)
    checks = all_checks()
    context = CheckContext(ws.loaded.manifest, ws.base_dir, now())
    total = sum(1 for t in targets(context) for c in checks if c.applies_to(t))
    with Progress(
        TextColumn("[bold]scanning"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.description}"), console=err_console, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("", total=total)

        def advance(check: Check, target: Target) -> None:
            progress.update(task, advance=1, description=f"{check.name} on {target.label}")

        scanned = scan_recorded(ws, checks, advance, context.now)
    run_id, evidence = scanned.run_id, scanned.evidence
    judged = decided(ws, evidence, context.now)  # accepted vulnerabilities do not gate
    if push_url is not None:
        from custos.push import scan_payload, send

        payload = scan_payload(ws, evidence, context.now, now(), scanned.entries)
        pushed = send(push_url, "scan", payload)
        err_console.print(
            f"pushed to {push_url}: scan {pushed.get('scan_run')}, server score "
            f"{pushed.get('overall_score')}"
        )
        print_claims(pushed.get("claimed"))
    if output_format is TableOrJson.json:
        emit_json({"run": run_id, "evidence": [evidence_to_dict(e) for e in evidence]})
    else:
        table = Table(title=f"Scan {run_id}: {len(evidence)} check runs")
        for column in ("system", "check", "target", "result", "findings"):
            table.add_column(column)
        for e in judged:
            style = {"pass": "green", "fail": "red", "error": "magenta"}.get(e.result, "dim")
            table.add_row(
                e.system, e.check, e.asset or "(system)", f"[{style}]{e.result}[/{style}]",
                str(len(e.findings)),
            )  # fmt: skip
        console.print(table)
        counts = Counter(f.severity.name for e in judged for f in e.findings)
        console.print(
            "findings: "
            + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none")
            + f"; evidence stored in {ws.store.describe()}"
        )
    if threshold is not None and any(f.severity >= threshold for e in judged for f in e.findings):
        raise typer.Exit(EXIT_FINDINGS)


def print_claims(claimed: object) -> None:
    """Say so when the server could not verify results: they will never count as a pass."""
    if isinstance(claimed, dict) and claimed:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(claimed.items()))
        warn(
            f"the server keeps these results as claimed, not verified ({reasons}); a claimed "
            "pass never counts. Register this ledger's key (`custos ledger key`) for the "
            "systems; see docs/server.md, 'What a push proves'"
        )


def parse_severity(name: str | None) -> Severity | None:
    """--fail-on SEVERITY (None when not given), or one clear line."""
    if name is None:
        return None
    try:
        return Severity.parse(name)
    except ValueError as exc:
        raise UserError(f"--fail-on: {exc}") from None

"""`custos evaluate MODEL --data FILE --label COLUMN`: performance on a held-out set against
declared minimums, per-subgroup figures and the fairness gap, permutation importance, and the
model card beside the model compared with what was measured (docs/assurance.md).

The model is loaded only with `--trusted` and after the model-file scanner passes it
(custos.assurance.loading). Exit 0: no findings; 1: findings; 2: bad input, an untrusted or
refused model. Results go to stdout, progress to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from custos.assurance.evaluation_extra import MAX_REPEATS, MIN_GROUP_SIZE, REPEATS, require
from custos.cli.output import TableOrJson
from custos.errors import EXIT_FINDINGS, UserError

if TYPE_CHECKING:
    from custos.assurance.evaluation import Progress
    from custos.assurance.evaluation_report import EvaluationReport

MINIMUMS = ("accuracy", "f1", "auc", "r2")
SHOWN = 10  # features in the table; json lists them all


def evaluate_cmd(
    model: Path = typer.Argument(..., metavar="MODEL",
                                 help="The model file: scikit-learn (joblib, pickle) or ONNX."),
    data: Path = typer.Option(..., "--data", metavar="FILE",
                              help="The held-out set: CSV, TSV or Parquet, with a header."),
    label: str = typer.Option(..., "--label", metavar="COLUMN", help="The label column."),
    trusted: bool = typer.Option(False, "--trusted",
                                 help="The organisation vouches for the model file: Custos may "
                                 "load it once the model-file scanner passes it. Without it, "
                                 "nothing is loaded."),
    subgroup: list[str] | None = typer.Option(None, "--subgroup", metavar="COLUMN",
                                              help="A column whose groups are compared "
                                              "(repeatable); not a feature unless the model "
                                              "was trained with it."),
    minimum: list[str] | None = typer.Option(None, "--min", metavar="METRIC=VALUE",
                                             help="A least acceptable figure (repeatable): "
                                             "accuracy, f1, auc or r2, from 0 to 1."),
    max_rmse: float | None = typer.Option(None, "--max-rmse", min=0.0,
                                          help="The largest acceptable RMSE (regression)."),
    max_gap: float | None = typer.Option(None, "--max-gap", min=0.0, max=1.0,
                                         help="The largest acceptable fairness gap of the main "
                                         "metric between judged subgroups."),
    min_group_size: int = typer.Option(MIN_GROUP_SIZE, "--min-group-size", min=1,
                                       help="Smaller groups are reported, not judged."),
    repeats: int = typer.Option(REPEATS, "--repeats", min=1, max=MAX_REPEATS,
                                help="Permutation-importance repeats."),
    card: Path | None = typer.Option(None, "--card", metavar="FILE",
                                     help="The model card (default: the one beside the model, "
                                     "found as the model-card check finds it)."),
    card_snippet: bool = typer.Option(False, "--card-snippet",
                                      help="Print the measured figures as Markdown for the "
                                      "card's Evaluation section instead of the table (JSON "
                                      "always carries it as card_snippet)."),
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:  # fmt: skip
    """Validate a model on a held-out set: metrics against minimums, subgroup gaps, the
    features that decide (permutation importance), and its model card against them.

    Example: custos evaluate fraud.joblib --trusted --data holdout.csv --label y --min auc=0.9
    """
    if card_snippet and output_format is TableOrJson.json:
        raise UserError("--card-snippet prints Markdown; with --format json it is the "
                        "card_snippet field: choose one")  # fmt: skip
    minimums = parse_minimums(minimum or [])
    if card is not None and not card.is_file():
        raise UserError(f"{card}: no such model card")
    require()
    from custos.assurance.evaluation import Policy
    from custos.assurance.evaluation_card import card_fields
    from custos.assurance.evaluation_report import evaluate
    from custos.assurance.model_cards import SECTIONS, card_candidates

    policy = Policy(minimums, max_rmse, max_gap, min_group_size, repeats)
    found = card or next((c for c in card_candidates(model) if c.is_file()), None)

    def run(progress: Progress | None) -> EvaluationReport:
        return evaluate(model, data, label, trusted=trusted, subgroups=subgroup or [],
                        policy=policy, card=found, expected_card=_expected(model),
                        fields=card_fields(SECTIONS), progress=progress)  # fmt: skip

    report = _with_progress(run)
    if output_format is TableOrJson.json:
        from custos.cli.scan_model import write_json

        write_json(report.to_json())
    elif card_snippet:
        _write(report.snippet)
    else:
        _print_table(report)
    if report.findings:
        raise typer.Exit(EXIT_FINDINGS)


def parse_minimums(given: list[str]) -> dict[str, float]:
    """`--min accuracy=0.9` options as {metric: value}; UserError for anything else."""
    found: dict[str, float] = {}
    for item in given:
        name, sep, text = item.partition("=")
        name = name.strip().casefold()
        if not sep or name not in MINIMUMS:
            raise UserError(f"--min {item}: give METRIC=VALUE with METRIC one of "
                            f"{', '.join(MINIMUMS)} (RMSE: --max-rmse)")  # fmt: skip
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= 1.0:
            raise UserError(f"--min {item}: the value must be a number from 0 to 1")
        found[name] = value
    return found


def _expected(model: Path) -> str:
    stem = model.name if model.is_dir() else model.stem
    return f"{stem}.md or MODEL_CARD.md"


def _with_progress(run: Callable[[Progress | None], EvaluationReport]) -> EvaluationReport:
    if not sys.stderr.isatty():
        report: EvaluationReport = run(None)
        return report
    from rich.progress import Progress as Bar
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    from custos.cli.output import err_console

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Bar(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("evaluate", total=None)
        report = run(lambda step: bar.update(task, description=step))
        return report


def _write(text: str) -> None:
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def _print_table(report: EvaluationReport) -> None:
    from rich.table import Table

    from custos.cli.output import console
    from custos.cli.scan_model import STYLE, cell

    code = console.encoding
    m, p = report.measured, report.policy
    title = (f"Evaluation: {report.model} ({report.model_format} {m.task}) on {report.data} "
             f"({m.rows:,} rows, label {report.label!r})")  # fmt: skip
    metrics = Table(title=cell(title, code))
    for column in ("metric", "value", "required"):
        metrics.add_column(column)
    for name, value in m.metrics.items():
        limit = p.max_rmse if name == "rmse" else p.minimums.get(name)
        required = "" if limit is None else f"{'<=' if name == 'rmse' else '>='} {limit:.4f}"
        metrics.add_row(name, "n/a" if value is None else f"{value:.4f}", required)
    console.print(metrics)
    for note in m.notes:
        console.print("[dim]note[/dim] ", cell(note, code), sep="")
    source = ("the model's feature_names_in_" if report.feature_source == "model"
              else "every column except the label and the subgroups")  # fmt: skip
    console.print(f"features: {len(report.features)}, {source}")
    for sub in m.subgroups:
        gap = "not judged" if sub.gap is None else f"{sub.gap:.4f}"
        table = Table(title=cell(f"Subgroups of {sub.column!r}: {sub.metric} gap {gap}", code))
        for column in ("group", "rows", sub.metric, "judged"):
            table.add_column(column, overflow="fold")
        for g in sub.groups:
            shown = "n/a" if g.metric is None else f"{g.metric:.4f}"
            table.add_row(cell(g.value, code), f"{g.rows:,}", shown, "yes" if g.judged else "no")
        console.print(table)
    ex = m.explanation
    importance = Table(title=f"Permutation importance ({ex.scoring}, {ex.repeats} repeats, "
                       f"{ex.rows:,} rows, seed {ex.seed})")  # fmt: skip
    for column in ("feature", "share", "mean drop", "std"):
        importance.add_column(column, overflow="fold")
    for i in ex.features[:SHOWN]:
        importance.add_row(cell(i.feature, code), f"{i.share:.1%}", f"{i.mean:.4f}",
                           f"{i.std:.4f}")  # fmt: skip
    console.print(importance)
    if report.card is not None:
        decisive = report.card.heading or "no decisive-features section"
        console.print("model card ", cell(report.card.path, code), ": ",
                      cell(decisive, code), sep="")  # fmt: skip
    for f in sorted(report.findings, key=lambda f: -f.severity):
        style = STYLE[f.severity.name]
        console.print(f"[{style}]{f.severity.name}[/{style}] {f.rule}: ", cell(f.message, code),
                      sep="")  # fmt: skip
    if not report.findings:
        console.print("no findings: every declared criterion is met")

"""`custos robustness MODEL --data FILE --label COLUMN`: how much accuracy a trusted classifier
keeps under adversarial inputs at each perturbation budget (custos.assurance.robustness, ART).
White-box FGSM and PGD where ART has the model's gradients, black-box HopSkipJump otherwise.
PyTorch models are a state dict plus `--architecture module:callable`, the organisation's own
code, imported from the current directory only with `--trusted`.

Exit 0: at or above `--min-robust-accuracy` at every budget (or no threshold given); 1: below
it at a budget; 2: bad input, or a model that is not trusted or that the model-file scanner
refuses (it is never loaded). Results go to stdout; progress to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from custos.cli.output import TableOrJson
from custos.errors import EXIT_FINDINGS, EXIT_OK, UserError

if TYPE_CHECKING:
    from custos.assurance.robustness import Report
    from custos.assurance.robustness_attacks import Progress


class NormChoice(StrEnum):
    inf = "inf"
    two = "2"


def robustness_cmd(
    model: Path = typer.Argument(
        ...,
        metavar="MODEL",
        help="A scikit-learn model or pipeline (joblib, pickle), ONNX, or a PyTorch state dict "
        "(with --architecture).",
    ),
    data: Path = typer.Option(
        ..., "--data", metavar="FILE", help="Labelled data: CSV, TSV or Parquet, numeric features."
    ),
    label: str = typer.Option(..., "--label", metavar="COLUMN", help="The label column."),
    eps: str | None = typer.Option(
        None,
        "--eps",
        metavar="LIST",
        help="Perturbation budgets in the data's units, comma-separated, e.g. 0.05,0.1,0.2 "
        "(default: 0.05, 0.1 and 0.25 x the median feature standard deviation).",
    ),
    norm: NormChoice = typer.Option(NormChoice.inf, "--norm", help="The budget's norm."),
    trusted: bool = typer.Option(
        False,
        "--trusted",
        help="The organisation vouches for the model file: Custos may load it (after the "
        "model-file scanner passes it). Without it nothing is loaded.",
    ),
    architecture: str | None = typer.Option(
        None,
        "--architecture",
        metavar="MODULE:CALLABLE",
        help="MODEL is a PyTorch state dict (.pt, .pth, .safetensors); this entry point, "
        "imported from the current directory and called with no arguments, returns the "
        "torch.nn.Module it fits. It runs your own code: only with --trusted.",
    ),
    n: int | None = typer.Option(
        None, "--n", metavar="N", help="Points attacked (default 100 white-box, 25 black-box)."
    ),
    iterations: int | None = typer.Option(
        None,
        "--iterations",
        metavar="N",
        help="PGD steps (default 20) or HopSkipJump iterations (default 10).",
    ),
    seed: int = typer.Option(0, "--seed", metavar="N", help="Seeds the sample and the attacks."),
    min_robust_accuracy: float | None = typer.Option(
        None,
        "--min-robust-accuracy",
        metavar="X",
        help="The least accuracy under attack, 0 to 1, at every budget; below it exits 1.",
    ),
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """Attack a trusted classifier with ART and report the accuracy it keeps at each budget.

    White-box FGSM and PGD where ART has the model's gradients (logistic regression, SVMs,
    also behind scalers in a pipeline); black-box HopSkipJump otherwise (other estimators,
    ONNX), reported as the share of points whose smallest adversarial change found exceeds the
    budget. PyTorch: a state dict with --architecture module:callable (your code, run only with
    --trusted), attacked white-box. Exit 0: at or above --min-robust-accuracy; 1: below it;
    2: bad input or a model that is not trusted.

    Example: custos robustness models/fraud.joblib --data data/holdout.csv --label is_fraud
    --eps 0.05,0.1 --trusted --min-robust-accuracy 0.7
    """
    from custos.assurance.robustness import Settings, run

    settings = Settings(
        eps=_budgets(eps), norm="inf" if norm is NormChoice.inf else "2", n=n,
        iterations=iterations, seed=seed, min_robust_accuracy=min_robust_accuracy,
    )  # fmt: skip
    settings.check()
    if architecture is not None and not trusted:
        raise UserError(f"--architecture {architecture} imports and runs the organisation's "
                        "own code: give it only with --trusted; nothing was imported or "
                        "loaded")  # fmt: skip
    report = _attack(lambda progress: run(model, data, label, settings, trusted=trusted,
                                          progress=progress, architecture=architecture,
                                          project_dir=Path.cwd()))  # fmt: skip
    if output_format is TableOrJson.json:
        from custos.cli.scan_model import write_json

        write_json(report.to_json())
    else:
        _print_table(report)
    raise typer.Exit(EXIT_FINDINGS if report.findings else EXIT_OK)


def _budgets(text: str | None) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UserError(f"--eps {text}: give numbers separated by commas, e.g. 0.05,0.1") from None


def _attack(attack: Callable[[Progress | None], Report]) -> Report:
    """Run the attack, with a progress bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return attack(None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from custos.cli.output import err_console

    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("loading the model and the data", total=None)

        def step(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        return attack(step)


def _print_table(report: Report) -> None:
    from rich.table import Table

    from custos.cli.output import console
    from custos.cli.scan_model import STYLE, cell

    code = console.encoding
    names = [a.name for a in report.attacks]
    title = (f"Robustness: {report.model['path']} ({report.model['estimator']}) on "
             f"{report.data['path']} ({report.points} of {report.data['rows']:,} rows, "
             f"{report.norm} norm, seed {report.seed})")  # fmt: skip
    table = Table(title=cell(title, code))
    for column in ("eps", "robust accuracy", *names):
        table.add_column(column, justify="right")
    if report.threshold is not None:
        table.add_column("status")
    for b in report.budgets:
        row = [f"{b.eps:g}", f"{b.robust_accuracy:.1%}", *(f"{b.by_attack[a]:.1%}" for a in names)]
        if report.threshold is not None:
            row.append("ok" if b.robust_accuracy >= report.threshold else "[red]below[/red]")
        table.add_row(*row)
    console.print(table)
    console.print(f"clean accuracy {report.clean_accuracy:.1%}; {report.method}: ",
                  cell(report.why, code), sep="")  # fmt: skip
    if report.vanished:
        console.print(f"the loss gradient vanished on {report.vanished} point(s) (gradient "
                      "masking, not robustness): HopSkipJump attacked them")  # fmt: skip
    if report.distances is not None:
        d = report.distances
        median = "none" if d["median"] is None else f"{d['median']:g}"
        console.print(f"HopSkipJump found an adversarial example for {d['found']} of "
                      f"{d['attacked']} points; median distance {median}")  # fmt: skip
    console.print("[dim]budgets:[/dim] ", cell(report.eps_source, code), sep="")
    console.print(cell(report.model["scanner"], code), style="dim")
    for f in report.findings:
        style = STYLE[f.severity.name]
        console.print(f"[{style}]{f.severity.name}[/{style}] {f.rule}: ", cell(f.message, code),
                      sep="")  # fmt: skip
    if report.threshold is not None and not report.findings:
        console.print(f"at or above {report.threshold:.1%} at every budget")

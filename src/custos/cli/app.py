"""The `custos` command: a thin shell that parses, calls the core, renders and exits.

Errors are handled once, in `main()`: a `UserError` prints its message and exits 2, any other
`CustosError` exits 3, and an unexpected exception prints "internal error" (with the traceback
only under `--debug`) and exits 3. Exit codes: 0 ok, 1 findings or a failed gate, 2 bad input or
usage, 3 operational or internal error.
"""

from __future__ import annotations

import sys
import traceback

import typer

from custos import __version__
from custos.cli import admin
from custos.cli import assess as assess_cli
from custos.cli import catalog as catalog_cli
from custos.cli import init as init_cli
from custos.cli import report as report_cli
from custos.cli import scan as scan_cli
from custos.cli import scan_model as scan_model_cli
from custos.cli.output import err_console
from custos.errors import EXIT_OPERATIONAL, CustosError, DataError, UserError

app = typer.Typer(
    name="custos",
    help=(
        "Custos: ISO/IEC 27002:2022 controls for AI systems, verified on real artifacts.\n\n"
        "Example: custos scan . && custos assess . && custos report . --format html"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(catalog_cli.app, name="catalog")
app.command("init")(init_cli.init_cmd)
app.command("scan")(scan_cli.scan_cmd)
app.command("scan-model")(scan_model_cli.scan_model_cmd)
app.command("assess")(assess_cli.assess_cmd)
app.command("report")(report_cli.report_cmd)
app.command("schema")(admin.schema_cmd)
app.add_typer(admin.db_app, name="db")

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"custos {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for internal errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Custos command line."""
    _state["debug"] = debug


def _print_error(exc: CustosError) -> None:
    lines = exc.lines() if isinstance(exc, DataError) else str(exc).splitlines() or [repr(exc)]
    for line in lines:
        err_console.print(f"[bold red]error:[/bold red] {line}", markup=True, soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point for the console script and `python -m custos`."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # Standalone mode: typer prints usage errors itself and exits 2 (SystemExit passes
        # through); only Custos' own errors and real surprises reach the handlers below.
        app(args=args, prog_name="custos")
    except UserError as exc:
        _print_error(exc)
        sys.exit(exc.exit_code)
    except CustosError as exc:
        _print_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        err_console.print(
            f"[bold red]internal error:[/bold red] {type(exc).__name__}: {exc}"
            + ("" if debug else " (run with --debug for the traceback)"),
            markup=True,
            soft_wrap=True,
        )
        sys.exit(EXIT_OPERATIONAL)

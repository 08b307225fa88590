"""The `custos` command: a thin shell that parses, calls the core, renders and exits.

Errors and exit codes are handled once, in `custos.cli.entry` (the console script). Only the
module of the command being run is imported (see COMMANDS).
"""

from __future__ import annotations

import importlib

import typer

from custos import __version__

# name -> (module, attribute, is_group). Only the module of the command being run is imported,
# so `custos scan-model` in a CI step does not pay for the catalog, SQLAlchemy or trestle.
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "catalog": ("custos.cli.catalog", "app", True),
    "init": ("custos.cli.init", "init_cmd", False),
    "scan": ("custos.cli.scan", "scan_cmd", False),
    "scan-model": ("custos.cli.app", "scan_model_stub", False),
    "scan-data": ("custos.cli.app", "scan_data_stub", False),
    "data-integrity": ("custos.cli.app", "data_integrity_stub", False),
    "probe": ("custos.cli.app", "probe_stub", False),
    "scan-gateway": ("custos.cli.app", "scan_gateway_stub", False),
    "scan-repo": ("custos.cli.app", "scan_repo_stub", False),
    "sign": ("custos.cli.app", "sign_stub", False),
    "verify": ("custos.cli.app", "verify_stub", False),
    "assess": ("custos.cli.assess", "assess_cmd", False),
    "report": ("custos.cli.report", "report_cmd", False),
    "schema": ("custos.cli.admin", "schema_cmd", False),
    "db": ("custos.cli.admin", "db_app", True),
    "keys": ("custos.cli.signing", "keys_app", True),
    "baseline": ("custos.cli.signing", "baseline_cmd", False),
    "encrypt": ("custos.cli.app", "encrypt_stub", False),
    "decrypt": ("custos.cli.app", "decrypt_stub", False),
    "rekey": ("custos.cli.app", "rekey_stub", False),
    "monitor": ("custos.cli.app", "monitor_stub", False),
    "kek": ("custos.cli.crypt", "kek_app", True),
    "shred": ("custos.cli.shred", "shred_cmd", False),
    "ledger": ("custos.cli.ledger", "app", True),
    "intel": ("custos.cli.intel", "intel_app", True),
    "vulns": ("custos.cli.vulns", "vulns_app", True),
    "ai-act": ("custos.cli.ai_act", "ai_act_app", True),
    "evaluate": ("custos.cli.evaluate", "evaluate_cmd", False),
    "robustness": ("custos.cli.robustness", "robustness_cmd", False),
    "bom": ("custos.cli.bom", "bom_cmd", False),
    "ci": ("custos.cli.ci", "ci_cmd", False),
    "serve": ("custos.cli.serve", "serve_cmd", False),
    "guard": ("custos.cli.guard", "guard_app", True),
    "admin": ("custos.cli.admin_users", "admin_app", True),
}

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
_registered: set[str] = set()


def register(names: list[str] | None = None) -> typer.Typer:
    """Attach the named commands (all when None) to `app` and return it."""
    for name in COMMANDS if names is None else names:
        if name in _registered:
            continue
        module_name, attribute, is_group = COMMANDS[name]
        target = getattr(importlib.import_module(module_name), attribute)
        if is_group:
            app.add_typer(target, name=name)
        elif name in LEAN_COMMANDS:
            app.command(name, context_settings=_LEAN_CONTEXT, add_help_option=False)(target)
        else:
            app.command(name)(target)
        _registered.add(name)
    return app


def _command_in(args: list[str]) -> str | None:
    """The subcommand the arguments name, if any (options before it are root options)."""
    for arg in args:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


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


def run_app(args: list[str]) -> None:
    """Run the typer app on `args`, importing only the command they name. Standalone mode:
    typer prints usage errors itself and exits 2; errors are handled by `entry.guarded`."""
    command = _command_in(args)
    register([command] if command else None)
    app(args=args, prog_name="custos")


# Commands with their own argparse entry (see custos.cli.entry); typer only lists them and
# forwards the arguments when a root option (e.g. --debug) comes first.
LEAN_COMMANDS = frozenset({"scan-model", "scan-data", "data-integrity", "sign", "verify",
                           "encrypt", "decrypt", "rekey", "probe", "scan-gateway",
                           "scan-repo", "monitor"})  # fmt: skip
_LEAN_CONTEXT = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    "help_option_names": [],
}


def scan_model_stub(ctx: typer.Context) -> None:
    """Scan model files for code-execution payloads and container tricks, statically.

    Nothing is ever loaded. `custos scan-model --help` lists the options (PATH..., --format
    table|json|sarif, --fail-on SEVERITY, --policy FILE).
    """
    from custos.cli.scan_model import run

    raise typer.Exit(run(list(ctx.args)))


def scan_data_stub(ctx: typer.Context) -> None:
    """Find personal data and credentials in datasets, per column, and suggest a classification.

    Masked examples only. `custos scan-data --help` lists the options (PATH..., --format
    table|json|sarif, --sample N|all, --fail-on SEVERITY, --classification LEVEL).
    """
    from custos.cli.scan_data import run

    raise typer.Exit(run(list(ctx.args)))


def data_integrity_stub(ctx: typer.Context) -> None:
    """Poisoning and quality signals in tabular training data, each a review queue.

    Duplicates, label issues, trigger candidates, outliers, class balance.
    `custos data-integrity --help` lists the options (PATH, --label COLUMN, --format
    table|json, --baseline-out FILE, --baseline FILE).
    """
    from custos.cli.data_integrity import run

    raise typer.Exit(run(list(ctx.args)))


def probe_stub(ctx: typer.Context) -> None:
    """Probe a running inference endpoint: TLS, authentication, rate limiting, leakage.

    The key comes from an environment variable and is never printed. `custos probe --help`
    lists the options (URL, --key-env VAR, --owned, --format table|json|sarif, --fail-on
    SEVERITY, --ca FILE, --timeout S).
    """
    from custos.cli.probe import run

    raise typer.Exit(run(list(ctx.args)))


def scan_gateway_stub(ctx: typer.Context) -> None:
    """Check LiteLLM, Kong and Envoy AI Gateway configs: auth, secrets, limits, logging.

    Read as YAML data, never run; secrets shown masked. `custos scan-gateway --help` lists the
    options (PATH..., --format table|json|sarif, --fail-on SEVERITY).
    """
    from custos.cli.scan_gateway import run

    raise typer.Exit(run(list(ctx.args)))


def scan_repo_stub(ctx: typer.Context) -> None:
    """Scan a repository: unsafe model loading, secrets, dependencies, Dockerfiles, CI.

    Read as text and parsed, never run; secrets shown masked. `custos scan-repo --help` lists
    the options (PATH, --format table|json|sarif, --fail-on SEVERITY, --intel DIR).
    """
    from custos.cli.scan_repo import run

    raise typer.Exit(run(list(ctx.args)))


def monitor_stub(ctx: typer.Context) -> None:
    """Abuse patterns and drift in a served model's access logs, each a review item.

    Extraction (PRADA), probing, sweeps, repeats, key sharing and rotation, auth sprays, an
    isolation forest per key; keys shown masked. `custos monitor --help` lists the options
    (FILE|DIR|-, --format table|json, --log-format, --baseline FILE, --baseline-out FILE,
    --fail-on SEVERITY).
    """
    from custos.cli.monitor import run

    raise typer.Exit(run(list(ctx.args)))


def encrypt_stub(ctx: typer.Context) -> None:
    """Encrypt a file: AES-256-GCM in 1 MiB segments, a random data key wrapped by a KEK.

    `custos encrypt --help` lists the options (FILE, --out PATH, --kek ID, --dir DIR).
    """
    from custos.cli.crypt_files import run_encrypt

    raise typer.Exit(run_encrypt(list(ctx.args)))


def decrypt_stub(ctx: typer.Context) -> None:
    """Decrypt a file (--out PATH), or verify every segment (--check); nothing is written
    unless every segment authenticated (`custos decrypt --help`)."""
    from custos.cli.crypt_files import run_decrypt

    raise typer.Exit(run_decrypt(list(ctx.args)))


def rekey_stub(ctx: typer.Context) -> None:
    """Wrap a file's data key with another KEK, without re-encrypting (`custos rekey --help`)."""
    from custos.cli.crypt_files import run_rekey

    raise typer.Exit(run_rekey(list(ctx.args)))


def sign_stub(ctx: typer.Context) -> None:
    """Sign a model in the OpenSSF model signing format (`custos sign --help`)."""
    from custos.cli.sign_verify import run_sign

    raise typer.Exit(run_sign(list(ctx.args)))


def verify_stub(ctx: typer.Context) -> None:
    """Verify a model against its signature, naming every difference (`custos verify --help`)."""
    from custos.cli.sign_verify import run_verify

    raise typer.Exit(run_verify(list(ctx.args)))

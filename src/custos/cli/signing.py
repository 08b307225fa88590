"""`custos keys generate | baseline`: model integrity from the command line (`sign` and
`verify` have lean entry points in `custos.cli.sign_verify`).

Exit codes: 0 ok; 1 verification failed or drift found; 2 bad input or usage. The integrity
package (and model-signing, ~0.5 s to import) is loaded only when one of these commands runs.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from custos.cli.output import TableOrJson, console, emit_json, err_console
from custos.errors import EXIT_FINDINGS, UserError

keys_app = typer.Typer(
    help="Create signing keys (EC P-256, private key encrypted with a passphrase).",
    no_args_is_help=True,
)

IgnoreOption = typer.Option(
    [],
    "--ignore",
    help="A path inside the model (relative to it) to leave out; repeat for more.",
)


def _passphrase(confirm: bool) -> bytes:
    from custos.integrity.keys import PASSPHRASE_ENV, passphrase_from_env

    from_env = passphrase_from_env()
    if from_env is not None:
        return from_env
    value: str = typer.prompt(
        f"Signing key passphrase (or set {PASSPHRASE_ENV})",
        hide_input=True,
        confirmation_prompt=confirm,
        err=True,
    )
    return value.encode()


@keys_app.command("generate")
def keys_generate_cmd(
    out_dir: Path = typer.Option(Path("."), "--out-dir", help="Where to write the key files."),
    name: str = typer.Option("custos-signing", "--name", help="Base name: NAME.key, NAME.pub."),
) -> None:
    """Generate an EC P-256 key pair: NAME.key (encrypted, mode 0600) and NAME.pub.

    The passphrase comes from CUSTOS_SIGNING_PASSPHRASE or a prompt. Existing files are never
    overwritten.

    Example: custos keys generate --out-dir keys --name release
    """
    from custos.integrity.keys import write_key_pair

    files = write_key_pair(out_dir, name, _passphrase(confirm=True))
    console.print(f"private key: {files.private_key} (encrypted, mode 0600; keep it secret)")
    console.print(f"public key:  {files.public_key} (give this to verifiers)")
    console.print(f"key id:      {files.key_id}")


def baseline_cmd(
    path: Path = typer.Argument(..., help="The model: a directory or a single file."),
    name: str | None = typer.Option(
        None,
        "--name",
        help="Baseline name (default: the id of the asset at PATH in the project's custos.yaml, "
        "else PATH's name).",
    ),
    check: bool = typer.Option(
        False, "--check", help="Compare with the baseline; exit 1 on drift."
    ),
    project: Path = typer.Option(
        Path("."), "--project", help="Project directory; baselines go to .custos/baselines/."
    ),
    ignore: list[str] = IgnoreOption,
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """Record per-file SHA-256 digests of a model, or (--check) report drift since then.

    Example: custos baseline models/fraud && custos baseline models/fraud --check
    """
    from custos.checks.artifact_baseline import declared_baseline
    from custos.integrity import baseline as baselines

    # A declared asset's baseline is the one the artifact-baseline check reads.
    declared = declared_baseline(project, path, name)
    chosen = name or (declared[0] if declared else baselines.default_name(path))
    target = declared[1] if declared else baselines.default_baseline_path(project, chosen)
    if not check:
        existed = target.exists()
        recorded = baselines.record(path, target, chosen, project, ignore)
        if output_format is TableOrJson.json:
            emit_json({"baseline": str(target), **recorded.to_json()})
            return
        verb = "replaced" if existed else "recorded"
        console.print(f"{verb} baseline {target}: {len(recorded.files)} file(s) of {path}")
        return
    if ignore:
        raise UserError("--ignore applies when recording; --check uses the baseline's own")
    loaded = baselines.load(target)
    found = baselines.drift(loaded, path, target)
    if output_format is TableOrJson.json:
        emit_json({"baseline": str(target), "path": str(path), **found.to_json()})
    elif found.clean:
        console.print(f"[green]no drift[/green]: {path} matches {target} ({loaded.created_at})")
    else:
        table = Table(title=f"Drift since {loaded.created_at}: {path}")
        table.add_column("change")
        table.add_column("file", overflow="fold")
        for label, files in (("added", found.added), ("removed", found.removed),
                             ("changed", found.changed)):  # fmt: skip
            for file in files:
                table.add_row(label, file)
        console.print(table)
    if not found.clean:
        err_console.print("re-record with `custos baseline PATH` once the change is approved")
        raise typer.Exit(EXIT_FINDINGS)

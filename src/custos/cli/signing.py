"""`custos keys generate | sign | verify | baseline`: model integrity from the command line.

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


def sign_cmd(
    path: Path = typer.Argument(..., help="The model: a directory or a single file."),
    key: Path | None = typer.Option(None, "--key", help="Encrypted EC private key (PEM)."),
    signature: Path | None = typer.Option(
        None, "--signature", help="Where to write it (default DIR/model.sig or FILE.sig)."
    ),
    ignore: list[str] = IgnoreOption,
    cert: Path | None = typer.Option(
        None, "--cert", help="Signing certificate (PEM) for --key; embeds it in the signature."
    ),
    chain: list[Path] = typer.Option(
        [], "--chain", help="Intermediate/root certificates (PEM) to embed; repeatable."
    ),
    sigstore: bool = typer.Option(
        False, "--sigstore", help="Keyless Sigstore signing (network and an OIDC identity)."
    ),
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """Sign a model in the OpenSSF model signing format (a Sigstore bundle).

    The key's passphrase comes from CUSTOS_SIGNING_PASSPHRASE or a prompt.

    Example: custos sign models/fraud --key keys/release.key --ignore README.md
    """
    from custos.integrity.sign import sign, sign_with_certificate, sign_with_sigstore

    if sigstore:
        if key or cert or chain:
            raise UserError("--sigstore signs without a key: drop --key, --cert and --chain")
        result = sign_with_sigstore(path, signature, ignore)
    elif key is None:
        raise UserError("say how to sign: --key FILE (optionally with --cert), or --sigstore")
    elif cert is not None:
        result = sign_with_certificate(
            path, key, _passphrase(confirm=False), cert, chain, signature, ignore
        )
    elif chain:
        raise UserError("--chain needs --cert (the signing certificate it belongs to)")
    else:
        result = sign(path, key, _passphrase(confirm=False), signature, ignore)
    if output_format is TableOrJson.json:
        emit_json(result.to_json())
        return
    console.print(
        f"[green]signed[/green] {result.model} ({result.resources} file(s)) -> {result.signature}"
    )
    console.print(f"signer: {result.method} {result.signer}")
    console.print(f"root digest: sha256:{result.root_digest}")
    if result.ignored:
        console.print(f"left out: {', '.join(result.ignored)}")


def verify_cmd(
    path: Path = typer.Argument(..., help="The model: a directory or a single file."),
    signature: Path | None = typer.Option(
        None, "--signature", help="The signature (default DIR/model.sig or FILE.sig)."
    ),
    key: Path | None = typer.Option(None, "--key", help="The signer's public key (PEM)."),
    cert_chain: list[Path] = typer.Option(
        [], "--cert-chain", help="Trusted CA certificates (PEM); repeatable. Needs --identity."
    ),
    identity: str | None = typer.Option(
        None, "--identity", help="Signer the certificate must name (SAN e-mail/URI/DNS or CN)."
    ),
    issuer: str | None = typer.Option(
        None, "--issuer", help="With --identity and no --cert-chain: Sigstore OIDC issuer."
    ),
    ignore: list[str] = typer.Option(
        [], "--ignore", help="A path the signer may have left out; repeat for more."
    ),
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
) -> None:
    """Verify a model against its signature and list every difference.

    Exit 0: verified; 1: verification failed (unsigned, wrong signer, changed, extra or missing
    files, unexpected left-out paths); 2: bad input.

    Example: custos verify models/fraud --key keys/release.pub
    """
    from custos.integrity.verify import (
        Expected,
        ExpectedCertificate,
        ExpectedKey,
        ExpectedSigstore,
        verify,
    )

    expected: Expected
    if key is not None:
        if cert_chain or identity or issuer:
            raise UserError("use either --key, or --cert-chain with --identity, not both")
        expected = ExpectedKey(key)
    elif cert_chain:
        if not identity:
            raise UserError("--cert-chain needs --identity: who must have signed the model")
        if issuer:
            raise UserError("--issuer is for Sigstore; drop it with --cert-chain")
        expected = ExpectedCertificate(tuple(cert_chain), identity)
    elif identity and issuer:
        expected = ExpectedSigstore(identity, issuer)
    else:
        raise UserError(
            "say who must have signed: --key PUBFILE, --cert-chain FILE --identity NAME, "
            "or --identity ID --issuer URL (Sigstore)"
        )
    result = verify(path, expected, signature, ignore)
    if output_format is TableOrJson.json:
        emit_json(result.to_json())
    elif result.ok:
        console.print(
            f"[green]verified[/green] {result.model}: {result.files} file(s) match "
            f"{result.signature}, signed by {result.signer}"
        )
    else:
        table = Table(title=f"Verification FAILED: {result.model}")
        for column in ("kind", "path", "problem"):
            table.add_column(column, overflow="fold")
        for d in result.differences:
            table.add_row(d.kind, d.path or "", d.message)
        console.print(table)
    if not result.ok:
        raise typer.Exit(EXIT_FINDINGS)


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

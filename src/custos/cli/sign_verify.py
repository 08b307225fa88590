"""`custos sign` and `custos verify`: lean entry points, like `scan-model`.

They run in release pipelines on every model, next to the `model_signing` CLI; their cost
beyond hashing is start-up, so they parse with argparse and import neither typer nor the rest of
the CLI (`custos.cli.entry` calls `run_sign` / `run_verify` directly). rich is imported only to
print a table. Exit codes: 0 ok; 1 verification failed; 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from custos.errors import EXIT_FINDINGS, EXIT_OK, UserError

FORMATS = ("table", "json")


def _parser(prog: str, description: str, example: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=example)
    parser.add_argument("path", type=Path, metavar="PATH", help="the model: a directory or file")
    parser.add_argument(
        "--signature",
        type=Path,
        metavar="FILE",
        help="the signature (default DIR/model.sig or FILE.sig)",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="a path inside the model the signer may leave out; repeatable",
    )
    parser.add_argument("--format", "-f", choices=FORMATS, default="table", dest="output_format")
    return parser


def run_sign(argv: list[str]) -> int:
    parser = _parser(
        "custos sign",
        "Sign a model in the OpenSSF model signing format (a Sigstore bundle). The key's "
        "passphrase comes from CUSTOS_SIGNING_PASSPHRASE or a prompt.",
        "Example: custos sign models/fraud --key keys/release.key --ignore README.md",
    )
    parser.add_argument("--key", type=Path, metavar="FILE", help="encrypted EC private key (PEM)")
    parser.add_argument(
        "--cert",
        type=Path,
        metavar="FILE",
        help="signing certificate (PEM) for --key; embedded in the signature",
    )
    parser.add_argument(
        "--chain",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="intermediate/root certificates (PEM) to embed; repeatable",
    )
    parser.add_argument(
        "--sigstore",
        action="store_true",
        help="keyless Sigstore signing (network and an OIDC identity)",
    )
    args = parser.parse_args(argv)
    from custos.integrity.sign import sign, sign_with_certificate, sign_with_sigstore

    if args.sigstore:
        if args.key or args.cert or args.chain:
            raise UserError("--sigstore signs without a key: drop --key, --cert and --chain")
        result = sign_with_sigstore(args.path, args.signature, args.ignore)
    elif args.key is None:
        raise UserError("say how to sign: --key FILE (optionally with --cert), or --sigstore")
    elif args.cert is not None:
        result = sign_with_certificate(
            args.path, args.key, passphrase(), args.cert, args.chain, args.signature, args.ignore
        )
    elif args.chain:
        raise UserError("--chain needs --cert (the signing certificate it belongs to)")
    else:
        result = sign(args.path, args.key, passphrase(), args.signature, args.ignore)
    if args.output_format == "json":
        _json(result.to_json())
        return EXIT_OK
    lines = [
        f"signed {result.model} ({result.resources} file(s)) -> {result.signature}",
        f"signer: {result.method} {result.signer}",
        f"root digest: sha256:{result.root_digest}",
    ]
    if result.ignored:
        lines.append(f"left out: {', '.join(result.ignored)}")
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def passphrase() -> bytes:
    from custos.integrity.keys import PASSPHRASE_ENV, passphrase_from_env

    from_env = passphrase_from_env()
    if from_env is not None:
        return from_env
    return getpass.getpass(f"Signing key passphrase (or set {PASSPHRASE_ENV}): ").encode()


def run_verify(argv: list[str]) -> int:
    parser = _parser(
        "custos verify",
        "Verify a model against its signature and list every difference. Exit 0: verified; "
        "1: verification failed (unsigned, wrong signer, changed, extra or missing files, "
        "unexpected left-out paths); 2: bad input.",
        "Example: custos verify models/fraud --key keys/release.pub",
    )
    parser.add_argument("--key", type=Path, metavar="FILE", help="the signer's public key (PEM)")
    parser.add_argument(
        "--cert-chain",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="trusted CA certificates (PEM); repeatable; needs --identity",
    )
    parser.add_argument(
        "--identity",
        metavar="NAME",
        help="signer the certificate must name (SAN e-mail/URI/DNS or CN)",
    )
    parser.add_argument(
        "--issuer", metavar="URL", help="with --identity and no --cert-chain: Sigstore OIDC issuer"
    )
    args = parser.parse_args(argv)
    from custos.integrity.verify import (
        Expected,
        ExpectedCertificate,
        ExpectedKey,
        ExpectedSigstore,
        verify,
    )

    expected: Expected
    if args.key is not None:
        if args.cert_chain or args.identity or args.issuer:
            raise UserError("use either --key, or --cert-chain with --identity, not both")
        expected = ExpectedKey(args.key)
    elif args.cert_chain:
        if not args.identity:
            raise UserError("--cert-chain needs --identity: who must have signed the model")
        if args.issuer:
            raise UserError("--issuer is for Sigstore; drop it with --cert-chain")
        expected = ExpectedCertificate(tuple(args.cert_chain), args.identity)
    elif args.identity and args.issuer:
        expected = ExpectedSigstore(args.identity, args.issuer)
    else:
        raise UserError(
            "say who must have signed: --key PUBFILE, --cert-chain FILE --identity NAME, "
            "or --identity ID --issuer URL (Sigstore)"
        )
    result = verify(args.path, expected, args.signature, args.ignore)
    if args.output_format == "json":
        _json(result.to_json())
    elif result.ok:
        sys.stdout.write(
            f"verified {result.model}: {result.files} file(s) match {result.signature}, "
            f"signed by {result.signer}\n"
        )
    else:
        from rich.table import Table

        from custos.cli.output import console

        table = Table(title=f"Verification FAILED: {result.model}")
        for column in ("kind", "path", "problem"):
            table.add_column(column, overflow="fold")
        for d in result.differences:
            table.add_row(d.kind, d.path or "", d.message)
        console.print(table)
    return EXIT_OK if result.ok else EXIT_FINDINGS


def _json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")

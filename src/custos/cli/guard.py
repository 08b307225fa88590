"""`custos guard`: a reverse proxy in front of a self-hosted model server (API keys or JWTs,
per-key rate limits, an audit log digested into the ledger, output hardening, live extraction
detection, metrics); `custos guard key create ID` makes a key."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from custos.errors import UserError

DEFAULT_KEYS = Path(".custos/guard-keys.json")
METRICS_TOKEN_ENV = "CUSTOS_GUARD_METRICS_TOKEN"  # noqa: S105  (the variable's name)
JWT_SECRET_ENV = "CUSTOS_GUARD_JWT_SECRET"  # noqa: S105  (the variable's name)

# The callback's docstring is the group's help (with the example).
guard_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)
key_app = typer.Typer(help="API keys of the guard.", no_args_is_help=True)
guard_app.add_typer(key_app, name="key")


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"--listen {value!r}: use HOST:PORT")
    return host.strip("[]"), int(port)


@guard_app.callback()
def guard_cmd(
    ctx: typer.Context,
    upstream: str | None = typer.Option(
        None, "--upstream", metavar="URL", help="The model server (http:// or https://)."
    ),
    listen: str = typer.Option("127.0.0.1:8080", "--listen", metavar="HOST:PORT"),
    keys: Path = typer.Option(DEFAULT_KEYS, "--keys", metavar="FILE", help="The keys file."),
    redis_url: str | None = typer.Option(
        None, "--redis", metavar="URL", help="Share rate-limit buckets between replicas."
    ),
    audit_log: Path | None = typer.Option(
        None, "--audit-log", metavar="FILE", help="JSON Lines audit log, digested in the ledger."
    ),
    project: Path = typer.Option(
        Path("."), "--project", metavar="DIR", help="Project whose ledger gets the digests."
    ),
    db: str | None = typer.Option(None, "--db", metavar="URL", help="The project's database."),
    policy: str = typer.Option(
        "alert", "--policy", help="On an extraction pattern: alert (log, ledger) or block (403)."
    ),
    top_k: int | None = typer.Option(
        None, "--top-k", min=1, help="Keep the top N values of probability vectors."
    ),
    digits: int | None = typer.Option(
        None, "--round", min=0, max=15, metavar="DIGITS", help="Round probability vectors."
    ),
    extraction_delta: float = typer.Option(
        0.80,
        "--extraction-delta",
        min=0.0,
        max=1.0,
        help="Flag a key whose input distances' Shapiro-Wilk W falls below this (PRADA).",
    ),
    max_body: int = typer.Option(1 << 20, "--max-body", min=1, help="Request body limit, bytes."),
    max_answer: int = typer.Option(
        64 << 20, "--max-answer", min=1, help="Upstream answer limit, bytes (above it: 502)."
    ),
    batch_lines: int = typer.Option(1000, "--batch-lines", min=1),
    batch_seconds: float = typer.Option(10.0, "--batch-seconds", min=0.1),
    jwt_audience: str | None = typer.Option(
        None, "--jwt-audience", help=f"Accept JWTs for this audience (HS256: ${JWT_SECRET_ENV})."
    ),
    jwt_public_key: Path | None = typer.Option(
        None, "--jwt-public-key", metavar="PEM", help="RS256 JWTs: the issuer's public key."
    ),
) -> None:
    """Proxy requests to --upstream: authenticated, rate-limited, audited and hardened.

    Example: custos guard key create batch-job && custos guard --upstream
    http://127.0.0.1:9000 --listen 0.0.0.0:8080 --audit-log logs/guard.jsonl --policy block
    """
    if ctx.invoked_subcommand is not None:
        return
    from custos.guard.extra import require

    require()
    if upstream is None or not upstream.startswith(("http://", "https://")):
        raise UserError("--upstream URL is required (http:// or https://)")
    if policy not in ("alert", "block"):
        raise UserError("--policy: alert or block")
    host, port = _listen(listen)

    import logging

    import uvicorn

    from custos.guard.app import GuardConfig, create_app, ledger_recorder
    from custos.guard.extraction import ExtractionSettings
    from custos.guard.harden import Hardening
    from custos.guard.keys import JwtSettings, load_ring

    jwt = None
    if jwt_audience:
        if jwt_public_key is not None:
            jwt = JwtSettings(jwt_public_key.read_text(encoding="utf-8"), "RS256", jwt_audience)
        elif os.environ.get(JWT_SECRET_ENV):
            jwt = JwtSettings(os.environ[JWT_SECRET_ENV].encode(), "HS256", jwt_audience)
        else:
            raise UserError(f"--jwt-audience needs --jwt-public-key or ${JWT_SECRET_ENV}")
    ring = load_ring(keys) if keys.exists() or jwt is None else None
    root = project.resolve()
    audit_name = None
    if audit_log is not None:
        resolved = audit_log.resolve()
        audit_name = (str(resolved.relative_to(root)) if resolved.is_relative_to(root)
                      else str(resolved))  # fmt: skip
    config = GuardConfig(
        upstream=upstream, keys=ring, jwt=jwt, redis_url=redis_url,
        audit_path=audit_log.resolve() if audit_log else None, audit_name=audit_name,
        batch_lines=batch_lines, batch_seconds=batch_seconds,
        recorder=ledger_recorder(root, db), policy=policy,
        hardening=Hardening(top_k, digits), max_body=max_body, max_answer=max_answer,
        extraction=ExtractionSettings(delta=extraction_delta),
        metrics_token=os.environ.get(METRICS_TOKEN_ENV) or None,
    )  # fmt: skip
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app, _guard = create_app(config)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                proxy_headers=False)  # fmt: skip


@key_app.command("create")
def key_create(
    key_id: str = typer.Argument(..., metavar="ID", help="The key's id (logged; not secret)."),
    keys: Path = typer.Option(DEFAULT_KEYS, "--keys", metavar="FILE"),
    rate: float = typer.Option(10.0, "--rate", help="Requests a second, sustained."),
    burst: float = typer.Option(20.0, "--burst", help="Requests at once."),
    argon2: bool = typer.Option(False, "--argon2", help="Hash with argon2id, not HMAC-SHA-256."),
) -> None:
    """Create a key and print it once; the keys file keeps only its hash."""
    from custos.guard.keys import create_key

    key = create_key(keys, key_id, rate, burst, argon2)
    typer.echo(key)
    typer.echo(f"key {key_id} added to {keys}; it is shown only now", err=True)

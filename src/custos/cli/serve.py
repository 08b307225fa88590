"""`custos serve`: run the multi-user server (FastAPI under uvicorn)."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from custos.cli.options import DbOption
from custos.errors import UserError

if TYPE_CHECKING:
    from custos.store.store import Store

# An environment variable, never a flag: command lines are visible to every local user in `ps`.
OIDC_SECRET_ENV = "CUSTOS_OIDC_CLIENT_SECRET"  # noqa: S105  (the variable's name; as factory.py)
# uvicorn's supervisor kills a worker that does not answer its ping within this many seconds
# (its default is 5). A worker storing a push of a large estate decodes and encodes tens of
# megabytes of JSON in C, holding the GIL for seconds: it was killed mid-push, answer lost.
WORKER_HEALTHCHECK_S = 120


def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    db: str | None = DbOption,
    directory: Path = typer.Option(
        Path("."), "--dir", help="Project directory (default SQLite file and ledger key)."
    ),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="Mark cookies Secure (behind an HTTPS proxy)."
    ),
    trusted_proxies: list[str] = typer.Option(
        [],
        "--trusted-proxy",
        metavar="IP|CIDR",
        help="A reverse proxy whose X-Forwarded-For is believed (repeatable; default: none, "
        "the header is ignored).",
    ),
    oidc_issuer: str | None = typer.Option(
        None,
        "--oidc-issuer",
        metavar="URL",
        help="OpenID Connect issuer: offer single sign-on (with --oidc-client-id and the "
        f"client secret in ${OIDC_SECRET_ENV}).",
    ),
    oidc_client_id: str | None = typer.Option(
        None, "--oidc-client-id", metavar="ID", help="This server's client id at the issuer."
    ),
    oidc_redirect_url: str | None = typer.Option(
        None,
        "--oidc-redirect-url",
        metavar="URL",
        help="Public URL of /login/oidc/callback (default: from the request; set it behind a "
        "proxy).",
    ),
    oidc_link_by_username: bool = typer.Option(
        False,
        "--oidc-link-by-username",
        help="Link a first single sign-on to the account its username claim names (never an "
        "admin or a two-factor user). Only with a provider where admins set usernames.",
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Worker processes (about one per core)."
    ),
    ledger_witness: Path | None = typer.Option(
        None,
        "--ledger-witness",
        envvar="CUSTOS_LEDGER_WITNESS",
        metavar="DIR",
        help="Append every signed ledger checkpoint here, outside the database, and verify "
        "the ledger against it (a directory the database's administrators cannot write).",
    ),
) -> None:
    """Serve the web UI and the REST API; the database must be migrated first.

    Example: custos db upgrade --db URL && custos serve --db URL --port 8000
    """
    # Lazy: the server stack is only imported for this command.
    import uvicorn

    from custos.server.app import create_app
    from custos.server.factory import CONFIG_ENV, ServeOptions
    from custos.server.logging import configure
    from custos.store.store import Store

    project = directory.resolve()
    options = ServeOptions(
        db=db,
        directory=str(project),
        secure_cookies=secure_cookies,
        oidc_issuer=oidc_issuer,
        oidc_client_id=oidc_client_id,
        oidc_redirect_url=oidc_redirect_url,
        oidc_link_by_username=oidc_link_by_username,
        trusted_proxies=tuple(trusted_proxies),
        ledger_witness=str(ledger_witness.resolve()) if ledger_witness else None,
    )
    # Before the database: a wrong option should not wait for a connection to fail.
    settings = options.settings()
    _check_port(host, port)
    store = Store.open(db, project)
    if not store.is_current():
        store.close()
        raise UserError(
            f"database {store.url} is not at the current schema; run `custos db upgrade"
            f"{' --db URL' if db else ''}` first"
        )
    try:
        admin = _has_admin(store)
    except BaseException:
        store.close()
        raise
    where = " --db URL" if db else ("" if project == Path.cwd() else f" --dir {project}")
    _announce(host, port, store, admin, where)
    configure()
    if workers > 1:
        # Each worker builds its own app and store: the processes share nothing but the
        # database, as replicas behind a load balancer do.
        store.close()
        os.environ[CONFIG_ENV] = options.to_env()
        uvicorn.run(
            "custos.server.factory:app_from_env", factory=True, workers=workers, host=host,
            port=port, log_config=None, access_log=False, proxy_headers=False,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )  # fmt: skip
        return
    app = create_app(settings, store)
    try:
        # proxy_headers off: uvicorn would believe X-Forwarded-* from 127.0.0.1 by default;
        # --trusted-proxy decides instead (custos.server.proxies).
        uvicorn.run(
            app, host=host, port=port, log_config=None, access_log=False, proxy_headers=False
        )
    finally:
        store.close()


def _check_port(host: str, port: int) -> None:
    """A port in use (or not ours to take) is a usage error, before uvicorn logs an Errno and
    exits: bind it as uvicorn will (SO_REUSEADDR) and let go at once."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UserError(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} on {host} is already in use; stop what listens there or "
                    "choose another with --port"
                ) from None
            if exc.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
                raise UserError(f"cannot listen on {host} port {port}: {exc.strerror}") from None
            raise


def _has_admin(store: Store) -> bool:
    """Whether an active account holds the global admin role."""
    from custos.store import auth_store

    with auth_store.transaction(store) as conn:
        users = auth_store.list_users(conn)
    return any(u.active and ("admin", None) in u.bindings for u in users)


def _announce(host: str, port: int, store: Store, admin: bool, where: str) -> None:
    """Where the server listens and which database it uses (never a password), on stdout:
    stderr carries the server's JSON logs."""
    from custos.cli.output import console

    shown = f"[{host}]" if ":" in host else host
    console.print(f"custos serve: listening on http://{shown}:{port}", soft_wrap=True)
    console.print(f"database: {store.describe()}", soft_wrap=True, markup=False)
    if not admin:
        console.print(
            "no admin account yet: create one with `CUSTOS_ADMIN_PASSWORD=... custos admin "
            f"create-user NAME --role admin{where}`",
            soft_wrap=True,
            markup=False,
        )

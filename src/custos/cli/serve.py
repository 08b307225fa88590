"""`custos serve`: run the multi-user server (FastAPI under uvicorn)."""

from __future__ import annotations

from pathlib import Path

import typer

from custos.cli.options import DbOption
from custos.errors import UserError


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
) -> None:
    """Serve the web UI and the REST API; the database must be migrated first.

    Example: custos db upgrade --db URL && custos serve --db URL --port 8000
    """
    # Lazy: the server stack is only imported for this command.
    import uvicorn

    from custos.server.app import create_app
    from custos.server.logging import configure
    from custos.server.settings import Settings
    from custos.store.store import Store

    project = directory.resolve()
    store = Store.open(db, project)
    if not store.is_current():
        store.close()
        raise UserError(
            f"database {store.url} is not at the current schema; run `custos db upgrade"
            f"{' --db URL' if db else ''}` first"
        )
    configure()
    app = create_app(Settings(db_url=db, project_dir=project, secure_cookies=secure_cookies), store)
    try:
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    finally:
        store.close()

"""Which database a Store talks to: URL resolution, driver choice, and safe display. No I/O.

Precedence: an explicit URL, then `CUSTOS_DATABASE_URL`, then the project's own SQLite file
`<project>/.custos/custos.db`. PostgreSQL is reached through psycopg 3 whatever the URL says
(`postgresql://`, `postgres://` and `postgresql+psycopg://` are the same thing to Custos).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from custos.store.errors import DatabaseUrlError

ENV_VAR = "CUSTOS_DATABASE_URL"
DEFAULT_DIR = ".custos"
DEFAULT_FILE = "custos.db"

_EXPECTED = "expected sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
# libpq also takes secrets as query parameters; they are dropped from anything shown.
_SECRET_QUERY_KEYS = frozenset({"password", "sslpassword"})


@dataclass(frozen=True)
class DatabaseTarget:
    url: URL
    is_default: bool  # the project's own SQLite file, chosen because nothing else was given

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None for PostgreSQL and in-memory SQLite."""
        database = self.url.database
        if not self.is_sqlite or not database or database == ":memory:":
            return None
        return Path(database)

    @functools.cached_property
    def shown(self) -> str:
        """The URL with every secret removed: the only form that may be printed or logged.
        Kept: every connection names it for its error messages."""
        return redact(self.url)


def default_path(base_dir: Path) -> Path:
    return base_dir / DEFAULT_DIR / DEFAULT_FILE


def redact(url: URL) -> str:
    # Built afresh: URL.set(password=None) would mean "leave the password as it is".
    safe = URL.create(
        drivername=url.drivername,
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query={k: v for k, v in url.query.items() if k.lower() not in _SECRET_QUERY_KEYS},
    )
    return safe.render_as_string(hide_password=False)


def parse_url(raw: str) -> URL:
    """A user's URL as a SQLAlchemy URL with Custos' driver for its database."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        # The raw text may hold a password, so it is not repeated back.
        raise DatabaseUrlError(f"the database URL cannot be read; {_EXPECTED}") from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return url.set(drivername="sqlite")
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return url.set(drivername="postgresql+psycopg")
    raise DatabaseUrlError(
        f"unsupported database {url.drivername!r} in {redact(url)}: Custos stores its data in "
        f"SQLite or in PostgreSQL (through psycopg 3); {_EXPECTED}"
    )


def resolve(url: str | None, base_dir: Path, environ: Mapping[str, str]) -> DatabaseTarget:
    """The database to use: `url`, else `CUSTOS_DATABASE_URL`, else the project's SQLite file."""
    chosen = url if url else environ.get(ENV_VAR) or None
    if chosen is not None:
        return DatabaseTarget(parse_url(chosen), is_default=False)
    path = default_path(base_dir).resolve()
    return DatabaseTarget(URL.create("sqlite", database=str(path)), is_default=True)

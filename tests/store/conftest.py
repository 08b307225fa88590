"""Every store test runs twice: on a SQLite file and on a real PostgreSQL database.

The PostgreSQL half uses the server at 127.0.0.1:5432 (user postgres, trust auth; override with
CUSTOS_TEST_POSTGRES_URL). One database, `custos_test_<random>`, is created for the session and
dropped at the end; each test starts from an empty `public` schema. If the server cannot be
reached the PostgreSQL cases are skipped with a loud reason, unless CUSTOS_TEST_REQUIRE_POSTGRES=1
or CI=true (as in CI), which turns that skip into a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from custos.store import Store

ADMIN_URL = os.environ.get(
    "CUSTOS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]


def _conninfo(url: str) -> str:
    """A SQLAlchemy-style URL as the plain libpq URL psycopg takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session; its URL (no driver suffix)."""
    try:
        admin = psycopg.connect(_conninfo(ADMIN_URL), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = (
            f"PostgreSQL at {make_url(ADMIN_URL).render_as_string(hide_password=True)} is "
            f"unreachable ({str(exc).strip().splitlines()[0]}): the PostgreSQL store tests "
            "DID NOT RUN"
        )
        if os.environ.get("CUSTOS_TEST_REQUIRE_POSTGRES") == "1" or os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"custos_test_{secrets.token_hex(6)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _reset_schema(url: str) -> None:
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database (never migrated), once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_database")
    _reset_schema(url)
    return url


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """Open stores by URL (ignoring CUSTOS_DATABASE_URL); all are closed after the test."""
    opened: list[Store] = []

    def make(url: str) -> Store:
        store = Store.open(url, tmp_path, environ={})
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(empty_url: str, make_store: Callable[[str], Store]) -> Store:
    """A migrated store on the backend under test."""
    migrated = make_store(empty_url)
    migrated.upgrade()
    return migrated

"""Choosing the database: URL precedence, driver rewriting, safe display, the default file."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.errors import EXIT_OPERATIONAL, EXIT_USAGE, CustosError, UserError
from custos.store import (
    DatabaseUrlError,
    Store,
    StoreError,
    StoreNotMigrated,
    StoreUnavailable,
)
from custos.store.urls import ENV_VAR, parse_url, redact, resolve


@pytest.mark.parametrize(
    ("given", "driver", "database"),
    [
        ("postgresql://app@db.internal:5433/custos", "postgresql+psycopg", "custos"),
        ("postgres://app@db.internal/custos", "postgresql+psycopg", "custos"),
        ("postgresql+psycopg://app@db.internal/custos", "postgresql+psycopg", "custos"),
        ("  sqlite:///relative.db\n", "sqlite", "relative.db"),
        ("sqlite+pysqlite:////abs/custos.db", "sqlite", "/abs/custos.db"),
    ],
)
def test_supported_urls_get_custos_driver(given: str, driver: str, database: str) -> None:
    url = parse_url(given)
    assert (url.drivername, url.database) == (driver, database)


@pytest.mark.parametrize(
    "given",
    [
        "mysql://root:hunter2@db/custos",
        "postgresql+psycopg2://app:hunter2@db/custos",
        "oracle://app:hunter2@db/custos",
    ],
)
def test_unsupported_databases_are_refused_without_the_password(given: str) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        parse_url(given)
    message = str(caught.value)
    assert "unsupported database" in message
    assert "SQLite or in PostgreSQL" in message
    assert "hunter2" not in message


def test_an_unreadable_url_is_not_echoed() -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        parse_url("hunter2 is my password")
    assert "hunter2" not in str(caught.value)
    assert "expected sqlite:///PATH or postgresql://" in str(caught.value)


def test_redaction_drops_passwords_in_userinfo_and_query() -> None:
    url = parse_url("postgresql://app:s3cret@db:5432/custos?sslmode=require&password=other")
    shown = redact(url)
    assert shown == "postgresql+psycopg://app@db:5432/custos?sslmode=require"


def test_precedence_explicit_then_environment_then_default(tmp_path: Path) -> None:
    env = {ENV_VAR: "postgresql://env@db/custos"}
    explicit = resolve("sqlite:///explicit.db", tmp_path, env)
    assert (explicit.url.database, explicit.is_default) == ("explicit.db", False)

    from_env = resolve(None, tmp_path, env)
    assert (from_env.shown, from_env.is_default) == ("postgresql+psycopg://env@db/custos", False)

    default = resolve(None, tmp_path, {ENV_VAR: ""})
    assert default.is_default is True
    assert default.sqlite_path == (tmp_path / ".custos" / "custos.db").resolve()


def test_default_store_creates_its_directory(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    with Store.open(None, project, environ={}) as store:
        assert store.is_default is True
        assert (project / ".custos").is_dir()
        assert store.describe() == str((project / ".custos" / "custos.db").resolve())
        store.ensure_current(auto_upgrade=True)
        assert store.is_current() is True
        assert (project / ".custos" / "custos.db").is_file()


def test_environment_variable_is_read_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, f"sqlite:///{tmp_path / 'from-env.db'}")
    with Store.open(None, tmp_path) as store:
        assert store.is_default is False
        assert store.describe() == str(tmp_path / "from-env.db")
    assert not (tmp_path / ".custos").exists()


def test_describe_a_server_without_its_password(tmp_path: Path) -> None:
    with Store.open("postgresql://app:s3cret@db.internal/custos", tmp_path, environ={}) as store:
        assert store.describe() == "postgresql+psycopg://app@db.internal/custos"
        assert "s3cret" not in repr(vars(store))


def test_error_hierarchy_and_exit_codes() -> None:
    for error in (StoreUnavailable, StoreNotMigrated):
        assert issubclass(error, StoreError)
    assert issubclass(StoreError, CustosError)
    assert not issubclass(StoreError, UserError)
    assert StoreError.exit_code == EXIT_OPERATIONAL
    assert issubclass(DatabaseUrlError, UserError)
    assert DatabaseUrlError.exit_code == EXIT_USAGE

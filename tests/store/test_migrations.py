"""Migrations: from empty to head on SQLite and PostgreSQL, and agreement with the models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from custos.store import Store, StoreNotMigrated, migrate
from custos.store.models import Base
from custos.store.urls import parse_url
from tests.store import samples

TABLES = {
    "runs", "evidence", "findings", "assessments", "control_status", "alembic_version",
    "ledger_state", "ledger_entries", "ledger_nodes", "ledger_checkpoints", "ledger_keys",
    "users", "role_bindings", "sessions", "login_attempts", "api_tokens",
    "recovery_codes", "inventory_items", "inventory_state", "attachments", "oidc_logins",
    "vulnerabilities",
}  # fmt: skip


def _tables(url: str) -> set[str]:
    engine = create_engine(parse_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_revisions_constant_matches_the_scripts() -> None:
    assert migrate.script_revisions() == migrate.REVISIONS
    assert migrate.HEAD == "0007"


def test_upgrade_from_empty(empty_url: str, make_store: Callable[[str], Store]) -> None:
    store = make_store(empty_url)
    assert _tables(empty_url) == set()
    assert store.is_current() is False

    store.upgrade()

    assert store.is_current() is True
    assert _tables(empty_url) == TABLES
    store.upgrade()  # a second upgrade is a no-op
    assert store.is_current() is True


def test_models_and_migrations_agree(empty_url: str, make_store: Callable[[str], Store]) -> None:
    make_store(empty_url).upgrade()
    engine = create_engine(parse_url(empty_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(empty_url: str, make_store: Callable[[str], Store]) -> None:
    store = make_store(empty_url)
    store.upgrade()
    engine = create_engine(parse_url(empty_url))
    try:
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "base")
    finally:
        engine.dispose()
    assert _tables(empty_url) == {"alembic_version"}
    assert store.is_current() is False
    store.upgrade()
    assert store.is_current() is True


def test_explicit_url_is_not_migrated_implicitly(
    empty_url: str, make_store: Callable[[str], Store]
) -> None:
    store = make_store(empty_url)
    with pytest.raises(StoreNotMigrated) as caught:
        store.ensure_current(auto_upgrade=False)
    assert str(caught.value) == (
        f"database at {store.url} is not migrated; run `custos db upgrade --db URL`"
    )
    assert _tables(empty_url) == set()


def test_auto_upgrade_migrates(empty_url: str, make_store: Callable[[str], Store]) -> None:
    store = make_store(empty_url)
    store.ensure_current(auto_upgrade=True)
    assert store.is_current() is True
    assert store.runs() == []


def test_data_calls_on_an_unmigrated_database_say_so(
    empty_url: str, make_store: Callable[[str], Store]
) -> None:
    store = make_store(empty_url)
    with pytest.raises(StoreNotMigrated, match="is not migrated"):
        store.latest_evidence()
    with pytest.raises(StoreNotMigrated, match="is not migrated"):
        store.save_scan(
            [samples.evidence()],
            started_at=samples.T0,
            finished_at=samples.T0,
            manifest_path="custos.yaml",
            manifest_sha256=samples.SHA,
        )
    assert _tables(empty_url) == set()


def test_a_newer_schema_is_refused(empty_url: str, make_store: Callable[[str], Store]) -> None:
    store = make_store(empty_url)
    store.upgrade()
    engine = create_engine(parse_url(empty_url))
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    newer = make_store(empty_url)
    assert newer.is_current() is False
    with pytest.raises(StoreNotMigrated, match=r"revision 9999, newer than this Custos"):
        newer.ensure_current(auto_upgrade=True)
    with pytest.raises(StoreNotMigrated, match=r"revision 9999, newer than this Custos"):
        newer.upgrade()
    with pytest.raises(StoreNotMigrated, match=r"revision 9999, newer than this Custos"):
        newer.latest_evidence()

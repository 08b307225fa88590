"""Schema versions: where the database is, and bringing it to the latest revision with Alembic.

Alembic is configured in code (no alembic.ini) and migrates over the connection it is handed, so
URLs and passwords never pass through its configuration. Importing Alembic and reading the
revision scripts costs a few hundred milliseconds, so the everyday question "is this database
current?" is answered from `REVISIONS` alone; a test keeps that tuple equal to the scripts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sqlalchemy import column, inspect, select, table
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = "custos.store:migrations"
VERSION_TABLE = "alembic_version"

# Every revision in order, oldest first; the last one is the head this Custos expects.
REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")
HEAD = REVISIONS[-1]

SchemaState = Literal["current", "behind", "ahead"]


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_revisions() -> tuple[str, ...]:
    """The revisions the migration scripts define, oldest first (reads the scripts)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return tuple(reversed([s.revision for s in scripts.walk_revisions()]))


def applied(connection: Connection) -> tuple[str, ...]:
    """The revisions recorded in the database; empty when it was never migrated."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    version = table(VERSION_TABLE, column("version_num"))
    return tuple(str(v) for v in connection.execute(select(version.c.version_num)).scalars())


def state(revisions: tuple[str, ...]) -> SchemaState:
    """Compare a database's revisions with this Custos' head."""
    if revisions == (HEAD,):
        return "current"
    if any(r not in REVISIONS for r in revisions):
        return "ahead"  # written by a newer Custos: migrating would be a downgrade
    return "behind"


def upgrade(connection: Connection) -> None:
    """Apply every missing revision inside the caller's transaction."""
    from alembic import command

    command.upgrade(alembic_config(connection), "head")

"""Alembic environment: migrate over the connection Custos passes in (never a URL of its own).

`render_as_batch` lets the same revision alter tables on SQLite, which cannot ALTER most things in
place, and on PostgreSQL, where batch mode is a no-op wrapper.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from custos.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(connection, Connection):
    raise RuntimeError(
        "Custos migrations run through `custos db upgrade` (custos.store), not the alembic CLI"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

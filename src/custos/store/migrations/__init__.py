"""Alembic migrations for the Custos store, run programmatically by `custos.store.migrate`.

There is no alembic.ini: `custos.store.migrate.alembic_config` builds the configuration and hands
the open connection to `env.py`. To add a revision after changing `custos.store.models`, see
docs/storage.md ("Changing the schema").
"""

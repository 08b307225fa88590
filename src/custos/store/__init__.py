"""Persistence for scans and assessments: SQLite by default, PostgreSQL by URL.

    from custos.store import Store

    store = Store.open(None, project_dir)        # .custos/custos.db beside custos.yaml
    store.ensure_current(auto_upgrade=store.is_default)
    run_id = store.save_scan(evidence, started_at=..., finished_at=..., manifest_path=...,
                             manifest_sha256=...)
    evidence = store.latest_evidence(["fraud-scoring"])

`Store` is the whole API; tables and migrations are private to this package. Errors derive from
`custos.store.errors.StoreError` (a `custos.errors.CustosError`). See docs/storage.md.
"""

from custos.store.errors import DatabaseUrlError, StoreError, StoreNotMigrated, StoreUnavailable
from custos.store.store import RunInfo, Store

__all__ = [
    "DatabaseUrlError",
    "RunInfo",
    "Store",
    "StoreError",
    "StoreNotMigrated",
    "StoreUnavailable",
]

"""Ledger verifier keys registered per AI system (table `ledger_keys`): the keys whose signed
checkpoints make pushed evidence "verified" (custos.ledger.push_proof). Functions over the
caller's `Connection`, so a change and its ledger event share one transaction.

Keys are retired, never deleted: a retired key verifies nothing pushed after its retirement,
and the evidence it verified before keeps naming it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection

from custos.ledger.push_proof import RegisteredKey
from custos.store.models import LedgerKeyRow

KEYS = cast(Table, LedgerKeyRow.__table__)


@dataclass(frozen=True)
class StoredKey:
    key: RegisteredKey
    label: str
    added_by: str
    retired_by: str | None


def _stored(row: Any) -> StoredKey:
    return StoredKey(
        RegisteredKey(
            int(row["id"]), row["system"], row["verifier_key"], row["added_at"], row["retired_at"]
        ),
        row["label"],
        row["added_by"],
        row["retired_by"],
    )


def add(
    conn: Connection, system: str, verifier_key: str, label: str, actor: str, now: dt.datetime
) -> StoredKey:
    values = {
        "system": system, "verifier_key": verifier_key, "label": label,
        "added_at": now, "added_by": actor, "retired_at": None, "retired_by": None,
    }  # fmt: skip
    key_id = conn.execute(insert(KEYS).values(**values).returning(KEYS.c.id)).scalar_one()
    return _stored({"id": key_id, **values})


def of_system(conn: Connection, system: str) -> list[StoredKey]:
    """Every key of `system`, retired ones included, oldest first."""
    rows = conn.execute(select(KEYS).where(KEYS.c.system == system).order_by(KEYS.c.id))
    return [_stored(r) for r in rows.mappings()]


def of_systems(conn: Connection, systems: Collection[str]) -> list[RegisteredKey]:
    """The keys of these systems, for checking a push."""
    if not systems:
        return []
    rows = conn.execute(select(KEYS).where(KEYS.c.system.in_(sorted(set(systems)))))
    return [_stored(r).key for r in rows.mappings()]


def retire(
    conn: Connection, system: str, key_id: int, actor: str, now: dt.datetime
) -> tuple[StoredKey, bool] | None:
    """Retire a key of `system`: the key, and whether this call retired it (a retired key is
    left as it is); None when `system` has no such key."""
    found = conn.execute(
        select(KEYS).where(KEYS.c.id == key_id, KEYS.c.system == system)
    ).mappings().first()  # fmt: skip
    if found is None:
        return None
    if found["retired_at"] is not None:
        return _stored(found), False
    conn.execute(update(KEYS).where(KEYS.c.id == key_id).values(retired_at=now, retired_by=actor))
    return _stored({**found, "retired_at": now, "retired_by": actor}), True

"""Ledger verifier keys per AI system: what makes a push's evidence "verified" rather than
"claimed" (see docs/server.md, "What a push proves").

Registering or retiring a key is governance, as writing the inventory is: an engineer, who may
push results, must not also choose the key those results are checked against. Each change is
a ledger event.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from custos.ledger.checkpoint import CheckpointError, parse_verifier_key
from custos.server.accounts import record_event
from custos.server.context import context
from custos.server.errors import Conflict, NotFound, Unprocessable
from custos.server.guards import requires
from custos.server.params import RowId
from custos.server.rbac import Permission, Principal
from custos.store import auth_store, ledger_keys
from custos.store.ledger_keys import StoredKey

router = APIRouter(prefix="/api/v1/systems/{system_id}/ledger-keys", tags=["ledger keys"])
Reader = Annotated[Principal, requires(Permission.systems_read, "system")]
Registrar = Annotated[Principal, requires(Permission.inventory_write, "system")]


class NewKey(BaseModel):
    verifier_key: Annotated[str, Field(min_length=1, max_length=1000)] = Field(
        description="the verifier key `custos ledger key` prints: <name>+<key id>+<base64 key>"
    )
    label: Annotated[str, Field(max_length=200)] = Field(
        "", description="what holds the signing key, e.g. 'CI secret of the fraud pipeline'"
    )


class LedgerKey(BaseModel):
    id: int
    system: str
    verifier_key: str
    name: str = Field(description="the key's note name and key id, as checkpoints name it")
    label: str
    added_at: dt.datetime
    added_by: str
    retired_at: dt.datetime | None
    retired_by: str | None
    active: bool


def _shown(stored: StoredKey) -> LedgerKey:
    key = stored.key
    return LedgerKey(
        id=key.id, system=key.system, verifier_key=key.verifier_key, name=key.label,
        label=stored.label, added_at=key.added_at, added_by=stored.added_by,
        retired_at=key.retired_at, retired_by=stored.retired_by, active=key.retired_at is None,
    )  # fmt: skip


@router.get("", response_model=list[LedgerKey])
def list_keys(request: Request, system_id: str, _who: Reader) -> list[LedgerKey]:
    """Every key registered for the system, retired ones included."""
    with auth_store.transaction(context(request).store) as conn:
        return [_shown(k) for k in ledger_keys.of_system(conn, system_id)]


@router.post("", status_code=201, response_model=LedgerKey)
def add_key(request: Request, system_id: str, body: NewKey, principal: Registrar) -> LedgerKey:
    """Register a ledger verifier key: checkpoints it signs verify this system's pushes."""
    ctx = context(request)
    verifier = body.verifier_key.strip()
    try:
        parse_verifier_key(verifier)
    except CheckpointError as exc:
        raise Unprocessable(f"verifier_key: {exc}") from None
    now = ctx.now()
    with auth_store.transaction(ctx.store) as conn:
        known = ledger_keys.of_system(conn, system_id)
        if any(k.key.verifier_key == verifier and k.key.retired_at is None for k in known):
            raise Conflict(f"this key is already registered for system {system_id}")
        stored = ledger_keys.add(conn, system_id, verifier, body.label, principal.username, now)
        event = {
            "action": "ledger_key.added", "system": system_id, "key_id": stored.key.id,
            "verifier_key": verifier, "label": body.label,
        }  # fmt: skip
        record_event(conn, ctx.settings.project_dir, principal.username, now, event)
    return _shown(stored)


@router.delete("/{key_id}", response_model=LedgerKey)
def retire_key(request: Request, system_id: str, key_id: RowId, principal: Registrar) -> LedgerKey:
    """Retire a key: it verifies nothing pushed from now on (evidence it verified stays so)."""
    ctx = context(request)
    now = ctx.now()
    with auth_store.transaction(ctx.store) as conn:
        found = ledger_keys.retire(conn, system_id, key_id, principal.username, now)
        if found is None:
            raise NotFound(f"no ledger key {key_id} for system {system_id}")
        stored, retired = found
        if retired:
            event = {
                "action": "ledger_key.retired", "system": system_id, "key_id": key_id,
                "verifier_key": stored.key.verifier_key,
            }  # fmt: skip
            record_event(conn, ctx.settings.project_dir, principal.username, now, event)
    return _shown(stored)

"""Changing the server's inventory: one item from the UI or API, or a whole manifest pushed by
`custos scan|assess --push`. Every change is checked with the manifest's own reference rules
(custos.inventory.references) against the whole inventory, stored with a ledger event in one
transaction, and followed by a fresh assessment, so statuses follow the change at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from custos.inventory.documents import Document, Kind, assemble, split
from custos.inventory.references import reference_problems
from custos.inventory.schema import Manifest
from custos.server import push_diff, push_rights
from custos.server.accounts import record_event
from custos.server.assessment import reassess
from custos.server.context import AppContext
from custos.server.errors import Conflict, NotFound, Unprocessable
from custos.server.rbac import Permission, Principal
from custos.store import auth_store, inventory_store


@dataclass(frozen=True)
class Change:
    """Create (`expect_new`), replace, or delete (`document` None) the item (kind, key)."""

    kind: Kind
    key: str
    document: Document | None
    expect_new: bool = False


def _where(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def problems(ctx: AppContext, docs: Sequence[Document]) -> set[str]:
    manifest = _assemble(docs)
    if manifest is None:
        return set()
    return {f"{_where(w)}: {m}" for w, m in reference_problems(manifest, ctx.catalog)}


def _assemble(docs: Sequence[Document]) -> Manifest | None:
    try:
        return assemble(docs)
    except ValueError as exc:  # pydantic's ValidationError: documents that do not fit together
        raise Unprocessable(str(exc).splitlines()[0]) from None


def apply(ctx: AppContext, actor: str, changes: Sequence[Change]) -> int | None:
    """Make the changes (all or none); returns the new assessment's run id (None: nothing to
    assess yet). NotFound / Conflict / Unprocessable say what stopped it."""
    now = ctx.now()
    with auth_store.transaction(ctx.store) as conn:
        current = {
            (i.document.kind, i.document.key): i.document for i in inventory_store.items(conn)
        }
        before = problems(ctx, list(current.values()))
        after = dict(current)
        for change in changes:
            key = (change.kind, change.key)
            if change.expect_new and key in current:
                raise Conflict(f"{change.kind} {change.key!r} already exists")
            if not change.expect_new and key not in current:
                raise NotFound(f"no {change.kind} {change.key!r}")
            if change.document is None:
                after.pop(key, None)
            else:
                after[key] = change.document
        new = sorted(problems(ctx, list(after.values())) - before)
        if new:
            more = f" (and {len(new) - 1} more)" if len(new) > 1 else ""
            raise Unprocessable(f"{new[0]}{more}")
        for change in changes:
            if change.document is None:
                inventory_store.remove(conn, [(change.kind, change.key)])
            else:
                inventory_store.put(conn, change.document, source="server", now=now, actor=actor)
        record_event(conn, ctx.settings.project_dir, actor, now, _event(changes))
    return reassess(ctx, actor)


def _event(changes: Sequence[Change]) -> dict[str, Any]:
    first = changes[0]
    verb = "deleted" if first.document is None else ("created" if first.expect_new else "updated")
    return {
        "action": f"{first.kind}.{verb}",
        "key": first.key,
        "also": [f"{c.kind}:{c.key}" for c in changes[1:]],
    }


def item(ctx: AppContext, kind: Kind, key: str) -> inventory_store.Item:
    with auth_store.transaction(ctx.store) as conn:
        found = inventory_store.get(conn, kind, key)
    if found is None:
        raise NotFound(f"no {kind} {key!r}")
    return found


def items(ctx: AppContext, kind: Kind) -> list[inventory_store.Item]:
    with auth_store.transaction(ctx.store) as conn:
        return inventory_store.items(conn, kind)


# -- pushes from the CLI -----------------------------------------------------------------------


def check_manifest(ctx: AppContext, manifest: Manifest) -> None:
    found = [f"{_where(w)}: {m}" for w, m in reference_problems(manifest, ctx.catalog)]
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise Unprocessable(f"manifest: {found[0]}{more}")


def sync_manifest(
    conn: Connection,
    ctx: AppContext,
    manifest: Manifest,
    files: Mapping[str, str | None],
    actor: str,
    pusher: Principal,
) -> None:
    """Make the inventory hold what the pushed manifest declares, inside the caller's
    transaction (custos.server.push_diff says what that changes). Every change must be one the
    pusher could make through the API (custos.server.push_rights); else PushRefused (422,
    naming each refused item) before anything is written."""
    existing = {(i.document.kind, i.document.key): i for i in inventory_store.items(conn)}
    every_system = pusher.can(Permission.scans_push)
    edits = push_diff.diff(split(manifest, files), existing, every_system)
    refused = push_rights.refusals(pusher, edits)
    if refused:
        raise push_rights.PushRefused(refused)
    now = ctx.now()
    inventory_store.remove(conn, [(e.kind, e.key) for e in edits if e.after is None])
    for edit in edits:
        if edit.after is not None:
            inventory_store.put(conn, edit.after, source="manifest", now=now, actor=actor)

"""What a pushed manifest would change in the server's inventory: the items it would create,
update and delete, one `Edit` each. Pure: the push route checks the pusher's permissions on
exactly these edits (custos.server.push_rights) and then applies exactly them.

Items identical to what the server holds are no edit: a CI manifest carries the whole
custos.yaml, and re-sending what is already there changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from custos.inventory.documents import Document, Kind, systems_of
from custos.store.inventory_store import Item

Key = tuple[Kind, str]
Action = Literal["create", "update", "delete"]
SHARED: frozenset[Kind] = frozenset({"organisation", "signing"})


@dataclass(frozen=True)
class Edit:
    """One item the push would change: `before` None for a create, `after` None for a delete."""

    action: Action
    kind: Kind
    key: str
    before: Document | None
    after: Document | None


def diff(
    pushed: Sequence[Document], existing: Mapping[Key, Item], every_system: bool
) -> list[Edit]:
    """The edits that make the inventory hold what the pushed documents declare.

    Items an earlier push brought (`source` "manifest") for the pushed systems and that the
    manifest no longer declares are deleted; items made on the server and other systems' items
    stay. `every_system` False (the pusher may push for some systems only): the organisation
    and signing policy are created when there are none yet, never replaced or deleted."""
    systems = {d.key for d in pushed if d.kind == "system"}
    owners = _owners(pushed, existing)
    docs = [
        d for d in pushed if every_system or d.kind not in SHARED or (d.kind, d.key) not in existing
    ]
    edits: list[Edit] = []
    for doc in docs:
        before = existing.get((doc.kind, doc.key))
        if before is None:
            edits.append(Edit("create", doc.kind, doc.key, None, doc))
        elif before.document != doc:
            edits.append(Edit("update", doc.kind, doc.key, before.document, doc))
    incoming = {(d.kind, d.key) for d in docs}
    for item in existing.values():
        doc = item.document
        if item.source != "manifest" or (doc.kind, doc.key) in incoming:
            continue
        stale = every_system if doc.kind in SHARED else _within(doc, systems, owners)
        if stale:
            edits.append(Edit("delete", doc.kind, doc.key, doc, None))
    return edits


def _owners(pushed: Sequence[Document], existing: Mapping[Key, Item]) -> dict[str, str | None]:
    """Asset id -> its system, as the push declares it, else as the server has it."""
    owners = {d.key: d.system for d in pushed if d.kind == "asset"}
    for item in existing.values():
        if item.document.kind == "asset":
            owners.setdefault(item.document.key, item.document.system)
    return owners


def _within(doc: Document, systems: set[str], owners: Mapping[str, str | None]) -> bool:
    """True when the document is about some systems, all of them in `systems` (a risk's
    assets count by the systems that own them)."""
    about = set(systems_of(doc))
    assets = doc.body.get("assets") if doc.kind == "risk" else None
    if isinstance(assets, list):
        about |= {owners.get(a) or "" for a in assets}
    return bool(about) and about <= systems

"""The server's inventory in the database: one row per manifest document (custos.inventory.
documents), and uploaded evidence files. Functions over the caller's `Connection`, so a change,
its ledger entry and its validation read share one transaction (open one with
`auth_store.transaction(store)`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, tuple_, update
from sqlalchemy.engine import Connection

from custos.inventory.documents import Document, Kind
from custos.store.models import AttachmentRow, InventoryItemRow, InventoryStateRow

ITEMS = cast(Table, InventoryItemRow.__table__)
ATTACHMENTS = cast(Table, AttachmentRow.__table__)
STATE = cast(Table, InventoryStateRow.__table__)


@dataclass(frozen=True)
class Item:
    document: Document
    source: str  # "manifest" (pushed by the CLI) or "server" (made in the UI or API)
    updated_at: dt.datetime
    updated_by: str


@dataclass(frozen=True)
class Attachment:
    id: int
    sha256: str
    filename: str
    media_type: str
    size: int
    uploaded_at: dt.datetime
    uploaded_by: str


def items(conn: Connection, kind: Kind | None = None) -> list[Item]:
    query = select(*ITEM_COLUMNS).order_by(ITEMS.c.kind, ITEMS.c.key)
    if kind is not None:
        query = query.where(ITEMS.c.kind == kind)
    return [_item(row) for row in conn.execute(query)]


def page(
    conn: Connection,
    kind: Kind,
    *,
    limit: int,
    offset: int,
    keys: Collection[str] | None = None,
    system: str | None = None,
    fields: Mapping[str, str | None] | None = None,
) -> tuple[list[Item], int]:
    """One page of `kind` in key order and how many match in all, filtered in SQL: `keys`
    (None: any), the owning `system`, and top-level body fields equal to a string (None: any).
    A large inventory is never read whole for one page."""
    where = [ITEMS.c.kind == kind]
    if keys is not None:
        where.append(ITEMS.c.key.in_(sorted(keys)))
    if system is not None:
        where.append(ITEMS.c.system == system)
    for field, value in (fields or {}).items():
        if value is not None:
            where.append(ITEMS.c.body[field].as_string() == value)
    # The total rides along as a window count: one query per page, not two.
    query = (
        select(*ITEM_COLUMNS, func.count().over().label("total"))
        .where(*where)
        .order_by(ITEMS.c.key)
        .limit(limit)
        .offset(offset)
    )
    rows = conn.execute(query).all()
    if rows:
        return [_item(row[:-1]) for row in rows], int(rows[0][-1])
    # Past the end (or nothing matches): count on its own.
    total = conn.execute(select(func.count()).select_from(ITEMS).where(*where)).scalar_one()
    return [], int(total)


def owners(conn: Connection, kind: Kind) -> dict[str, str | None]:
    """key -> owning system of every `kind` item (assets: their system), without the bodies."""
    query = select(ITEMS.c.key, ITEMS.c.system).where(ITEMS.c.kind == kind)
    return {key: system for key, system in conn.execute(query)}


def get(conn: Connection, kind: Kind, key: str) -> Item | None:
    query = select(*ITEM_COLUMNS).where(ITEMS.c.kind == kind, ITEMS.c.key == key)
    row = conn.execute(query).first()
    return _item(row) if row is not None else None


# Built once: read on every list request, where building the statement cost more than running it.
GENERATION = select(STATE.c.generation).where(STATE.c.id == 1)


def generation(conn: Connection) -> int:
    """The inventory's write counter: equal in two reads means no item changed in between."""
    found = conn.execute(GENERATION).scalar()
    return int(found or 0)


def _changed(conn: Connection) -> None:
    raised = conn.execute(
        update(STATE).where(STATE.c.id == 1).values(generation=STATE.c.generation + 1)
    ).rowcount
    if not raised:  # the row is made by migration 0005; a copied database might lack it
        conn.execute(insert(STATE).values(id=1, generation=1))


def put(conn: Connection, doc: Document, *, source: str, now: dt.datetime, actor: str) -> bool:
    """Insert or replace the document with its (kind, key); True when it was new."""
    values = {
        "system": doc.system,
        "body": dict(doc.body),
        "source": source,
        "file_sha256": doc.file_sha256,
        "updated_at": now,
        "updated_by": actor[:200],
    }
    _changed(conn)
    changed = conn.execute(
        update(ITEMS).where(ITEMS.c.kind == doc.kind, ITEMS.c.key == doc.key).values(**values)
    ).rowcount
    if changed:
        return False
    conn.execute(insert(ITEMS).values(kind=doc.kind, key=doc.key, **values))
    return True


def remove(conn: Connection, keys: Iterable[tuple[Kind, str]]) -> int:
    wanted = list(keys)
    if not wanted:
        return 0
    statement = delete(ITEMS).where(tuple_(ITEMS.c.kind, ITEMS.c.key).in_(wanted))
    removed = int(conn.execute(statement).rowcount)
    if removed:
        _changed(conn)
    return removed


# The columns an Item is made of, in the order `_item` reads them: rows as tuples, as reading
# a list of mappings by name cost more than the rest of a page.
ITEM_COLUMNS = (
    ITEMS.c.kind, ITEMS.c.key, ITEMS.c.body, ITEMS.c.system, ITEMS.c.file_sha256,
    ITEMS.c.source, ITEMS.c.updated_at, ITEMS.c.updated_by,
)  # fmt: skip


def _item(row: Sequence[Any]) -> Item:
    kind, key, body, system, file_sha256, source, updated_at, updated_by = row
    return Item(Document(kind, key, body, system, file_sha256), source, updated_at, updated_by)


# -- uploaded files ----------------------------------------------------------------------------


def add_attachment(
    conn: Connection,
    *,
    sha256: str,
    filename: str,
    media_type: str,
    data: bytes,
    now: dt.datetime,
    actor: str,
) -> int:
    statement = insert(ATTACHMENTS).values(
        sha256=sha256, filename=filename[:255], media_type=media_type[:200], size=len(data),
        data=data, uploaded_at=now, uploaded_by=actor[:200],
    ).returning(ATTACHMENTS.c.id)  # fmt: skip
    return int(conn.execute(statement).scalar_one())


def attachment(conn: Connection, attachment_id: int) -> tuple[Attachment, bytes] | None:
    row = conn.execute(
        select(ATTACHMENTS).where(ATTACHMENTS.c.id == attachment_id)
    ).mappings().first()  # fmt: skip
    if row is None:
        return None
    info = Attachment(
        id=row["id"], sha256=row["sha256"], filename=row["filename"],
        media_type=row["media_type"], size=row["size"], uploaded_at=row["uploaded_at"],
        uploaded_by=row["uploaded_by"],
    )  # fmt: skip
    return info, bytes(row["data"])

"""The server's inventory in the database: one row per manifest document (custos.inventory.
documents), and uploaded evidence files. Functions over the caller's `Connection`, so a change,
its ledger entry and its validation read share one transaction (open one with
`auth_store.transaction(store)`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, delete, insert, select, tuple_, update
from sqlalchemy.engine import Connection

from custos.inventory.documents import Document, Kind
from custos.store.models import AttachmentRow, InventoryItemRow

ITEMS = cast(Table, InventoryItemRow.__table__)
ATTACHMENTS = cast(Table, AttachmentRow.__table__)


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
    query = select(ITEMS).order_by(ITEMS.c.kind, ITEMS.c.key)
    if kind is not None:
        query = query.where(ITEMS.c.kind == kind)
    return [_item(row) for row in conn.execute(query).mappings()]


def get(conn: Connection, kind: Kind, key: str) -> Item | None:
    query = select(ITEMS).where(ITEMS.c.kind == kind, ITEMS.c.key == key)
    row = conn.execute(query).mappings().first()
    return _item(row) if row is not None else None


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
    return int(conn.execute(statement).rowcount)


def _item(row: object) -> Item:
    data = cast(dict[str, object], row)
    return Item(
        Document(
            kind=cast(Kind, data["kind"]),
            key=str(data["key"]),
            body=cast(dict[str, object], data["body"]),
            system=cast(str | None, data["system"]),
            file_sha256=cast(str | None, data["file_sha256"]),
        ),
        source=str(data["source"]),
        updated_at=cast(dt.datetime, data["updated_at"]),
        updated_by=str(data["updated_by"]),
    )


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

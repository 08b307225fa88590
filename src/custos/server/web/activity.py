"""Activity: the user actions recorded in the evidence ledger (kind "event" entries: users
created, passwords changed, tokens created and revoked), newest first."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from custos.ledger.entry import LedgerEntry
from custos.server.context import context
from custos.server.guards import requires
from custos.server.rbac import Permission, Principal
from custos.server.web import views
from custos.server.web.render import Pages
from custos.store import auth_store, ledger
from custos.store.store import Store

Auditor = Annotated[Principal, requires(Permission.activity_read)]
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
# Canonical JSON sorts keys and has no spaces, so every event entry holds this; it skips
# parsing the far more numerous evidence entries (each match is still parsed and checked).
_EVENT_MARK = b'"kind":"event"'


def _event(seq: int, data: bytes) -> dict[str, Any] | None:
    if _EVENT_MARK not in data:
        return None
    entry = LedgerEntry.from_canonical(data)
    if entry.kind != "event":
        return None
    payload = dict(entry.payload)
    return {
        "seq": seq,
        "at": entry.recorded_at,
        "actor": entry.actor,
        "action": payload.pop("action", None),
        "details": payload,
    }


class Events:
    """The ledger's event entries, read once per process and then only the entries appended
    since: the ledger only grows, and reading it whole per page view grew with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._after = -1  # the last seq read
        self._found: list[dict[str, Any]] = []  # oldest first

    def newest_first(self, store: Store) -> list[dict[str, Any]]:
        with self._lock, auth_store.transaction(store) as conn:
            if ledger.last_seq(conn) < self._after:  # another (or a restored) database
                self._after, self._found = -1, []
            for seq, _hash, data in ledger.stream_entries(conn, after=self._after):
                found = _event(seq, data)
                if found is not None:
                    self._found.append(found)
                self._after = seq
            return self._found[::-1]


def events(store: Store) -> list[dict[str, Any]]:
    """Every event entry, newest first, with its position in the ledger."""
    return Events().newest_first(store)


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)
    seen = Events()

    @routes.get("/activity")
    def activity(request: Request, principal: Auditor, page: PageNumber = 1) -> Response:
        found = seen.newest_first(context(request).store)
        return views.page(
            pages, request, principal, "activity.html", title="Activity",
            paged=views.paginate(found, page, {}),
        )  # fmt: skip

    return routes

"""Activity: the user actions recorded in the evidence ledger (kind "event" entries: users
created, passwords changed, tokens created and revoked), newest first."""

from __future__ import annotations

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


def events(store: Store) -> list[dict[str, Any]]:
    """Every event entry, newest first, with its position in the ledger."""
    found = []
    with auth_store.transaction(store) as conn:
        for seq, _hash, data in ledger.stream_entries(conn):
            if _EVENT_MARK not in data:
                continue
            entry = LedgerEntry.from_canonical(data)
            if entry.kind != "event":
                continue
            payload = dict(entry.payload)
            found.append({
                "seq": seq,
                "at": entry.recorded_at,
                "actor": entry.actor,
                "action": payload.pop("action", None),
                "details": payload,
            })  # fmt: skip
    found.reverse()
    return found


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/activity")
    def activity(request: Request, principal: Auditor, page: PageNumber = 1) -> Response:
        found = events(context(request).store)
        return views.page(
            pages, request, principal, "activity.html", title="Activity",
            paged=views.paginate(found, page, {}),
        )  # fmt: skip

    return routes

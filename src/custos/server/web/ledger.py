"""The evidence ledger: its latest signed checkpoint, a full verification on request, and the
audit bundle an auditor verifies offline (`custos ledger verify --bundle FILE --key KEY`)."""

from __future__ import annotations

import dataclasses
import re
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from custos.errors import UserError
from custos.ledger.audit import Audit
from custos.server.context import AppContext, context
from custos.server.errors import ApiError
from custos.server.guards import requires
from custos.server.rbac import Permission, Principal
from custos.server.web import views
from custos.server.web.render import Pages
from custos.server.witness import server_verifier
from custos.store.ledger_witness import WitnessCorrupt

LedgerReader = Annotated[Principal, requires(Permission.ledger_read)]
Exporter = Annotated[Principal, requires(Permission.ledger_export)]
EMPTY = "The ledger is empty: `custos scan`, an assessment or a user action starts it."


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    def show(request: Request, principal: Principal, **values: Any) -> Response:
        info = context(request).store.ledger_info()
        return views.page(
            pages, request, principal, "ledger.html", title="Evidence ledger", info=info,
            can_export=principal.can(Permission.ledger_export), empty=EMPTY, **values,
        )  # fmt: skip

    @routes.get("/ledger")
    def ledger(request: Request, principal: LedgerReader) -> Response:
        return show(request, principal)

    running = threading.Lock()

    @routes.post("/ledger/verify")
    def verify(request: Request, principal: LedgerReader) -> Response:
        """Recompute every entry and checkpoint against the server's own key (not the
        database's copy of it) and every checkpoint witnessed outside the database, so a
        history rewritten by whoever can write to the database fails. One at a time per
        process: it reads the whole ledger, and repeated clicks (or a script) must not take
        every worker."""
        if not running.acquire(blocking=False):
            raise ApiError("a verification is already running; try again when it ends", 429)
        try:
            ctx = context(request)
            info = ctx.store.ledger_info()
            result = _audit(ctx) if info else None
        finally:
            running.release()
        witnessed = ctx.witness.path if ctx.witness else None
        return show(request, principal, result=result, witnessed=witnessed)

    @routes.get("/ledger/bundle")
    def bundle(request: Request, principal: Exporter) -> Response:
        store = context(request).store
        info = store.ledger_info()
        if info is None:
            raise UserError(EMPTY)
        # Whole, not streamed: the export reads the ledger in one transaction, which must not
        # hop between worker threads as a streamed sync iterator would.
        data = b"".join(store.ledger_export())
        name = re.sub(r"[^A-Za-z0-9._-]", "_", info.origin)
        return Response(
            data,
            media_type="application/x-ndjson",
            headers={"Content-Disposition": f'attachment; filename="{name}-{info.size}.bundle"'},
        )

    return routes


def _audit(ctx: AppContext) -> Audit:
    info = ctx.store.ledger_info()
    assert info is not None
    verifier = server_verifier(ctx.settings, ctx.witness, info)
    try:
        kept = ctx.witness.kept() if ctx.witness else []
    except (WitnessCorrupt, OSError) as exc:  # still audit the database; the page says both
        result = ctx.store.ledger_audit(verifier, origin=info.origin)
        return dataclasses.replace(result, ok=False, problems=(str(exc), *result.problems))
    return ctx.store.ledger_audit(verifier, origin=info.origin, kept=kept)

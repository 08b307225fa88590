"""Tracked vulnerabilities on the server (custos.vulns): one system's list as the API and the
page show it, and the decisions on one (accept until a date, reopen), each a ledger event in
the same transaction, followed by a new assessment so the scores count the decision at once.

Deciding is risk acceptance, so it takes `risks:write` on the system (security officers and
admins, never the engineer whose pushes reported the vulnerability).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from custos import ledger_records as records
from custos.inventory.documents import assemble
from custos.inventory.schema import Manifest
from custos.server.accounts import record_event
from custos.server.assessment import documents, reassess
from custos.server.context import AppContext
from custos.server.errors import NotFound, Unprocessable
from custos.store import auth_store, vulns_store
from custos.vulns import exposure, view
from custos.vulns.model import DEFAULT_SLA_DAYS, Record, State


def _manifest(ctx: AppContext) -> Manifest | None:
    return assemble(documents(ctx))


def _sla(manifest: Manifest | None) -> dict[str, int] | None:
    return manifest.organisation.vulnerability_sla.model_dump() if manifest else None


def listing(ctx: AppContext, system: str, states: Sequence[State] = ()) -> dict[str, Any]:
    """The system's vulnerabilities (most pressing first), counts per state, and the risks
    whose likelihood the open ones suggest raising."""
    manifest = _manifest(ctx)
    sla, now = _sla(manifest), ctx.now()
    with auth_store.transaction(ctx.store) as conn:
        kept = vulns_store.records(conn, [system])
    shown = view.ordered(kept, now, sla, states)
    exposed = exposure.exposure_of(manifest, shown) if manifest else {}
    hints = exposure.suggestions(manifest, ctx.catalog, kept, now, sla) if manifest else []
    return {
        "system": system,
        "counts": view.counts(kept, now, sla),
        "sla_days": sla or dict(DEFAULT_SLA_DAYS),
        "vulnerabilities": [view.to_json(r, now, sla, view.exposes_of(exposed, r)) for r in shown],
        "suggestions": [view.suggestion_json(s) for s in hints],
    }


def decide(
    ctx: AppContext,
    actor: str,
    system: str,
    vuln_id: int,
    decision: Callable[[Record, dt.datetime], Record],
    event: str,
) -> dict[str, Any]:
    """Apply `decision` to the system's vulnerability `vuln_id`, record it in the ledger, and
    reassess; the record as shown. 404 for another system's id, 422 for a refused decision."""
    now = ctx.now()
    with auth_store.transaction(ctx.store) as conn:
        found = vulns_store.get(conn, vuln_id)
        if found is None or found.key.system != system:
            raise NotFound(f"no vulnerability {vuln_id} in system {system}")
        try:
            decided = decision(found, now)
        except ValueError as exc:
            raise Unprocessable(str(exc)) from None
        vulns_store.save(conn, [decided])
        payload = {"action": event.replace("-", ".", 1),
                   **records.vulnerability_event(decided, event)}  # fmt: skip
        record_event(conn, ctx.settings.project_dir, actor, now, payload)
    reassess(ctx, actor)
    manifest = _manifest(ctx)
    exposed = exposure.exposure_of(manifest, [decided]) if manifest else {}
    return view.to_json(decided, now, _sla(manifest), view.exposes_of(exposed, decided))

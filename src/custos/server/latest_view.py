"""The latest assessment as one caller may see it: the adapter the REST API, the pages and the
dashboard share around the pure rules of `custos.server.visibility`.

A view is kept per assessment and set of visible systems, so the rows it cuts and the indexes
it builds are worked out once for all the requests of the callers who see the same systems."""

from __future__ import annotations

from custos.server.context import AppContext
from custos.server.rbac import Permission, Principal
from custos.server.visibility import Visible, everything, system_ids
from custos.store import auth_store, inventory_store


def latest_visible(ctx: AppContext, principal: Principal) -> tuple[int, Visible] | None:
    """(assessment id, what the caller may see of its report), or None before the first."""
    found = ctx.reports.get(ctx.store)
    if found is None:
        return None
    report_id, report = found
    scope = principal.system_scope(Permission.systems_read)
    if scope is None:
        return report_id, ctx.reports.derived(report_id, ("view", None), lambda: everything(report))
    ids = ctx.reports.derived(report_id, ("system-ids",), lambda: system_ids(report)) & scope
    # Which system owns each asset cuts a shared risk's assets; every inventory change makes a
    # new assessment, so one read per assessment stays true to it.
    owners = ctx.reports.derived(report_id, ("asset-systems",), lambda: _asset_systems(ctx))
    mine = ctx.reports.derived(
        report_id, ("view", ids), lambda: Visible(report, ids, False, asset_systems=owners)
    )
    return report_id, mine


def _asset_systems(ctx: AppContext) -> dict[str, str | None]:
    with auth_store.transaction(ctx.store) as conn:
        return inventory_store.owners(conn, "asset")

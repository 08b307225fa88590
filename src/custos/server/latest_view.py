"""The latest assessment as one caller may see it: the adapter the REST API, the pages and the
dashboard share around the pure rules of `custos.server.visibility`."""

from __future__ import annotations

from custos.server.context import AppContext
from custos.server.rbac import Principal
from custos.server.visibility import Visible, everything, sees_everything, visible_for
from custos.store import auth_store, inventory_store


def latest_visible(ctx: AppContext, principal: Principal) -> tuple[int, Visible] | None:
    """(assessment id, what the caller may see of its report), or None before the first."""
    found = ctx.reports.get(ctx.store)
    if found is None:
        return None
    report_id, report = found
    if sees_everything(principal):
        return report_id, everything(report)
    # Which system owns each asset cuts a shared risk's assets; every inventory change makes a
    # new assessment, so one read per assessment stays true to it.
    owners = ctx.reports.derived(report_id, ("asset-systems",), lambda: _asset_systems(ctx))
    return report_id, visible_for(principal, report, owners)


def _asset_systems(ctx: AppContext) -> dict[str, str | None]:
    with auth_store.transaction(ctx.store) as conn:
        return inventory_store.owners(conn, "asset")

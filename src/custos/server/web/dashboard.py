"""The start page: posture per framework and ISO 27002 theme, the score trend, the riskiest open
risks, the worst findings and what expires soon, each linking to its own page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from custos.server.context import AppContext, context
from custos.server.guards import requires
from custos.server.latest_view import latest_visible
from custos.server.rbac import Principal
from custos.server.visibility import everything
from custos.server.web import charts, views
from custos.server.web.render import Pages
from custos.server.web.views import READ, SOON_DAYS, Row, Visible

Reader = Annotated[Principal, requires(READ, "any")]
TOP = 5
TREND_RUNS = 20


def _posture(visible: Visible, key: str) -> list[dict[str, Any]]:
    """Score groups: the pooled scores for callers who see every system, else each visible
    system's own (pooled ones would tell about systems the caller may not see)."""
    if visible.everything:
        return [{"name": "All systems", "scores": visible.report.get(key) or {}}]
    return [{"name": s["name"], "scores": s.get(key) or {}} for s in visible.systems]


def _open_risks(visible: Visible) -> list[Row]:
    open_ = [r for r in visible.rows("risks") if r.get("open_controls") or r.get("above_appetite")]
    return sorted(open_, key=lambda r: (-r["residual"], -r["inherent"]))[:TOP]


def _context(ctx: AppContext, visible: Visible) -> dict[str, Any]:
    now = ctx.now()
    points = ctx.store.trend(TREND_RUNS)
    series = None if visible.everything else sorted(visible.ids)
    findings = [f for f in visible.rows("findings") if f.get("severity") in ("critical", "high")]
    attestations = [
        a
        for a in visible.rows("attestations")
        if views.within_days(a.get("expires"), now, SOON_DAYS)
    ]
    evidence = [
        e
        for e in visible.rows("evidence")
        if views.within_days(e.get("expires_at"), now, SOON_DAYS)
    ]
    return {
        "frameworks": _posture(visible, "framework_scores"),
        "themes": _posture(visible, "theme_scores"),
        "framework_name": views.framework_name,
        "overall": visible.report.get("overall_score") if visible.everything else None,
        "systems": visible.systems,
        "trend": charts.trend(points, series),
        "risks": _open_risks(visible),
        "findings": findings[:10],
        "findings_total": len(findings),
        "attestations": sorted(attestations, key=lambda a: str(a.get("expires"))),
        "evidence": sorted(evidence, key=lambda e: str(e.get("expires_at")))[:10],
        "evidence_total": len(evidence),
        "soon_days": SOON_DAYS,
        "report": visible.report,
    }


def _body(pages: Pages, ctx: AppContext, visible: Visible) -> Markup:
    return pages.fragment("dashboard_main.html", visible=visible, **_context(ctx, visible))


def _memo(pages: Pages, ctx: AppContext, visible: Visible, report_id: int) -> Markup:
    """The dashboard's body, rendered once per assessment, day and set of visible systems:
    it only changes with a new assessment (the trend too), and every page view would
    otherwise walk tens of thousands of rows and render them again."""
    key = ("dashboard", visible.ids, visible.everything, ctx.now().date())
    return ctx.reports.derived(report_id, key, lambda: _body(pages, ctx, visible))


def warm(pages: Pages, ctx: AppContext) -> None:
    """The figures of those who see every system (officers, auditors, admins), before the
    first of them asks."""
    found = ctx.reports.get(ctx.store)
    if found is not None:
        report_id, report = found
        _memo(pages, ctx, everything(report), report_id)


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/")
    def dashboard(request: Request, principal: Reader) -> Response:
        ctx = context(request)
        found = latest_visible(ctx, principal)
        body = None
        if found is not None:
            report_id, visible = found
            body = _memo(pages, ctx, visible, report_id)
        return views.page(
            pages, request, principal, "dashboard.html", title="Dashboard",
            main_html=body, bindings=principal.bindings,
        )  # fmt: skip

    return routes

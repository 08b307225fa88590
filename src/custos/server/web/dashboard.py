"""The start page: posture per framework and ISO 27002 theme, the score trend, the riskiest open
risks, the worst findings and what expires soon, each linking to its own page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from custos.server.context import context
from custos.server.guards import requires
from custos.server.rbac import Principal
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


def _context(request: Request, visible: Visible) -> dict[str, Any]:
    now = context(request).now()
    points = context(request).store.trend(TREND_RUNS)
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


def _memo(request: Request, visible: Visible) -> dict[str, Any]:
    """The dashboard's figures, computed once per assessment, day and set of visible systems:
    they only change with a new assessment (the trend too), and every page view would
    otherwise walk tens of thousands of rows."""
    ctx = context(request)
    report_id = ctx.latest_report_id()
    if report_id is None:
        return _context(request, visible)
    key = ("dashboard", visible.ids, visible.everything, ctx.now().date())
    return ctx.reports.derived(report_id, key, lambda: _context(request, visible))


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/")
    def dashboard(request: Request, principal: Reader) -> Response:
        visible = views.visible_report(request, principal)
        values = _memo(request, visible) if visible is not None else {}
        return views.page(
            pages, request, principal, "dashboard.html", title="Dashboard",
            visible=visible, bindings=principal.bindings, **values,
        )  # fmt: skip

    return routes

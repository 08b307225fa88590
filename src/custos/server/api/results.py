"""What the latest assessment says: control statuses with reasons, the SoA, gaps, roadmap,
findings, evidence and the score trend; and reports in every format the CLI writes. Rows about
systems the caller may not see are left out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from custos.reports.base import ReportFormat
from custos.reports.write import render_report
from custos.server.api.paging import Limit, Offset, Page, filtered, matches, page
from custos.server.api.responses import json_data, json_of
from custos.server.assessment import build
from custos.server.context import AppContext, context
from custos.server.errors import NotFound
from custos.server.guards import requires
from custos.server.latest_view import latest_visible
from custos.server.rbac import Permission, Principal
from custos.server.visibility import Visible

router = APIRouter(prefix="/api/v1", tags=["results"])
Reader = Annotated[Principal, requires(Permission.systems_read, "any")]
Row = dict[str, Any]
Text = Annotated[str | None, Query(max_length=200)]

MEDIA = {
    ReportFormat.html: ("text/html", "html"),
    ReportFormat.md: ("text/markdown", "md"),
    ReportFormat.json: ("application/json", "json"),
    ReportFormat.xlsx: (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    ReportFormat.junit: ("application/xml", "xml"),
    ReportFormat.pdf: ("application/pdf", "pdf"),
}


def _visible(request: Request, principal: Principal) -> tuple[int, Visible]:
    """(assessment id, what the caller may see of its report)."""
    found = latest_visible(context(request), principal)
    if found is None:
        raise NotFound("no assessment yet: push a scan (`custos scan --push URL`) first")
    return found


def _rows(request: Request, principal: Principal, key: str) -> list[Row]:
    """The report's rows the caller may see, rows about several systems cut to theirs (the
    view keeps them per assessment and set of visible systems)."""
    return _visible(request, principal)[1].rows(key)


@router.get("/controls", response_model=Page[Row])
def controls(
    request: Request, principal: Reader, limit: Limit = 50, offset: Offset = 0,
    framework: Text = None, system: Text = None, status: Text = None,
) -> Response:  # fmt: skip
    """Status per (system, control) with the reasons and the basis (evidence or mapping)."""
    rows = _rows(request, principal, "controls")
    return json_of(
        page(filtered(rows, framework=framework, system=system, status=status), limit, offset)
    )


@router.get("/controls/{control_id}", response_model=dict[str, Any])
def control(request: Request, control_id: str, principal: Reader) -> Response:
    """One control: its catalog entry, mappings to other frameworks, statuses per system."""
    catalog = context(request).catalog
    if control_id not in catalog.controls:
        raise NotFound(f"no control {control_id!r} in the catalog")
    found = catalog.control(control_id)
    statuses = list(_visible(request, principal)[1].statuses(control_id).values())
    mappings = [
        {"source": m.source, "target": m.target, "relationship": m.relationship,
         "rationale": m.rationale}
        for m in catalog.mappings
        if control_id in (m.source, m.target)
    ]  # fmt: skip
    return json_data({
        "id": found.id, "framework": found.framework, "title": found.title,
        "statuses": statuses, "mappings": mappings,
    })  # fmt: skip


@router.get("/soa", response_model=Page[Row])
def soa(
    request: Request, principal: Reader, limit: Limit = 500, offset: Offset = 0,
    framework: Text = None,
) -> Response:  # fmt: skip
    """The Statement of Applicability; `per_system` narrowed to the caller's systems, and the
    pooled status only for callers who see every system (it would tell about the others)."""
    _id, visible = _visible(request, principal)
    rows = [
        line
        for line in visible.soa()
        if matches(line, framework=framework) and (line["per_system"] or visible.everything)
    ]
    return json_of(page(rows, limit, offset))


@router.get("/gaps", response_model=Page[Row])
def gaps(
    request: Request, principal: Reader, limit: Limit = 50, offset: Offset = 0,
    system: Text = None, framework: Text = None,
) -> Response:  # fmt: skip
    rows = _rows(request, principal, "gaps")
    return json_of(page(filtered(rows, system=system, framework=framework), limit, offset))


@router.get("/roadmap", response_model=Page[Row])
def roadmap(
    request: Request, principal: Reader, limit: Limit = 50, offset: Offset = 0, phase: Text = None
) -> Response:
    rows = _rows(request, principal, "roadmap")
    return json_of(page(filtered(rows, phase=phase), limit, offset))


@router.get("/findings", response_model=Page[Row])
def findings(
    request: Request, principal: Reader, limit: Limit = 50, offset: Offset = 0,
    system: Text = None, severity: Text = None, check: Text = None, rule: Text = None,
) -> Response:  # fmt: skip
    rows = _rows(request, principal, "findings")
    wanted = filtered(rows, system=system, severity=severity, check=check, rule=rule)
    return json_of(page(wanted, limit, offset))


@router.get("/evidence", response_model=Page[Row])
def evidence(
    request: Request, principal: Reader, limit: Limit = 50, offset: Offset = 0,
    system: Text = None, check: Text = None, result: Text = None,
) -> Response:  # fmt: skip
    """The evidence the latest assessment used (what was examined, with digests)."""
    rows = _rows(request, principal, "evidence")
    return json_of(page(filtered(rows, system=system, check=check, result=result), limit, offset))


@router.get("/trend", response_model=list[Row], dependencies=[requires(Permission.runs_read)])
def trend(request: Request) -> list[Row]:
    """Overall and per-system scores of the recent assessments, oldest first."""
    return [
        {"at": t.at.isoformat(), "score": t.score, "system_scores": dict(t.system_scores)}
        for t in context(request).store.trend()
    ]


@router.get(
    "/reports/{report_format}",
    response_class=Response,
    dependencies=[requires(Permission.reports_read)],
    responses={200: {"content": {m: {} for m, _ in MEDIA.values()}}},
)
def report(request: Request, report_format: ReportFormat) -> Response:
    """The current assessment as a file, in any format `custos report` writes."""
    data = _report_bytes(context(request), report_format)
    if data is None:
        raise NotFound("nothing to report yet: the inventory has no organisation or system")
    media, suffix = MEDIA.get(report_format, ("application/json", "json"))
    name = f"custos-report.{report_format.value if suffix == 'json' else suffix}"
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _report_bytes(ctx: AppContext, report_format: ReportFormat) -> bytes | None:
    """The report assessed as of now and rendered, at most once per format, hour and stored
    assessment: assessing and rendering a large estate takes seconds, and many downloads of
    it at once held every other request behind them. A push or an inventory change stores a
    new assessment, which renders afresh; within the hour only expiries can move, and the
    hour bounds that."""

    def render() -> bytes | None:
        built = build(ctx)
        return None if built is None else render_report(built, report_format)

    newest = ctx.store.latest_assessment_id()
    if newest is None:
        return render()
    hour = ctx.now().strftime("%Y-%m-%dT%H")
    key = ("download", report_format.value)
    ctx.reports.drop(lambda k: k[:2] == key and k[2:] != (hour,))  # one hour's copy per format
    return ctx.reports.derived(newest, (*key, hour), render)

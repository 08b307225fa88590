"""The AI systems of the latest assessment, and one system: its assets, what was detected at
run time (endpoint probes, gateway configurations, access-log detections) and its findings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from custos.server.errors import NotFound
from custos.server.guards import requires
from custos.server.rbac import Principal
from custos.server.web import views
from custos.server.web.render import Pages
from custos.server.web.views import READ, Row, Visible

Reader = Annotated[Principal, requires(READ, "any")]
SystemReader = Annotated[Principal, requires(READ, "system")]
# The check that compares artifacts on disk with the declared assets: its findings are the
# undeclared (or missing) artifacts of the system.
INVENTORY_CHECK = "inventory-completeness"
# The checks that look at the running system (docs/runtime.md): their findings are what the
# system does and how it is reached, shown apart from what its files hold.
RUNTIME_CHECKS = frozenset({"endpoint", "gateway-config", "access-log"})


def _assets(visible: Visible, system_id: str) -> list[Row]:
    """The system's assets as the assessment met them: in evidence and in risks."""
    found: dict[str, Row] = {}
    for item in visible.rows("evidence"):
        if item.get("system") == system_id and item.get("asset"):
            entry = found.setdefault(
                item["asset"], {"id": item["asset"], "checks": [], "risks": []}
            )
            entry["checks"].append({"check": item["check"], "result": item["result"]})
    for risk in visible.rows("risks"):
        if system_id in risk.get("systems", []):
            for asset in risk.get("assets", []):
                entry = found.setdefault(asset, {"id": asset, "checks": [], "risks": []})
                entry["risks"].append(risk["id"])
    return [found[k] for k in sorted(found)]


def router(pages: Pages) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/systems")
    def systems(request: Request, principal: Reader) -> Response:
        visible = views.visible_report(request, principal)
        return views.page(
            pages, request, principal, "systems.html", title="Systems", visible=visible,
            systems=visible.systems if visible else [],
        )  # fmt: skip

    @routes.get("/systems/{system_id}")
    def system(request: Request, system_id: str, principal: SystemReader) -> Response:
        visible = views.visible_report(request, principal)
        found = [s for s in visible.systems if s["id"] == system_id] if visible else []
        if visible is None or not found:
            raise NotFound(f"no system {system_id!r} in the latest assessment")
        findings = views.matching(visible.rows("findings"), system=system_id)
        return views.page(
            pages, request, principal, "system.html", title=found[0]["name"], system=found[0],
            assets=_assets(visible, system_id),
            undeclared=[f for f in findings if f.get("check") == INVENTORY_CHECK],
            runtime=[f for f in findings if f.get("check") in RUNTIME_CHECKS],
            findings=findings,
            framework_name=views.framework_name,
        )  # fmt: skip

    return routes

"""Read routes: who am I, runs, systems (from the latest assessment), the ledger checkpoint."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from custos.server.api import schemas
from custos.server.auth import csrf
from custos.server.context import context
from custos.server.errors import NotFound
from custos.server.guards import requires
from custos.server.rbac import Permission, Principal

router = APIRouter(prefix="/api/v1", tags=["read"])


def bindings_of(principal: Principal) -> list[schemas.BindingBody]:
    return [schemas.BindingBody(role=b.role, system=b.system) for b in principal.bindings]


@router.get("/me", response_model=schemas.Me)
def me(principal: Annotated[Principal, requires(Permission.self_, "any")]) -> schemas.Me:
    token = csrf.token_for(principal.session_token) if principal.session_token else None
    return schemas.Me(
        username=principal.username,
        via=principal.via,
        bindings=bindings_of(principal),
        csrf_token=token,
    )


@router.get(
    "/runs", response_model=list[schemas.Run], dependencies=[requires(Permission.runs_read)]
)
def runs(request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[schemas.Run]:
    return [schemas.Run(**asdict(run)) for run in context(request).store.runs(limit)]


def _latest_systems(request: Request) -> tuple[str | None, list[dict[str, Any]]]:
    report = context(request).store.latest_report()
    if report is None:
        return None, []
    systems = report.get("systems") or []
    return report.get("generated_at"), [s for s in systems if isinstance(s, dict)]


@router.get("/systems", response_model=schemas.Systems)
def systems(
    request: Request,
    principal: Annotated[Principal, requires(Permission.systems_read, "any")],
) -> schemas.Systems:
    """The AI systems of the latest assessment that the caller may see."""
    generated_at, found = _latest_systems(request)
    visible = set(principal.visible_systems(Permission.systems_read, [s["id"] for s in found]))
    return schemas.Systems(
        generated_at=generated_at, systems=[s for s in found if s["id"] in visible]
    )


@router.get(
    "/systems/{system_id}",
    response_model=dict[str, Any],
    dependencies=[requires(Permission.systems_read, "system")],
)
def system(request: Request, system_id: str) -> dict[str, Any]:
    _generated_at, found = _latest_systems(request)
    for item in found:
        if item.get("id") == system_id:
            return item
    raise NotFound(f"no system {system_id!r} in the latest assessment")


@router.get(
    "/ledger/checkpoint",
    response_model=schemas.Checkpoint,
    dependencies=[requires(Permission.ledger_read)],
)
def checkpoint(request: Request) -> schemas.Checkpoint:
    info = context(request).store.ledger_info()
    if info is None:
        raise NotFound("the ledger is empty")
    return schemas.Checkpoint(**asdict(info))

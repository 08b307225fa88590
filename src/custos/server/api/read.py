"""Read routes: who am I, and the stored runs (scans and assessments)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Request

from custos.server.api import schemas
from custos.server.auth import csrf
from custos.server.context import context
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

"""Roadmap decisions: who closes the gaps on a control, and by when (`assignments` in
custos.yaml). Without one, the roadmap proposes an owner and schedules the date itself."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from custos.inventory.documents import Document
from custos.inventory.schema import Assignment
from custos.server import inventory
from custos.server.api.inventory import Stored, stored
from custos.server.context import AppContext, context
from custos.server.errors import Unprocessable
from custos.server.guards import requires
from custos.server.inventory import Change
from custos.server.rbac import Permission, Principal

router = APIRouter(prefix="/api/v1/roadmap", tags=["register"])
Planner = Annotated[Principal, requires(Permission.soa_write)]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    due: dt.date | None = None


def decide(
    ctx: AppContext, actor: str, control_id: str, owner: str | None, due: dt.date | None
) -> None:
    """Set (or replace) the decision on a control; shared by the API and the roadmap page."""
    try:
        made = Assignment(control=control_id, owner=owner, due=due)
    except ValueError as exc:
        raise Unprocessable(str(exc).splitlines()[-1].strip()) from None
    exists = any(i.document.key == control_id for i in inventory.items(ctx, "assignment"))
    doc = Document("assignment", control_id, made.model_dump(mode="json"))
    inventory.apply(ctx, actor, [Change("assignment", control_id, doc, expect_new=not exists)])


@router.put("/{control_id}/assignment", response_model=Stored[Assignment])
def put_assignment(
    request: Request, control_id: str, body: Decision, principal: Planner
) -> Stored[Assignment]:
    ctx = context(request)
    decide(ctx, principal.username, control_id, body.owner, body.due)
    return stored(Assignment, inventory.item(ctx, "assignment", control_id))


@router.delete("/{control_id}/assignment", status_code=204, response_class=Response)
def delete_assignment(request: Request, control_id: str, principal: Planner) -> Response:
    """Back to the proposed owner and schedule."""
    inventory.apply(context(request), principal.username, [Change("assignment", control_id, None)])
    return Response(status_code=204)

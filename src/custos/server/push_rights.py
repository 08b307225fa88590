"""Who may make which edit of a push: a push may change only what the pusher could change
through the REST API, item by item, so `scans:push` is never a way around `risks:write` and
the like (the red-team class "role escalation through a push"). Pure.

`WRITE_RIGHTS` is the permission, and its scope, that the API's write routes of each kind
declare (tests/server/test_push_scope.py keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from custos.inventory.documents import Kind, systems_of
from custos.server.errors import Unprocessable
from custos.server.push_diff import Action, Edit
from custos.server.rbac import Permission, Principal, Scope

WRITE_RIGHTS: Mapping[Kind, tuple[Permission, Scope]] = {
    "organisation": (Permission.inventory_write, "global"),
    "signing": (Permission.inventory_write, "global"),  # no route of its own: as organisation
    "system": (Permission.inventory_write, "global"),
    "asset": (Permission.assets_write, "system"),
    "risk": (Permission.risks_write, "global"),
    "attestation": (Permission.attestations_write, "global"),
    "exclusion": (Permission.soa_write, "global"),
    "assignment": (Permission.soa_write, "global"),
}


@dataclass(frozen=True)
class Refusal:
    """An edit the pusher may not make, and the permission it needs."""

    action: Action
    kind: Kind
    key: str
    needs: Permission

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.key, "action": self.action, "needs": self.needs.value}


def may(principal: Principal, edit: Edit) -> bool:
    permission, scope = WRITE_RIGHTS[edit.kind]
    if scope == "global":
        return principal.can(permission)
    # On every system the item is about, before and after (moving an asset takes both); an
    # item about no system in particular needs the permission everywhere.
    systems = set().union(*(systems_of(d) for d in (edit.before, edit.after) if d is not None))
    if not systems or "" in systems:
        return principal.can(permission)
    return all(principal.can(permission, "system", s) for s in systems)


def refusals(principal: Principal, edits: Iterable[Edit]) -> list[Refusal]:
    return [
        Refusal(e.action, e.kind, e.key, WRITE_RIGHTS[e.kind][0])
        for e in edits
        if not may(principal, e)
    ]


class PushRefused(Unprocessable):
    """422: the push would change items the pusher may not write; nothing was applied."""

    def __init__(self, refused: list[Refusal]) -> None:
        first = refused[0]
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        message = (
            f"the push would {first.action} {first.kind} {first.key!r}, which needs "
            f"{first.needs.value}{more}; nothing was changed"
        )
        details: dict[str, Any] = {"refused": [r.as_json() for r in refused]}
        super().__init__(message, details=details)

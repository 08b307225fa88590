"""Roles, permissions and bindings: who may do what, where. Pure data and rules, no I/O.

A binding gives a user a role everywhere (`system` None) or on one AI system. A permission is
asked for in one of three scopes:
- "global": the resource spans systems (runs, the ledger, users): only a global binding counts.
- "any": the route serves whatever the caller may see (e.g. the list of systems, filtered).
- "system": one system's resource: a global binding or a binding on that system counts.
An API token acts with its own bindings *and* within its creator's current ones (`ceiling`), so
demoting or disabling a user takes their tokens' power away too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Scope = Literal["global", "any", "system"]


class Role(StrEnum):
    admin = "admin"
    security_officer = "security_officer"
    engineer = "engineer"
    auditor = "auditor"
    viewer = "viewer"


class Permission(StrEnum):
    self_ = "self"  # see and manage one's own account and session
    runs_read = "runs:read"
    systems_read = "systems:read"
    ledger_read = "ledger:read"
    tokens_create = "tokens:create"
    users_manage = "users:manage"
    inventory_write = "inventory:write"  # AI systems, the organisation, signing policy
    assets_write = "assets:write"
    risks_write = "risks:write"
    attestations_write = "attestations:write"
    soa_write = "soa:write"  # exclusions: what is not applicable, and why
    scans_push = "scans:push"  # `custos scan|assess --push`
    reports_read = "reports:read"  # report downloads in every format
    ledger_export = "ledger:export"  # auditor bundles
    activity_read = "activity:read"  # the log of user actions


_READ = frozenset(
    {Permission.self_, Permission.runs_read, Permission.systems_read, Permission.ledger_read}
)
_GOVERN = frozenset(
    {
        Permission.inventory_write,
        Permission.assets_write,
        Permission.risks_write,
        Permission.attestations_write,
        Permission.soa_write,
        Permission.scans_push,
    }
)
_AUDIT = frozenset({Permission.reports_read, Permission.ledger_export, Permission.activity_read})
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.security_officer: _READ | _GOVERN | _AUDIT | {Permission.tokens_create},
    # Engineers work on the systems they are assigned to; cross-system views are not theirs.
    Role.engineer: frozenset(
        {
            Permission.self_,
            Permission.systems_read,
            Permission.tokens_create,
            Permission.assets_write,
            Permission.scans_push,
        }
    ),
    # Auditors read everything and export it, and change nothing.
    Role.auditor: _READ | _AUDIT | {Permission.tokens_create},
    Role.viewer: _READ,
}
# Roles that only make sense on a system (an engineer of everything would be an admin-lite).
SYSTEM_ONLY_ROLES = frozenset({Role.engineer})


@dataclass(frozen=True)
class Binding:
    role: Role
    system: str | None = None  # None: every system

    def grants(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


def check_binding(role: str, system: str | None) -> Binding:
    """A binding from user input; ValueError names what is wrong."""
    try:
        parsed = Role(role)
    except ValueError:
        raise ValueError(
            f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}"
        ) from None
    if system is not None and not system.strip():
        raise ValueError("the system id must not be empty")
    if parsed in SYSTEM_ONLY_ROLES and system is None:
        raise ValueError(f"role {parsed.value} is bound to a system: give the system id")
    return Binding(parsed, system)


def _allows(
    bindings: Iterable[Binding], permission: Permission, scope: Scope, system: str | None
) -> bool:
    for binding in bindings:
        if not binding.grants(permission):
            continue
        if scope == "any" or binding.system is None:
            return True
        if scope == "system" and binding.system == system:
            return True
    return False


@dataclass(frozen=True)
class Principal:
    """Whoever makes a request: a user through a session, or an API token."""

    user_id: int
    username: str
    bindings: tuple[Binding, ...]
    via: Literal["session", "token"]
    ceiling: tuple[Binding, ...] | None = None  # a token's creator's bindings
    session_token: str | None = None  # the cookie's secret, to derive the CSRF token

    def can(
        self, permission: Permission, scope: Scope = "global", system: str | None = None
    ) -> bool:
        if not _allows(self.bindings, permission, scope, system):
            return False
        return self.ceiling is None or _allows(self.ceiling, permission, scope, system)

    def visible_systems(self, permission: Permission, systems: Iterable[str]) -> list[str]:
        """The systems among `systems` this principal may use `permission` on."""
        return [s for s in systems if self.can(permission, "system", s)]

    def system_scope(self, permission: Permission) -> frozenset[str] | None:
        """The systems this principal may use `permission` on: None for every system, else the
        ones its bindings name (a system no binding names is reachable only through global
        bindings, and then `can` is true globally), so a query can filter by it."""
        if self.can(permission, "global"):
            return None
        named = {b.system for b in (*self.bindings, *(self.ceiling or ())) if b.system}
        return frozenset(s for s in named if self.can(permission, "system", s))


def within(token: Iterable[Binding], creator: Iterable[Binding]) -> bool:
    """True when every binding of a token is covered by one of its creator's: the same or more
    permissions, on every system or on the token's system."""
    held = list(creator)
    return all(
        any(
            ROLE_PERMISSIONS[b.role] <= ROLE_PERMISSIONS[c.role]
            and (c.system is None or c.system == b.system)
            for c in held
        )
        for b in token
    )

"""The role model on its own: scopes, token ceilings, binding rules, the start-up check."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from custos.server.guards import check_declared
from custos.server.rbac import Binding, Permission, Principal, Role, check_binding, within


def _principal(*bindings: Binding, ceiling: tuple[Binding, ...] | None = None) -> Principal:
    return Principal(1, "u", bindings, "token" if ceiling else "session", ceiling)


def test_scopes() -> None:
    eng = _principal(Binding(Role.engineer, "a"))
    assert eng.can(Permission.systems_read, "system", "a")
    assert not eng.can(Permission.systems_read, "system", "b")
    assert eng.can(Permission.systems_read, "any")
    assert not eng.can(Permission.systems_read, "global")
    officer = _principal(Binding(Role.security_officer))
    assert officer.can(Permission.runs_read)
    assert not officer.can(Permission.users_manage)
    assert eng.visible_systems(Permission.systems_read, ["a", "b"]) == ["a"]


def test_a_token_never_exceeds_its_creator_now() -> None:
    demoted = _principal(Binding(Role.admin), ceiling=(Binding(Role.viewer),))
    assert demoted.can(Permission.runs_read)
    assert not demoted.can(Permission.users_manage)


def test_within() -> None:
    admin = [Binding(Role.admin)]
    assert within([Binding(Role.viewer)], admin)
    assert within([Binding(Role.engineer, "a")], admin)
    assert not within([Binding(Role.admin)], [Binding(Role.security_officer)])
    assert not within([Binding(Role.engineer, "b")], [Binding(Role.engineer, "a")])
    assert not within([Binding(Role.viewer)], [Binding(Role.engineer, "a")])


def test_check_binding() -> None:
    assert check_binding("engineer", "a") == Binding(Role.engineer, "a")
    with pytest.raises(ValueError, match="unknown role 'root'"):
        check_binding("root", None)
    with pytest.raises(ValueError, match="bound to a system"):
        check_binding("engineer", None)


def test_an_undeclared_route_stops_start_up() -> None:
    app = FastAPI()

    @app.get("/open")
    def _open() -> None: ...

    with pytest.raises(RuntimeError, match="routes without a permission declaration: GET /open"):
        check_declared(app)


def test_system_scope_names_what_a_query_may_return() -> None:
    read = Permission.systems_read
    assert _principal(Binding(Role.auditor)).system_scope(read) is None  # every system
    eng = _principal(Binding(Role.engineer, "a"), Binding(Role.engineer, "b"))
    assert eng.system_scope(read) == frozenset({"a", "b"})
    # A token of a global role scoped to one system reaches that system only.
    scoped = _principal(Binding(Role.viewer, "a"), ceiling=(Binding(Role.admin),))
    assert scoped.system_scope(read) == frozenset({"a"})
    # A global token whose creator is now bound to one system: the creator's system only.
    demoted = _principal(Binding(Role.viewer), ceiling=(Binding(Role.engineer, "b"),))
    assert demoted.system_scope(read) == frozenset({"b"})
    for who in (eng, scoped, demoted):
        for system in ("a", "b", "c"):
            assert (system in (who.system_scope(read) or ())) == who.can(read, "system", system)

"""The server's per-process caches never answer with what another process has changed: list
pages follow the inventory's write counter, recently seen callers are forgotten after a
state-changing request and within a second otherwise, and a figure many requests want at once
is computed once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import httpx

from custos.inventory.documents import Document
from custos.server.auth.recent import Recent
from custos.server.list_cache import ListCache
from custos.server.rbac import Binding, Role
from custos.server.report_cache import LatestReport
from custos.store import auth_store, inventory_store
from tests.server.api_client import bearer
from tests.server.conftest import Running
from tests.server.inventory_data import SYSTEM_A, SYSTEM_B, seed, system

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["data"]["id"] for item in answer.json()["items"]]


def _write_elsewhere(server: Running, doc: Document | None, key: str = "") -> None:
    """A change as another app process (or the CLI) makes it: straight into the database."""
    with auth_store.transaction(server.store) as conn:
        if doc is None:
            inventory_store.remove(conn, [("system", key)])
        else:
            inventory_store.put(conn, doc, source="server", now=NOW, actor="elsewhere")


def test_a_kept_list_page_follows_writes_made_by_another_process(server: Running) -> None:
    seed(server.store)
    viewer = bearer(server, "auditor", Binding(Role.auditor))
    assert _ids(viewer.get("/api/v1/systems")) == sorted([SYSTEM_A, SYSTEM_B])
    assert _ids(viewer.get("/api/v1/systems")) == sorted([SYSTEM_A, SYSTEM_B])  # kept

    renamed = {**system(SYSTEM_A), "name": "Renamed elsewhere"}
    _write_elsewhere(server, Document("system", SYSTEM_A, renamed))
    names = [i["data"]["name"] for i in viewer.get("/api/v1/systems").json()["items"]]
    assert "Renamed elsewhere" in names

    _write_elsewhere(server, None, key=SYSTEM_B)
    assert _ids(viewer.get("/api/v1/systems")) == [SYSTEM_A]


def test_kept_pages_are_per_caller_scope(server: Running) -> None:
    seed(server.store)
    everyone = bearer(server, "auditor", Binding(Role.auditor))
    only_a = bearer(server, "eng", Binding(Role.engineer, SYSTEM_A))
    assert _ids(everyone.get("/api/v1/systems")) == sorted([SYSTEM_A, SYSTEM_B])
    assert _ids(only_a.get("/api/v1/systems")) == [SYSTEM_A]
    assert (
        _ids(everyone.get("/api/v1/systems?limit=1&offset=1")) == sorted([SYSTEM_A, SYSTEM_B])[1:]
    )


def test_list_cache_builds_once_per_generation_and_key() -> None:
    cache = ListCache(size=2)
    built: list[str] = []

    def build(tag: str) -> Any:
        return lambda: built.append(tag) or tag.encode()

    assert cache.get(1, "a", build("a1")) == b"a1"
    assert cache.get(1, "a", build("again")) == b"a1"
    assert cache.get(2, "a", build("a2")) == b"a2"  # the inventory changed
    assert cache.get(1, "a", build("old")) == b"old"  # an older reader is answered, not kept
    cache.get(2, "b", build("b2"))
    cache.get(2, "c", build("c2"))
    assert len(cache) == 2  # bounded
    assert built == ["a1", "a2", "old", "b2", "c2"]


def test_recent_callers_expire_on_either_clock() -> None:
    recent = Recent(ttl=0.2)
    recent.put(b"k", NOW, "alice")
    assert recent.get(b"k", NOW) == "alice"
    # The app's clock moved on (a session or token may have expired meanwhile).
    assert recent.get(b"k", NOW + dt.timedelta(seconds=1)) is None
    recent.put(b"k", NOW, "alice")
    time.sleep(0.25)
    assert recent.get(b"k", NOW) is None
    off = Recent(ttl=0)
    off.put(b"k", NOW, "alice")
    assert off.get(b"k", NOW) is None


def test_a_revoked_token_fails_on_the_next_request(server: Running) -> None:
    officer = bearer(server, "officer", Binding(Role.security_officer))
    assert officer.get("/api/v1/me").status_code == 200
    token_id = officer.get("/api/v1/tokens").json()[0]["id"]
    assert officer.get("/api/v1/me").status_code == 200  # now held as a recent caller
    revoked = officer.delete(f"/api/v1/tokens/{token_id}")
    assert revoked.status_code in (200, 204), revoked.text
    assert officer.get("/api/v1/me").status_code == 401


def test_a_token_revoked_by_another_process_fails_within_a_second(server: Running) -> None:
    viewer = bearer(server, "auditor", Binding(Role.auditor))
    assert viewer.get("/api/v1/me").status_code == 200
    with auth_store.transaction(server.store) as conn:
        for token in auth_store.tokens_of(conn, None):
            auth_store.revoke_token(conn, token.id, NOW)
    time.sleep(1.1)
    assert viewer.get("/api/v1/me").status_code == 401


def test_a_derived_value_is_computed_once_for_concurrent_callers() -> None:
    cache = LatestReport()
    calls: list[int] = []
    gate = threading.Event()

    def slow() -> str:
        calls.append(1)
        gate.wait(5)
        return "figures"

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.derived(7, ("k",), slow)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(5)
    assert results == ["figures"] * 8
    assert len(calls) == 1
    assert cache.derived(8, ("k",), lambda: "newer") == "newer"  # a new assessment

"""Password hashing is bounded per process: at most `SLOTS.size` argon2 computations at once,
a short queue, and `Busy` (503) beyond it, so a sign-in flood cannot hold every thread."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from custos.server.auth import passwords
from custos.server.auth.passwords import Busy, Slots
from custos.server.rbac import Binding, Role
from custos.store import auth_store
from tests.server.conftest import Running
from tests.server.helpers import PASSWORD, try_login


def test_the_process_wide_slots_bound_concurrent_hashing() -> None:
    slots = passwords.SLOTS
    assert slots.size == passwords.CONCURRENT >= 2
    assert slots.size + slots.waiting == passwords.HELD_MAX
    stored = passwords.hash_password(PASSWORD)
    slots.peak = 0
    # Every caller gets a slot or a place in the queue; a few rounds of hashing, not many.
    callers = slots.size + min(slots.waiting, 2 * slots.size)
    with ThreadPoolExecutor(max_workers=callers) as pool:
        checks = list(pool.map(lambda _i: passwords.verify(stored, PASSWORD), range(callers)))
    assert all(checks)
    # Without the slots every thread would hash at once (argon2 releases the GIL).
    assert 1 <= slots.peak <= slots.size


def _occupied(slots: Slots) -> tuple[threading.Event, threading.Thread]:
    """A thread holding one slot until the returned event is set."""
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with slots.held():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(10)
    return release, thread


def test_a_full_queue_is_refused_at_once_and_a_wait_runs_out() -> None:
    no_queue = Slots(1, waiting=0, wait=10)
    release, thread = _occupied(no_queue)
    with pytest.raises(Busy):
        no_queue.run(lambda: None)  # no place to wait: refused without waiting 10 s
    release.set()
    thread.join()
    assert no_queue.run(lambda: "free again") == "free again"

    short_wait = Slots(1, waiting=1, wait=0.05)
    release, thread = _occupied(short_wait)
    with pytest.raises(Busy):
        short_wait.run(lambda: None)
    release.set()
    thread.join()
    assert short_wait.peak == 1


def test_a_queued_caller_gets_the_slot_when_it_frees() -> None:
    slots = Slots(1, waiting=1, wait=10)
    release, thread = _occupied(slots)
    threading.Timer(0.05, release.set).start()
    assert slots.run(lambda: "waited") == "waited"
    thread.join()
    assert slots.peak == 1


def _attempts(server: Running) -> int:
    with auth_store.transaction(server.store) as conn:
        return int(conn.execute(select(func.count()).select_from(auth_store.ATTEMPTS)).scalar_one())


def test_a_busy_server_answers_503_and_counts_no_attempt(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.user("alice", Binding(Role.viewer))
    slots = Slots(1, waiting=0, wait=0)
    monkeypatch.setattr(passwords, "SLOTS", slots)
    release, thread = _occupied(slots)
    try:
        answer = try_login(server.client(), "alice", PASSWORD)
    finally:
        release.set()
        thread.join()
    assert answer.status_code == 503
    assert "the server is busy" in answer.text
    assert _attempts(server) == 0  # nothing was checked, so nothing counts towards a lockout
    assert try_login(server.client(), "alice", PASSWORD).status_code == 303

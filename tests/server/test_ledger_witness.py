"""POST /ledger/verify against a history rewritten by a database administrator, on SQLite and
PostgreSQL: the server checks with its own key (not the database's copy) and against every
checkpoint its witness kept outside the database, and names the first bad entry."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from custos.ledger import LedgerEntry, generate_log_key, verifier_of
from custos.store import Store
from custos.store.ledger_key import load_signer
from custos.store.ledger_witness import Witness
from tests.server.conftest import Running
from tests.server.helpers import csrf_from
from tests.server.pages_data import signed_in
from tests.store import insider
from tests.store.insider import STAMP

DBA_KEY, _ = generate_log_key("custos-ledger/dba")


@pytest.fixture
def witnessed(store: Store, start: Callable[..., Running], tmp_path: Path) -> Running:
    return start(store, ledger_witness=tmp_path / "witness")


def fill(server: Running) -> tuple[httpx.Client, str]:
    """An auditor (entry 0: the user was created) and entries 1..32 in batches ending at the
    sizes 6, 13 and 33; the server's verifier key."""
    client = signed_in(server, "auditor")["auditor"]
    signer = load_signer(server.settings.project_dir, create=False)
    size = 1
    for count in (5, 7, 20):
        entries = [LedgerEntry("event", {"n": i}, STAMP, "ci") for i in range(size, size + count)]
        server.store.ledger_append(entries, signer)
        size += count
    return client, verifier_of(signer)


def verify(client: httpx.Client) -> str:
    page = client.get("/ledger")
    answer = client.post("/ledger/verify", data={"csrf_token": csrf_from(page.text)})
    assert answer.status_code == 200
    return answer.text


def first_bad(html: str) -> int | None:
    found = re.search(r"The first bad entry is (\d+)\.", html)
    return int(found.group(1)) if found else None


def self_check(store: Store) -> bool:
    info = store.ledger_info()
    assert info is not None
    return store.ledger_audit(info.verifier_key, origin=info.origin).ok


def test_the_witness_keeps_every_signed_checkpoint(witnessed: Running) -> None:
    _, verifier = fill(witnessed)
    kept = Witness(witnessed.settings.ledger_witness or Path(), verifier).kept()
    assert [k.checkpoint.size for k in kept] == [1, 6, 13, 33]
    html = verify(witnessed.signed_in("auditor"))
    assert "Verified." in html
    assert "witnessed in" in html


Rewrite = Callable[[Store, str, str | None], None]
CASES = [
    pytest.param(lambda s, v, k: insider.rewrite(s, 10, v, k), 10, id="rewritten"),
    pytest.param(lambda s, v, k: insider.truncate(s, 13, v, k), 13, id="truncated"),
    pytest.param(lambda s, v, k: insider.reorder(s, 15, 23, v, k), 15, id="reordered"),
]


@pytest.mark.parametrize(("rewrite", "bad"), CASES)
def test_verify_names_the_first_rewritten_entry(
    witnessed: Running, rewrite: Rewrite, bad: int
) -> None:
    client, verifier = fill(witnessed)
    assert "Verified." in verify(client)
    rewrite(witnessed.store, verifier, DBA_KEY)  # re-signed with the DBA's key, which it offers
    assert self_check(witnessed.store), "the database agrees with itself"
    html = verify(client)
    assert "Verification failed." in html
    assert first_bad(html) == bad, html[html.find("Verification failed") :][:2000]
    assert f"entry {bad}:" in html


def test_a_rewrite_signed_again_by_the_server_is_not_witnessed(witnessed: Running) -> None:
    """The DBA truncates to a size the server really signed; the server then appends (and
    signs) on top of the shortened history. The witness refuses to record that checkpoint,
    and verification names the first deleted entry."""
    client, verifier = fill(witnessed)
    insider.truncate(witnessed.store, 13, verifier)
    assert witnessed.store.ledger_audit(verifier).ok  # the real key, and still consistent
    signer = load_signer(witnessed.settings.project_dir, create=False)
    witnessed.store.ledger_append([LedgerEntry("event", {"n": "after"}, STAMP, "ci")], signer)
    kept = Witness(witnessed.settings.ledger_witness or Path(), verifier).kept()
    assert kept[-1].checkpoint.size == 33
    html = verify(client)
    assert "Verification failed." in html
    assert first_bad(html) == 13


def test_without_a_witness_the_server_still_checks_its_own_key(server: Running) -> None:
    client, verifier = fill(server)
    insider.rewrite(server.store, 10, verifier, DBA_KEY)
    assert self_check(server.store)
    html = verify(client)
    assert "Verification failed." in html
    assert "no checkpoint signed by the trusted key" in html


def test_a_changed_witness_file_fails_verification(witnessed: Running) -> None:
    client, _ = fill(witnessed)
    path = next((witnessed.settings.ledger_witness or Path()).glob("*.witness.jsonl"))
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([lines[0], lines[2], lines[1], *lines[3:]]))  # two records swapped
    html = verify(client)
    assert "Verification failed." in html
    assert "does not continue the records before it" in html

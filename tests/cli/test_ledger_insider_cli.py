"""`custos ledger checkpoint --out` and `custos ledger verify --checkpoint FILE` against a
history a database administrator rewrote, truncated or reordered, on SQLite and PostgreSQL:
exit 1 naming the first bad entry; exit 0 for the honest ledger; exit 2 for a bad file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from custos.store import Store
from custos.workspace import record_entries
from tests.cli.run import Result, custos
from tests.store import insider
from tests.store.conftest import empty_url, pg_database  # noqa: F401

Rewrite = Callable[[Store, str], None]


@pytest.fixture
def project(tmp_path: Path, empty_url: str) -> tuple[Path, str, dict[str, str]]:  # noqa: F811
    """A project whose ledger holds entries 0..31 (checkpoints at 5, 12, 32) in the database
    under test; its verifier key; the environment the CLI runs in."""
    root = tmp_path / "project"
    root.mkdir()
    with Store.open(empty_url, root, environ={}) as store:
        store.upgrade()
    size = 0
    for count in (5, 7, 20):
        items = [("event", {"n": n}) for n in range(size, size + count)]
        record_entries(root, empty_url, items, "ci")  # signs with <project>/.custos/ledger.key
        size += count
    env = {"CUSTOS_HOME": str(tmp_path / "home"), "CUSTOS_DATABASE_URL": empty_url}
    status = custos("ledger", "status", str(root), "--format", "json", env=env)
    assert status.code == 0, status.err
    return root, status.json()["verifier_key"], env


def keep(project: Path, key: str, env: dict[str, str], out: Path) -> None:
    kept = custos("ledger", "checkpoint", "--out", str(out), str(project), "--key", key, env=env)
    assert kept.code == 0, kept.out + kept.err
    assert json.loads(out.read_text())["format"] == "custos-ledger-checkpoint/1"
    assert "PRIVATE" not in out.read_text()


def verify(project: Path, key: str, env: dict[str, str], *kept: Path) -> Result:
    flags = [arg for path in kept for arg in ("--checkpoint", str(path))]
    return custos(
        "ledger", "verify", str(project), "--key", key, *flags, "--format", "json", env=env
    )


@pytest.mark.parametrize(
    ("rewrite", "bad"),
    [
        pytest.param(lambda s, v: insider.rewrite(s, 9, v), 9, id="rewritten"),
        pytest.param(lambda s, v: insider.truncate(s, 12, v), 12, id="truncated"),
        pytest.param(lambda s, v: insider.reorder(s, 14, 22, v), 14, id="reordered"),
    ],
)
def test_verify_against_a_kept_checkpoint_names_the_first_bad_entry(
    project: tuple[Path, str, dict[str, str]], tmp_path: Path, rewrite: Rewrite, bad: int
) -> None:
    root, key, env = project
    kept = tmp_path / "ci-run-41.checkpoint.json"
    keep(root, key, env, kept)
    honest = verify(root, key, env, kept)
    assert honest.code == 0, honest.out + honest.err
    with Store.open(env["CUSTOS_DATABASE_URL"], root, environ={}) as store:
        rewrite(store, key)
    result = verify(root, key, env, kept)
    assert result.code == 1, result.out + result.err
    report = result.json()
    assert report["first_bad_entry"] == bad, report["problems"]
    assert any(p.startswith(f"entry {bad}:") and str(kept) in p for p in report["problems"])


def test_a_truncation_the_database_agrees_with_fails_only_against_the_kept_file(
    project: tuple[Path, str, dict[str, str]], tmp_path: Path
) -> None:
    root, key, env = project
    kept = tmp_path / "kept.json"
    keep(root, key, env, kept)
    with Store.open(env["CUSTOS_DATABASE_URL"], root, environ={}) as store:
        insider.truncate(store, 12, key)
    fresh = {**env, "CUSTOS_HOME": str(tmp_path / "fresh-auditor")}  # no trust file yet
    assert verify(root, key, fresh).code == 0  # the database alone looks fine
    table = custos(
        "ledger", "verify", str(root), "--key", key, "--checkpoint", str(kept), env=fresh
    )
    assert table.code == 1
    assert "first bad entry 12" in table.out
    assert "entries 12..31 were deleted" in table.out


def test_a_tampered_checkpoint_file_exits_2(
    project: tuple[Path, str, dict[str, str]], tmp_path: Path
) -> None:
    root, key, env = project
    kept = tmp_path / "kept.json"
    keep(root, key, env, kept)
    body = json.loads(kept.read_text())
    body["leaf_hashes"] = body["leaf_hashes"][::-1]
    kept.write_text(json.dumps(body))
    result = verify(root, key, env, kept)
    assert result.code == 2
    assert result.err.strip().startswith(f"error: {kept}") or str(kept) in result.err
    assert "Traceback" not in result.err

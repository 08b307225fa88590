"""`custos ledger ...` end to end: append from a pipeline, verify (database and offline bundle),
prove, export; tampered bundles, foreign keys, rollbacks and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from custos.ledger import parse_and_verify, verify_inclusion
from tests.cli.run import Result, custos


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CUSTOS_HOME": str(tmp_path / "home"), "CUSTOS_ACTOR": "release-bot"}


def append(project: Path, env: dict[str, str], payload: dict[str, object]) -> Result:
    return custos("ledger", "append", str(project), "--payload", json.dumps(payload), env=env)


def test_append_verify_prove_export(project: Path, tmp_path: Path, env: dict[str, str]) -> None:
    first = append(project, env, {"event": "trained", "model": "fraud", "version": 3})
    assert first.code == 0, first.err
    assert first.json() == {"first": 0, "count": 1, "size": 1}
    lines = tmp_path / "events.jsonl"
    lines.write_text('{"event": "deployed", "endpoint": "z"}\n\n{"event": "approved"}\n')
    batch = custos("ledger", "append", str(project), "--file", str(lines), env=env)
    assert batch.json() == {"first": 1, "count": 2, "size": 3}
    assert (project / ".custos" / "ledger.key").stat().st_mode & 0o077 == 0

    status = custos("ledger", "status", str(project), "--format", "json", env=env).json()
    key = status["verifier_key"]
    assert "PRIVATE" not in json.dumps(status)
    verified = custos("ledger", "verify", str(project), "--key", key, "--format", "json", env=env)
    assert verified.code == 0, verified.out + verified.err
    assert verified.json()["entries"] == 3

    proof = custos("ledger", "prove", "1", str(project), env=env).json()
    assert proof["entry"]["actor"] == "release-bot"
    assert proof["entry"]["payload"] == {"event": "deployed", "endpoint": "z"}
    checkpoint = parse_and_verify(proof["checkpoint"], key)
    verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]), 1, proof["tree_size"],
        [bytes.fromhex(h) for h in proof["inclusion_proof"]], checkpoint.root,
    )  # fmt: skip

    bundle = tmp_path / "audit.bundle"
    assert custos("ledger", "export", "--out", str(bundle), str(project), env=env).code == 0
    auditor = {"CUSTOS_HOME": str(tmp_path / "auditor")}
    offline = custos("ledger", "verify", "--bundle", str(bundle), "--key", key, env=auditor)
    assert offline.code == 0, offline.out + offline.err


def _bundle(project: Path, tmp_path: Path, env: dict[str, str]) -> tuple[Path, str]:
    for n in range(5):
        append(project, env, {"event": "step", "n": n})
    key = custos("ledger", "status", str(project), "--format", "json", env=env).json()
    bundle = tmp_path / "audit.bundle"
    custos("ledger", "export", "--out", str(bundle), str(project), env=env)
    return bundle, key["verifier_key"]


def _changed(entries: list[bytes]) -> list[bytes]:
    return [entries[0], entries[1].replace(b'"n":1', b'"n":7'), *entries[2:]]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_changed, id="changed-byte"),
        pytest.param(lambda e: [e[0], *e[2:]], id="deleted-entry"),
        pytest.param(lambda e: [e[0], e[1], e[1], *e[2:]], id="inserted"),
        pytest.param(lambda e: [e[0], e[2], e[1], *e[3:]], id="reordered"),
        pytest.param(lambda e: e[:-2], id="truncated"),
    ],
)
def test_tampered_bundle_fails(
    tamper: Callable[[list[bytes]], list[bytes]],
    project: Path,
    tmp_path: Path,
    env: dict[str, str],
) -> None:
    bundle, key = _bundle(project, tmp_path, env)
    lines = bundle.read_bytes().splitlines(keepends=True)
    head, entries = lines[:6], lines[6:]  # header, 5 checkpoints, then the 5 entries
    assert len(entries) == 5
    changed = tamper(entries)
    assert changed != entries
    bundle.write_bytes(b"".join(head + changed))
    auditor = {"CUSTOS_HOME": str(tmp_path / "auditor")}
    result = custos(
        "ledger", "verify", "--bundle", str(bundle), "--key", key, "--format", "json", env=auditor
    )
    assert result.code == 1, result.out + result.err
    assert result.json()["ok"] is False


def test_bundle_with_another_key_fails(project: Path, tmp_path: Path, env: dict[str, str]) -> None:
    bundle, _key = _bundle(project, tmp_path, env)
    other = tmp_path / "other"
    other.mkdir()
    append(other, env, {"event": "x"})
    other_key = custos("ledger", "status", str(other), "--format", "json", env=env).json()
    auditor = {"CUSTOS_HOME": str(tmp_path / "a")}
    key = other_key["verifier_key"]
    result = custos("ledger", "verify", "--bundle", str(bundle), "--key", key, env=auditor)
    assert result.code == 1


def test_rollback_is_refused_by_the_trust_file(
    project: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    bundle, key = _bundle(project, tmp_path, env)
    old = tmp_path / "old.bundle"
    old.write_bytes(bundle.read_bytes())
    append(project, env, {"event": "later"})
    custos("ledger", "export", "--out", str(bundle), str(project), env=env)
    trust = tmp_path / "trust.json"
    auditor = {"CUSTOS_HOME": str(tmp_path / "auditor")}
    assert custos("ledger", "verify", "--bundle", str(bundle), "--key", key, "--trust",
                  str(trust), env=auditor).code == 0  # fmt: skip
    rolled_back = custos("ledger", "verify", "--bundle", str(old), "--key", key, "--trust",
                         str(trust), "--format", "json", env=auditor)  # fmt: skip
    assert rolled_back.code == 1
    assert any(p.startswith("rollback") for p in rolled_back.json()["problems"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--payload", "[1, 2]"], "must be a JSON object"),
        (["--payload", "{nope"], "not JSON"),
        (["--payload", '{"x": NaN}'], "not allowed"),
        ([], "exactly one of"),
    ],
)
def test_bad_append_input_exits_2(
    args: list[str], message: str, project: Path, env: dict[str, str]
) -> None:
    result = custos("ledger", "append", str(project), *args, env=env)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_not_a_bundle_exits_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bundle"
    junk.write_text("hello\n")
    result = custos("ledger", "verify", "--bundle", str(junk))
    assert result.code == 2
    assert "not a ledger bundle" in result.err

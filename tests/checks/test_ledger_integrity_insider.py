"""ledger-integrity against a database administrator who rewrote an entry and re-signed every
checkpoint with a key of their own, set as the ledger's key in the database: the scan's audit
uses the key the project signs with, so it fails even with no trust file pinned."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from custos.checks.ledger_integrity import LedgerIntegrity
from custos.errors import UserError
from custos.ledger import generate_log_key, verifier_of
from custos.store.ledger_key import load_signer
from custos.workspace import ledger_audit, open_workspace, scan
from tests.store import insider

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"


def results(project: Path) -> set[str]:
    ws = open_workspace(project, None)
    with ws.store:
        _, evidence = scan(ws, [LedgerIntegrity()])
    return {e.result for e in evidence}


def test_a_ledger_re_signed_by_another_key_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTOS_HOME", str(tmp_path / "home"))  # no trust file pinned
    monkeypatch.delenv("CUSTOS_DATABASE_URL", raising=False)
    monkeypatch.delenv("CUSTOS_LEDGER_KEY", raising=False)
    project = tmp_path / "fraud-detection"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".custos"))
    results(project)
    assert results(project) == {"pass"}
    real = verifier_of(load_signer(project, create=False))
    dba_key, _ = generate_log_key(real.split("+", 1)[0])
    ws = open_workspace(project, None)
    with ws.store:
        insider.rewrite(ws.store, 0, real, dba_key)
        own = ledger_audit(ws.store)()  # the database's own key: all consistent
        assert own is not None
        assert own.ok
        audit = ledger_audit(ws.store, project)()
        assert audit is not None
        assert not audit.ok
        assert "no checkpoint signed by the trusted key" in audit.problems
    with pytest.raises(UserError, match="not this ledger's key"):
        results(project)  # and the scan refuses to append to it

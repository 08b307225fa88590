"""ledger-integrity: a real ledger verified through the scan, then tampered with underneath."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, update

from custos.checks.ledger_integrity import LedgerIntegrity
from custos.checks.model import Severity
from custos.store.ledger import ENTRIES
from custos.workspace import open_workspace, scan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CUSTOS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CUSTOS_DATABASE_URL", raising=False)
    target = tmp_path / "fraud-detection"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".custos"))
    return target


def integrity(project: Path) -> list[tuple[str, str, tuple[Severity, ...]]]:
    ws = open_workspace(project, None)
    with ws.store:
        _, evidence = scan(ws, [LedgerIntegrity()])
    return [(e.system, e.result, tuple(f.severity for f in e.findings)) for e in evidence]


def test_first_scan_starts_the_ledger_then_it_verifies(project: Path) -> None:
    first = integrity(project)
    assert {result for _, result, _ in first} == {"not_applicable"}
    second = integrity(project)
    assert {result for _, result, _ in second} == {"pass"}
    assert len(second) == 2  # once per AI system


def test_tampered_entry_fails_the_check(project: Path) -> None:
    integrity(project)
    ws = open_workspace(project, None)
    with ws.store, ws.store._ledger() as conn:
        data = bytes(conn.execute(select(ENTRIES.c.data).where(ENTRIES.c.seq == 0)).scalar_one())
        forged = data.replace(b'"result":"not_applicable"', b'"result":"pass"')
        assert forged != data
        conn.execute(update(ENTRIES).where(ENTRIES.c.seq == 0).values(data=forged))
    results = integrity(project)
    assert {result for _, result, _ in results} == {"fail"}
    assert all(Severity.critical in severities for _, _, severities in results)

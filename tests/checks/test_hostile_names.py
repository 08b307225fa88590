"""What a check quotes from the artifacts (undecodable file names, NUL or lone surrogates in
pickle globals) never stops a scan from being stored: on SQLite and PostgreSQL, `custos scan`
keeps the evidence, with such characters written as visible escapes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from custos.checks.model_file import ModelFile
from custos.store import Store
from custos.workspace import open_workspace, scan
from tests.store.conftest import _reset_schema, pg_database  # noqa: F401

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"
# GLOBAL 'os' 'sys\0tem' (a NUL in the name) then a plain os.system call.
PAYLOAD = b"cos\nsys\x00tem\n0cos\nsystem\n(S'id'\ntR."


@pytest.fixture(params=["sqlite", "postgresql"])
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("CUSTOS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CUSTOS_DATABASE_URL", raising=False)
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_database")
        _reset_schema(url)
        with Store.open(url, tmp_path, environ={}) as store:
            store.upgrade()
        monkeypatch.setenv("CUSTOS_DATABASE_URL", url)
    target = tmp_path / "fraud-detection"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".custos"))
    hostile = target / "models" / "hostile"
    hostile.mkdir()
    with open(os.path.join(os.fsencode(hostile), b"bad\xff\xfe.pkl"), "wb") as handle:
        handle.write(PAYLOAD)
    manifest = target / "custos.yaml"
    text = manifest.read_text()
    manifest.write_text(
        text.replace("location: models/fraud_model.joblib", "location: models/hostile", 1)
    )
    return target


def test_hostile_names_are_stored_as_escapes(project: Path) -> None:
    ws = open_workspace(project, None)
    with ws.store:
        _, evidence = scan(ws, [ModelFile()])
        stored = ws.store.latest_evidence()
    [scanned] = [e for e in evidence if e.asset == "fraud-model"]
    assert scanned.result == "fail"
    texts = [f.message for f in scanned.findings] + [f.location for f in scanned.findings]
    texts += [x.location for x in scanned.examined]
    assert all("\x00" not in t for t in texts)
    for t in texts:
        t.encode("utf-8")  # no lone surrogate left
    assert any("\\udcff\\udcfe" in t for t in texts)  # the name, shown as it was
    assert any("os.system" in f.message for f in scanned.findings)
    assert [e for e in stored if e.asset == "fraud-model"] == [scanned]

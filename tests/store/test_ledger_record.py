"""`custos.ledger.record`: the Python API pipelines call to record training and deployment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custos.errors import UserError
from custos.ledger import record
from custos.store import Store


def test_record_appends_durably_and_signs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTOS_DATABASE_URL", raising=False)
    monkeypatch.setenv("CUSTOS_ACTOR", "trainer@ci")
    first = record({"event": "trained", "model": "m", "version": 3, "dataset_sha256": "e" * 64},
                   project=tmp_path)  # fmt: skip
    second = record({"event": "deployed", "endpoint": "z"}, project=tmp_path, actor="W")
    assert (first.first, first.size, second.first, second.size) == (0, 1, 1, 2)
    with Store.open(None, tmp_path, environ={}) as store:
        entry = json.loads(store.ledger_entry(1) or b"{}")
        info = store.ledger_info()
        assert info is not None
        assert store.ledger_audit(info.verifier_key).ok
    assert entry["actor"] == "W"
    assert entry["kind"] == "event"
    assert entry["payload"] == {"event": "deployed", "endpoint": "z"}


def test_record_refuses_what_json_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a JSON type"):
        record({"when": object()}, project=tmp_path)
    with pytest.raises(UserError, match="kind"):
        record({"x": 1}, kind="gossip", project=tmp_path)

"""The `access-log` check on log_source assets: the example's nginx logs analysed without
error, a JSON Lines log mapped by `fields:` failing on its extraction client, a clean one
passing, a remote log not applicable, the extra missing an error naming the install command;
`fields:` and `log_format:` accepted on log_source assets only; the catalog names the check."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from custos.accesslog import extra
from custos.catalog.catalog import Catalog
from custos.catalog.check_names import CHECK_NAMES
from custos.checks.access_log import AccessLog
from custos.checks.base import CheckContext, Target
from custos.checks.model import Evidence
from custos.checks.registry import get_check, run_check
from custos.inventory.schema import Manifest
from tests.accesslog.traffic import generate

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
CHECK = AccessLog()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"


def _manifest(asset: dict[str, Any]) -> Manifest:
    return Manifest.model_validate({
        "organisation": {"name": "Acme", "scope": "Fraud"},
        "systems": [{"id": "scorer", "name": "Scorer", "purpose": "Scores payments",
                     "lifecycle": "production", "eu_ai_act": {"role": "provider", "tier": "high"},
                     "assets": [asset]}],
    })  # fmt: skip


def _run(root: Path, asset: dict[str, Any]) -> Evidence:
    manifest = _manifest(asset)
    system = manifest.systems[0]
    return run_check(CHECK, Target(system, system.assets[0]), CheckContext(manifest, root, NOW))


def test_contract(shipped: Catalog) -> None:
    assert get_check("access-log") is not None
    assert "access-log" in CHECK_NAMES
    assert "access-log-anomaly" not in CHECK_NAMES
    assert CHECK.kinds == frozenset({"log_source"})
    listed = {c.id for c in shipped.framework_controls("custos-ai")
              if "access-log" in c.verification.checks}  # fmt: skip
    assert listed == set(CHECK.evidences)


def test_the_example_logs_are_analysed(tmp_path: Path) -> None:
    for name in ("access.log", "credit-access.log"):
        evidence = _run(EXAMPLE, {"id": "log", "kind": "log_source", "location": f"logs/{name}"})
        assert evidence.result in ("pass", "fail"), evidence.summary
        assert "nginx" in evidence.summary
        assert evidence.examined[0].location == f"logs/{name}"


def test_mapped_log_with_an_extraction_client_fails(tmp_path: Path) -> None:
    traffic = generate(41, attacks=("extraction",))
    mapped = tmp_path / "logs" / "api.jsonl"
    mapped.parent.mkdir()
    with mapped.open("w") as f:
        for row in sorted(traffic.rows, key=lambda r: r["ts"]):
            row["when"] = row.pop("ts")
            row["caller"] = {"key": row.pop("api_key")}
            f.write(json.dumps(row) + "\n")
    asset = {"id": "api", "kind": "log_source", "location": "logs/*.jsonl",
             "log_format": "jsonl", "fields": {"ts": "when", "api_key": "caller.key"}}  # fmt: skip
    evidence = _run(tmp_path, asset)
    assert evidence.result == "fail", evidence.summary
    rules = {f.rule for f in evidence.findings}
    assert "access-log/extraction" in rules
    finding = next(f for f in evidence.findings if f.rule == "access-log/extraction")
    assert "custos:ai:model-extraction" in finding.controls
    assert finding.location == "logs/*.jsonl"
    assert "sk_live" not in finding.message or "…" in finding.message


def test_clean_log_passes_and_remote_is_not_applicable(tmp_path: Path) -> None:
    generate(42, attacks=()).write(tmp_path / "clean.jsonl")
    evidence = _run(tmp_path, {"id": "c", "kind": "log_source", "location": "clean.jsonl"})
    assert evidence.result == "pass", evidence.findings
    assert all(f.severity.name == "low" for f in evidence.findings)
    remote = _run(tmp_path, {"id": "r", "kind": "log_source",
                             "location": "https://logs.example.com/api"})  # fmt: skip
    assert remote.result == "not_applicable"


def test_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "x.log").write_text("no log here\n")
    wrong = _run(tmp_path, {"id": "x", "kind": "log_source", "location": "x.log"})
    assert wrong.result == "error"
    assert str(tmp_path) not in wrong.summary
    assert _run(tmp_path, {"id": "y", "kind": "log_source", "location": "y-*.log"}).result == (
        "error"
    )
    monkeypatch.setattr(extra, "find_spec", lambda name: None)
    missing = _run(tmp_path, {"id": "x", "kind": "log_source", "location": "x.log"})
    assert (missing.result, missing.summary) == ("error", extra.MISSING_EXTRA)


def test_fields_only_on_log_sources() -> None:
    with pytest.raises(ValidationError, match="only log_source assets"):
        _manifest({"id": "m", "kind": "model", "location": "m.bin", "log_format": "jsonl"})
    with pytest.raises(ValidationError):
        _manifest({"id": "l", "kind": "log_source", "location": "a.log", "fields": {"when": "t"}})
    ok = _manifest({"id": "l", "kind": "log_source", "location": "a.log",
                    "fields": {"ts": "time"}, "log_format": "nginx"})  # fmt: skip
    assert ok.systems[0].assets[0].fields == {"ts": "time"}


def test_the_example_json_log_finds_its_extraction_client() -> None:
    asset = {"id": "fraud-score-requests", "kind": "log_source",
             "location": "logs/score-api.jsonl", "log_format": "jsonl"}  # fmt: skip
    evidence = _run(EXAMPLE, asset)
    assert evidence.result == "fail", evidence.summary
    flagged = {f.message.split(":")[0] for f in evidence.findings
               if f.rule in ("access-log/extraction", "access-log/sweep")}  # fmt: skip
    assert len(flagged) == 1, evidence.findings  # the partner key, and no benign client
    (partner,) = flagged
    assert partner.endswith("5e07") is False  # masked: the key's tail is not shown
    assert "…[36] #" in partner

"""benchmarks/data.py with --quick --json, run as a user runs it: one JSON object in the shared
shape, the Custos figures present and positive, the recall figures per type, no decoy column
flagged; presidio counted only when its venv is there (never as a made-up time)."""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.harness import quick_json


def test_data_quick_json(tmp_path: Path) -> None:
    result = quick_json("data.py", tmp_path, timeout=300)
    assert result["benchmark"] == "data"
    assert result["quick"] is True
    figures = {f["figure"].split(" (")[0]: f for f in result["figures"]}
    whole = next(f for name, f in figures.items() if name.startswith("scan a 20,000-row"))
    assert whole["custos"] > 0
    speed = next(f for f in result["figures"] if "rows/s in-process" in f["figure"])
    assert speed["custos"] > 0
    assert speed["met"] is None  # goals are for the full size
    if speed["peer_value"] is None:
        assert speed["peer_note"] in ("missing", "failed")
    for kind in ("email", "phone", "card", "iban", "ssn", "ip"):
        recall = figures[f"recall of {kind}"]
        assert recall["custos"] >= 0.95, recall
    assert result["custos_decoys_flagged"] == []
    assert figures["decoy columns flagged"]["custos"] == 0

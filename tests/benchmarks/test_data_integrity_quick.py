"""benchmarks/data_integrity.py with --quick --json, run as a user runs it: one JSON object in the
shared shape, the whole-process time positive and not judged (the goal is for 100k rows), and
the planted duplicates, flips, trigger and outliers found."""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.harness import quick_json


def test_data_integrity_quick_json(tmp_path: Path) -> None:
    result = quick_json("data_integrity.py", tmp_path, timeout=300)
    assert result["benchmark"] == "data-integrity"
    assert result["quick"] is True
    assert result["rows"] == 10_000
    wall, *found = result["figures"]
    assert wall["unit"] == "s"
    assert wall["custos"] > 0
    assert wall["met"] is None  # judged at the full size only
    assert [f["met"] for f in found] == [True] * len(found), found
    assert result["model"]["folds"] == 5
    assert "data-integrity/trigger-candidate" in result["findings"]

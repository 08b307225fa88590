"""benchmarks/repo_scan.py with --quick --json, run as a user runs it: one JSON object in the
shared shape, the scan timed, and every planted ML sink found (recall 1.0 on the quick tree);
bandit is not installed by a quick run, so the peer is missing or, when present, measured."""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.harness import quick_json


def test_repo_scan_quick_json(tmp_path: Path) -> None:
    result = quick_json("repo_scan.py", tmp_path, timeout=300)
    assert (result["benchmark"], result["quick"]) == ("repo_scan", True)
    speed, found = result["figures"]
    assert speed["unit"] == "s"
    assert speed["custos"] > 0
    assert found["custos"] == 1.0, result["missed_rules"]
    assert result["missed_rules"] == []

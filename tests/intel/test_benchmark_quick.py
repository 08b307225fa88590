"""benchmarks/osv_match.py with --quick --json, run as a user runs it: one JSON object in the
shared shape (benchmarks/figures.py), the index built and matched, every checked dependency
answered as the reference evaluation answers it."""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.harness import quick_json


def test_osv_match_quick_json(tmp_path: Path) -> None:
    result = quick_json("osv_match.py", tmp_path)
    assert (result["benchmark"], result["quick"]) == ("osv_match", True)
    build, match, total = result["figures"]
    assert all(f["unit"] == "s" for f in (build, match, total))
    assert total["custos"] > 0
    assert total["goal"] == "<= 2 s"
    assert total["met"] is None  # a quick run states no verdict
    assert result["matches"] > 0
    assert result["checked"] == 100

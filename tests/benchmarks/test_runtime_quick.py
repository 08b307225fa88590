"""benchmarks/runtime.py with --quick --json, run as a user runs it: one JSON object in the
shared shape, throughput and the pandas ratio measured but not judged (the goals are for 2M
rows), peak memory of both processes, and both planted clients found."""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.harness import quick_json


def test_runtime_quick_json(tmp_path: Path) -> None:
    result = quick_json("runtime.py", tmp_path, timeout=300)
    assert result["benchmark"] == "runtime"
    assert (result["quick"], result["rows"]) == (True, 100_000)
    rate, versus, memory, found = result["figures"]
    assert rate["unit"] == "rows/s"
    assert rate["custos"] > 0
    assert rate["met"] is None
    assert versus["peer"] == "pandas"
    assert versus["peer_value"] > 0
    assert versus["met"] is None
    assert memory["custos"] > 0
    assert memory["peer_value"] > 0
    assert found["met"] is True, result["found"]

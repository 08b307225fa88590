"""benchmarks/server.py --quick --json, run as a user runs it, so the harness cannot rot: a real
`custos serve` on SQLite takes a verified scan push and then the mixed load, and the one JSON
object on stdout has every route's percentiles and no error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import run_benchmark

ROUTES = {
    "dashboard", "findings page", "findings API", "control page", "control API", "gaps API",
    "roadmap page", "SoA page", "SoA API", "report download",
}  # fmt: skip


def run_quick(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_benchmark("server.py", tmp_path, "--quick", "--json", timeout=180)


def percentiles_positive(stats: dict[str, Any]) -> None:
    for key in ("p50_ms", "p95_ms", "p99_ms", "requests_per_s"):
        assert isinstance(stats[key], float), key
        assert stats[key] > 0, key
    assert stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"]


def test_quick_json_measures_every_route_without_errors(tmp_path: Path) -> None:
    done = run_quick(tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # exactly one object: anything else fails to parse
    assert result["benchmark"] == "server"
    assert result["quick"] is True
    (run,) = result["runs"]
    assert run["database"] == "SQLite"
    assert run["clients"] == 16
    assert len(run["push_seconds"]) == 2
    for phase in ("steady", "cold"):
        routes = run["phases"][phase]["routes"]
        assert set(routes) == ROUTES | {"overall"}, phase
        for name, stats in routes.items():
            assert stats["errors"] == 0, (phase, name, run["phases"][phase]["errors"])
            percentiles_positive(stats)
    figures = {f["figure"]: f for f in result["figures"]}
    errors = figures["errors (non-2xx or exception), every request of every run"]
    assert errors["custos"] == 0
    assert errors["met"] is True
    p95 = [f for name, f in figures.items() if name.startswith("server p95")]
    assert len(p95) == 2  # steady and after the push
    for figure in p95:
        assert "5 systems, SQLite" in figure["figure"]
        assert figure["custos"] > 0
        assert figure["met"] is None  # the goals are set for 100 and 1,000 systems

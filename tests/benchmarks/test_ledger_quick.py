"""benchmarks/ledger.py and benchmarks/ledger_core.py with --quick --json, run as a user runs
them, so the harness cannot rot: each exits 0 and prints one JSON object in the shared shape
(benchmarks/figures.py) with every expected figure and a positive Custos value; the goals,
stated for 1M entries, are not judged on the quick size."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import run_benchmark


def run_quick(script: str, tmp_path: Path) -> dict[str, Any]:
    done = run_benchmark(script, tmp_path, "--quick", "--json", timeout=180)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # exactly one object: anything else on stdout fails here
    assert isinstance(result, dict)
    assert result["quick"] is True
    assert result["versions"]["custos"]
    return result


def figure(result: dict[str, Any], prefix: str) -> dict[str, Any]:
    found = [f for f in result["figures"] if f["figure"].startswith(prefix)]
    assert len(found) == 1, (prefix, [f["figure"] for f in result["figures"]])
    found_one: dict[str, Any] = found[0]
    assert found_one["custos"] > 0, found_one
    return found_one


def test_ledger_quick_json(tmp_path: Path) -> None:
    result = run_quick("ledger.py", tmp_path)
    assert result["benchmark"] == "ledger"
    assert result["entries"] == 3000
    assert result["wrong_leaf_refused"] is True
    goals = (
        "ledger appends incl. entry encoding, batch 1000, SQLite",
        "verify 3,000 entries (",
        "one inclusion proof (",
    )
    for prefix in goals:
        found = figure(result, prefix)
        assert found["goal"], found
        assert found["met"] is None, found  # the goals are for 1M entries
    figure(result, "ledger appends excluding entry encoding, batch 1000, SQLite")
    figure(result, "verify 3,000 entries, `custos ledger verify` whole process")
    figure(result, "one inclusion proof served by the store")
    # PostgreSQL is measured when a server answers, and its skipping is said otherwise
    postgres = [f for f in result["figures"] if "PostgreSQL" in f["figure"]]
    if result["postgres_skipped"] is None:
        assert len(postgres) == 1
        assert postgres[0]["custos"] > 0
        assert postgres[0]["met"] is None  # no goal beside SQLite's
    else:
        assert postgres == []


def test_ledger_core_quick_json(tmp_path: Path) -> None:
    result = run_quick("ledger_core.py", tmp_path)
    assert result["benchmark"] == "ledger-core"
    assert result["wrong_leaf_refused"] is True
    for prefix in (
        "Merkle root of 20,000 leaf hashes",
        "one inclusion proof verification",
        "one consistency proof verification",
    ):
        found = figure(result, prefix)
        assert found["goal"], found
        assert found["met"] is None, found  # the goals are for 1M leaves
    for prefix in ("leaf hashes of", "frontier append", "checkpoint sign"):
        figure(result, prefix)

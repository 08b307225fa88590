"""benchmarks/robustness.py with --quick --json, run as a user runs it: one JSON object in the
shared shape, Custos and ART's own call timed side by side on the white-box and black-box
models, and the same robust accuracies from both (difference 0)."""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.harness import quick_json


def test_robustness_quick_json(tmp_path: Path) -> None:
    result = quick_json("robustness.py", tmp_path, timeout=300)
    assert (result["benchmark"], result["quick"]) == ("robustness", True)
    white, white_same, black, black_same = result["figures"]
    for timed in (white, black):
        assert timed["unit"] == "s"
        assert timed["custos"] > 0
        assert timed["peer_value"] > 0
    assert white_same["custos"] == 0
    assert black_same["custos"] == 0

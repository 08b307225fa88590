"""benchmarks/encryption.py with --quick --json, run as a user runs it: one JSON object in the
shared shape with positive Custos throughputs and a bounded RSS; pyrage counted only when its
venv is there (never as a made-up time); a plain durable copy (dd) beside them; goals judged
only at the full size."""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks.harness import quick_json


def test_encryption_quick_json(tmp_path: Path) -> None:
    result = quick_json("encryption.py", tmp_path, timeout=300)
    assert result["benchmark"] == "encryption"
    assert result["size"] == 64 << 20
    throughput = [f for f in result["figures"] if f["unit"] == "GB/s"]
    assert [f["figure"].split()[0] for f in throughput] == ["encrypt", "decrypt", "encrypt"]
    *against_age, ceiling = throughput
    for figure in against_age:
        assert figure["custos"] > 0
        assert figure["met"] is None
        if figure["peer_value"] is None:
            assert figure["peer_note"] in ("missing", "failed")
    # a plain durable copy for context: GNU dd on the same file, with an fsync
    assert ceiling["peer"] == "dd copy + fsync"
    assert ceiling["peer_value"] > 0
    assert ceiling["met"] is None
    (rss,) = [f for f in result["figures"] if f["unit"] == "MB"]
    assert 0 < rss["custos"] <= 64, rss

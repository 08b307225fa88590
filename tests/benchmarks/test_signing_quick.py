"""benchmarks/signing.py --quick --json, run as a user runs it, so the harness cannot rot: it
exits 0, prints one JSON object in the shared shape (benchmarks/figures.py) with every signing
figure and a positive Custos value, and Custos rejected the tampered copy of the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import run_benchmark

EXPECTED = (  # figure labels start with these; the size follows the run's model
    "sign 4 MiB model vs model_signing",
    "verify 4 MiB model vs model_signing",
    "sign 4 MiB end to end vs the machine's parallel SHA-256 ceiling",
)


def test_quick_json_has_every_figure_and_custos_rejects_a_tampered_model(tmp_path: Path) -> None:
    done = run_benchmark("signing.py", tmp_path, "--quick", "--json", timeout=180)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # exactly one object: anything else on stdout fails here
    assert isinstance(result, dict)
    assert result["benchmark"] == "signing"
    assert result["quick"] is True
    assert result["versions"]["custos"]
    assert result["versions"]["model_signing"]
    assert result["tampered_rejected"] is True
    figures: dict[str, dict[str, Any]] = {f["figure"]: f for f in result["figures"]}
    for prefix in EXPECTED:
        found = [f for name, f in figures.items() if name.startswith(prefix)]
        assert len(found) == 1, (prefix, list(figures))
        figure = found[0]
        assert figure["custos"] > 0, figure
        assert figure["goal"], figure
        assert figure["met"] is None, figure  # the goals are for 2 GiB, not judged at 4 MiB
    for op in ("sign", "verify"):
        (figure,) = [f for n, f in figures.items() if n.startswith(f"{op} 4 MiB model vs")]
        # the peer is read, not only timed: a time when it succeeded, else "failed"
        if figure["peer_note"] is None:
            assert figure["peer_value"] > 0
            assert figure["ratio"] > 0
        else:
            assert figure["peer_value"] is None
            assert figure["peer_note"] in ("failed", "missing")

"""benchmarks/model_scan.py --quick --json, run as a user runs it, so the harness cannot rot: it
exits 0, prints one JSON object in the shared shape (benchmarks/figures.py), every figure has
a positive Custos value, and Custos says clean on every (benign) file. The peers' venv is
pointed at an empty folder: they are reported as missing, never as a time."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.benchmarks.harness import run_benchmark

PEERS = ("picklescan", "modelscan", "fickling")
FILES = ("numpy", "opcodes", "torch-small", "torch-zip")


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("model-scan")
    done = run_benchmark(
        "model_scan.py", tmp, "--quick", "--json", "--peers", str(tmp / "no-peers"), timeout=120
    )
    assert done.returncode == 0, done.stderr
    value: dict[str, Any] = json.loads(done.stdout)  # exactly one object: anything else raises
    return value


def test_one_object_in_the_shared_shape(result: dict[str, Any]) -> None:
    assert result["benchmark"] == "model-scan"
    assert result["quick"] is True
    assert result["versions"]["custos"]
    assert set(result["missing"]) == set(PEERS)
    assert [f["key"] for f in result["files"]] == list(FILES)


def test_every_figure_has_a_positive_custos_value(result: dict[str, Any]) -> None:
    names = [f["figure"] for f in result["figures"]]
    for expected in (
        "NumPy pickle vs picklescan, whole process wall",
        "NumPy pickle, Custos peak RSS (whole process)",
        "-opcode pickle vs picklescan, whole process wall",
        "PyTorch checkpoint (torch.save) vs picklescan, whole process wall",
        "PyTorch-style zip vs picklescan, whole process wall",
        "Custos in-process (scan_paths",
    ):
        assert any(expected in name for name in names), (expected, names)
    for figure in result["figures"]:
        assert figure["custos"] is not None, figure
        assert figure["custos"] > 0, figure


def test_custos_says_clean_on_every_benign_file(result: dict[str, Any]) -> None:
    for sample in result["files"]:
        custos = sample["results"]["custos"]
        assert custos["outcome"] == "clean", sample
        assert custos["seconds"] > 0
        assert custos["cpu"] > 0
        assert custos["rss_mb"] > 0
        assert sample["custos_in_process"]["verdict"] == "clean", sample
        assert sample["bytes"] > 0
    opcodes = next(s for s in result["files"] if s["key"] == "opcodes")
    assert opcodes["opcodes"] >= 20_000  # counted with pickletools.genops, not claimed


def test_missing_peers_are_never_a_time(result: dict[str, Any]) -> None:
    for sample in result["files"]:
        for peer in PEERS:
            assert sample["results"][peer]["outcome"] == "missing"
            assert sample["results"][peer]["seconds"] is None
    for figure in result["figures"]:
        if figure["peer"] is not None:
            assert figure["peer_value"] is None, figure
            assert figure["peer_note"] == "missing: not installed", figure
            assert figure["ratio"] is None, figure

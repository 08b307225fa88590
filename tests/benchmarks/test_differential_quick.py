"""benchmarks/differential.py --quick, run as a user runs it, so the harness cannot rot: it
exits 0, prints a table of Custos' verdicts, and Custos flags every malicious sample of the
quick corpus. The peers' venv is pointed at an empty folder: they are reported as missing
(never counted) and the run stays a few seconds long."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.benchmarks.harness import run_benchmark


def run(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_benchmark(
        "differential.py",
        tmp_path,
        "--quick",
        "--peers",
        str(tmp_path / "no-peers"),
        *extra,
        timeout=300,
    )


def test_quick_run_prints_tables_with_custos_verdicts(tmp_path: Path) -> None:
    done = run(tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "== pickle:" in out
    assert "== zip:" in out
    header = next(line for line in out.splitlines() if line.startswith("file "))
    assert "custos" in header.split()
    assert "missing (not counted): picklescan, modelscan, fickling, modelaudit" in out
    assert "directory of" in out
    # one row per sample: "name.pkl  evil  flagged" (the directory row has no label column)
    rows = [line.split() for line in out.splitlines() if line.split()[:1] != []]
    rows = [r for r in rows if r[0].endswith((".pkl", ".pt")) and r[1] in ("evil", "clean")]
    assert rows
    for name, label, verdict in rows:
        assert verdict == ("flagged" if label == "evil" else "clean"), name


def test_quick_json_custos_flags_every_malicious_sample(tmp_path: Path) -> None:
    done = run(tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["quick"] is True
    assert set(figures["missing"]) == {"picklescan", "modelscan", "fickling", "modelaudit"}
    files = [f for cls in figures["classes"].values() for f in cls["files"]]
    malicious = [f for f in files if f["malicious"]]
    assert len(malicious) >= 5
    for sample in malicious:
        custos = sample["results"]["custos"]
        assert custos["outcome"] == "flagged", sample
        assert custos["rss_kib"] > 0
        assert custos["seconds"] > 0
    for sample in files:
        assert sample["results"]["custos"]["outcome"] != "failed", sample
    assert figures["directory"]["custos"]["verdict"] == "clean"

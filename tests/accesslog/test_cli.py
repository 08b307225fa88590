"""`custos monitor` as a user runs it: the json contract (field names exact), exit codes (0
nothing at or above --fail-on, 1 detections, 2 bad input with one line and no traceback),
stdin and gzip, the baseline round trip (no drift against itself, drift when the inputs move),
no full key in any output, and the message when the extra is missing."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.accesslog.traffic import generate
from tests.cli.run import custos

CONTRACT = {"rows", "keys", "window", "detections", "drift"}
DETECTION = {"kind", "api_key", "client_ip", "score", "first_seen", "last_seen", "evidence"}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(31).write(tmp_path_factory.mktemp("cli") / "api.jsonl")


def test_json_contract_and_exit_codes(attacked: Path) -> None:
    result = custos("monitor", str(attacked), "--format", "json")
    assert result.code == 1, result.err
    report = result.json()
    assert set(report) >= CONTRACT | {"broken_lines", "format"}
    assert report["format"] == "jsonl"
    assert set(report["window"]) == {"seconds", "start", "end"}
    assert report["rows"] > 20_000
    assert report["keys"] > 60
    kinds = {d["kind"] for d in report["detections"]}
    assert {"extraction", "sweep", "repeated-queries", "key-sharing", "key-rotation",
            "auth-spray"} <= kinds  # fmt: skip
    for d in report["detections"]:
        assert set(d) >= DETECTION
        shown = d["evidence"]["examples"]
        assert 1 <= len(shown) <= 3, d
        assert [e["ts"] for e in shown] == sorted(e["ts"] for e in shown)
        assert all(d["first_seen"] <= e["ts"] <= d["last_seen"] for e in shown), d
        if d["kind"] == "auth-spray":  # only the refused requests of the address
            assert {e["status"] for e in shown} <= {401, 403}
            assert {e["client_ip"] for e in shown} == {d["client_ip"]}
        assert d["first_seen"].endswith("Z")
    assert {"side", "feature", "psi", "js", "wasserstein", "drifted"} <= set(report["drift"][0])
    every = {json.loads(line)["api_key"] for line in attacked.read_text().splitlines()}
    assert not [k for k in every if k and k in result.out]
    high = custos("monitor", str(attacked), "--format", "json", "--fail-on", "critical")
    assert high.code == 0


def test_table_stdin_and_gzip(attacked: Path) -> None:
    packed = gzip.compress(attacked.read_bytes())
    done = subprocess.run([sys.executable, "-m", "custos", "monitor", "-"], input=packed,
                          capture_output=True, timeout=120, check=False,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})  # fmt: skip
    out = done.stdout.decode()
    assert done.returncode == 1, done.stderr.decode()
    assert "<stdin>" in out
    assert "extraction" in out
    assert "peak memory" in out


def test_baseline_round_trip(tmp_path: Path) -> None:
    clean = generate(32, attacks=()).write(tmp_path / "clean.jsonl")
    baseline = tmp_path / "baseline.json"
    first = custos("monitor", str(clean), "--baseline-out", str(baseline), "--format", "json")
    assert first.code == 0, first.out + first.err
    recorded = json.loads(baseline.read_text())
    assert recorded["format"] == "custos-access-baseline"
    assert set(recorded["features"]) == {"input", "output"}
    assert "sk_live" not in baseline.read_text()  # keys only as digests
    same = custos("monitor", str(clean), "--baseline", str(baseline), "--format", "json")
    assert same.code == 0, same.err
    assert same.json()["reference"]["source"] == "baseline"
    assert not [d for d in same.json()["drift"] if d["drifted"]]

    moved = tmp_path / "moved.jsonl"
    with clean.open() as src, moved.open("w") as dst:
        for line in src:
            row = json.loads(line)
            if "input" in row:
                row["input"][0] = row["input"][0] * 3 + 50  # amounts tripled
            dst.write(json.dumps(row) + "\n")
    drifted = custos("monitor", str(moved), "--baseline", str(baseline), "--format", "json")
    assert drifted.code == 1
    (x0,) = [d for d in drifted.json()["drift"] if d["feature"] == "x0"]
    assert x0["drifted"]
    assert x0["severity"] == "medium"
    assert x0["psi"] >= 0.25


def test_bad_input_is_exit_2(tmp_path: Path) -> None:
    missing = custos("monitor", str(tmp_path / "none.log"))
    assert missing.code == 2
    assert "no such file" in missing.err
    assert "Traceback" not in missing.err
    (tmp_path / "notes.txt").write_text("just some words\n")
    assert custos("monitor", str(tmp_path / "notes.txt")).code == 2
    assert custos("monitor", str(tmp_path / "notes.txt"), "--fail-on", "extreme").code == 2
    assert custos("monitor", "x", "--field", "nope=1").code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert custos("monitor", str(tmp_path / "notes.txt"), "--baseline", str(bad),
                  "--log-format", "nginx").code == 2  # fmt: skip


def test_missing_extra(tmp_path: Path) -> None:
    code = ("import sys; import importlib.util as u; real = u.find_spec; "
            "u.find_spec = lambda n, *a: None if n == 'duckdb' else real(n, *a); "
            "from custos.cli.entry import main; main(['monitor', 'x.jsonl'])")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "pip install 'custos[monitor]'" in done.stderr

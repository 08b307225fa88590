"""Running a benchmark script the way a user runs it, for the tests that keep each one alive:
this venv's Python, its console scripts (`custos`) first on PATH, no database URL inherited
from the shell. `quick_json` runs `--quick --json` and returns the one JSON object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_benchmark(
    script: str, cwd: Path, *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CUSTOS_DATABASE_URL"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
    )


def quick_json(script: str, cwd: Path, *args: str, timeout: float = 180) -> dict[str, Any]:
    done = run_benchmark(script, cwd, "--quick", "--json", *args, timeout=timeout)
    assert done.returncode == 0, done.stderr
    value = json.loads(done.stdout)  # exactly one object: anything else on stdout fails here
    assert isinstance(value, dict)
    return value

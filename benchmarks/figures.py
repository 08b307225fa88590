"""The one shape every benchmark reports in, so `benchmarks/summary.py` can build one table.

Each benchmark script takes `--json` (print exactly one JSON object on stdout, nothing else;
progress goes to stderr) and `--quick` (a run of a few seconds, for the test that keeps the
harness from rotting). The object is `report(...)`:

    {"benchmark": "model-scan", "quick": false, "date": ..., "machine": {...},
     "versions": {"custos": "0.1.0", "picklescan": "1.0.5"},
     "figures": [Figure, ...], ...anything else the benchmark keeps}

A Figure is one row of the summary: what was measured (in words that say how: "whole process
wall", "in-process"), Custos' value, the peer's value when there is a peer, their ratio
(> 1 means Custos is better, whichever way the unit points), the goal in words and whether
it is met. A peer that failed or missed is never a time: `peer_value` is None and `peer_note`
says "failed"/"missed"/"missing".
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    figure: str  # what is measured and how, e.g. "scan 524 MB numpy pickle, whole process wall"
    custos: float | None
    unit: str  # "s", "ms", "MB", "entries/s", "%", "x"
    peer: str | None = None
    peer_value: float | None = None
    peer_note: str | None = None  # "failed", "missed", "missing": why there is no peer value
    ratio: float | None = None  # > 1: Custos better
    goal: str = ""  # in words: ">= 1.5x picklescan", "<= 2 s"
    met: bool | None = None  # None: no goal, or not measurable in this run


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def report(
    benchmark: str,
    figures: list[Figure],
    *,
    quick: bool,
    versions: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "benchmark": benchmark,
        "quick": quick,
        "date": now(),
        "machine": machine(),
        "versions": {"custos": custos_version(), **(versions or {})},
        "figures": [asdict(f) for f in figures],
        **extra,
    }


def emit(result: dict[str, Any]) -> None:
    """Print the one JSON object (the `--json` contract)."""
    json.dump(result, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")


def custos_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("custos")
    except PackageNotFoundError:
        return "?"


def at_least(value: float | None, goal: float) -> bool | None:
    return None if value is None else value >= goal


def at_most(value: float | None, goal: float) -> bool | None:
    return None if value is None else value <= goal


def log(message: str) -> None:
    """Progress for a human; on stderr so `--json` stdout stays one object."""
    print(message, file=sys.stderr, flush=True)


def compile_custos() -> None:
    """Write Custos' bytecode caches before anything is timed. pip compiles an installed
    package (the peers' venv has its .pyc files); an editable checkout, or a shell with
    PYTHONDONTWRITEBYTECODE=1, would otherwise recompile every module in every timed run."""
    import compileall

    import custos

    compileall.compile_dir(str(Path(custos.__file__).parent), quiet=1, workers=1)


def timed_custos(*args: str) -> tuple[float, Any]:
    """`custos ARGS` as a whole process: its wall seconds and the JSON it printed (exit 0 and
    1 are results; anything else is a failed run)."""
    import json
    import subprocess
    import time

    command = [sys.executable, "-m", "custos", *args]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise RuntimeError(f"custos {args[0]} failed: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)


def peer_venv(venv: Path, packages: tuple[str, ...], install: bool) -> Path | None:
    """The Python of a peer's own venv with `packages`, made (and filled) when `install`;
    None when it is not there and may not be made (a quick run does not install)."""
    import subprocess

    python = venv / "bin" / "python"
    stamp = venv / ".packages"
    wanted = "\n".join(packages)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not install:
        return None
    log(f"installing {', '.join(packages)} into {venv.name} ...")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    stamp.write_text(wanted)
    return python

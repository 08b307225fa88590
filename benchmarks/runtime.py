"""Benchmark: `custos monitor` on a generated 2,000,000-row JSON Lines access log, side by side
with a straightforward pandas implementation of two of its detections.

The log: two days of a scoring API, 1,000 keys with Zipf-distributed volumes and business-hour
rhythms, each request with a 10-float input (a three-segment mixture of real-looking
features) and a 10-float output (the softmax of a fixed linear model), plus two planted
clients: a synthetic prober (a few seeds, then rounds of every query stepped by +-lambda per
feature) and a hammerer (four inputs sent hundreds of times each).

Figures:

  * "monitor ... whole process wall": `custos monitor FILE --format json`, start-up, parsing
    every row, every detection, the model and drift included, as rows per second; the median
    of 3 runs after one warm-up (which fills the page cache). Goal >= 500,000 rows/s on the
    project's 2-core machine.
  * the same against pandas: `pd.read_json(lines=True)`, then per-key request counts per
    5-minute window against the key's median and MAD (the rate detection) and per-key repeats
    of identical inputs (the duplicate detection), nothing else; one run, whole process. Goal:
    Custos >= 5x pandas' rows per second although it does everything else too.
  * peak resident memory of each process (printed by each; no goal, bounded is the point).
  * whether Custos found both planted clients (extraction and repeated queries).

`--quick`: 100,000 rows (a few seconds; goals are judged at the full size only).

`--guard`: only the guard part instead (benchmarks/runtime_guard.py: `custos guard`'s added
p50 latency at concurrency 1, goal <= 1 ms, and its requests/s at concurrency 16, goal >=
2,000).

Run: .venv/bin/python benchmarks/runtime.py [--quick] [--json] [--rows N] [--guard]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

# `python benchmarks/runtime.py` puts this folder first on sys.path: the shared contract.
from figures import Figure, at_least, compile_custos, emit, log, report, timed_custos

BENCHMARK = "runtime"
HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
GOAL_ROWS_S = 500_000
GOAL_RATIO = 5.0
RUNS = 3
SEED = 16
KEYS = 1000
FEATURES = 10
START = dt.datetime(2026, 11, 23, tzinfo=dt.UTC).timestamp()
CHUNK = 100_000

PANDAS = textwrap.dedent("""
    import json, resource, sys
    import numpy as np, pandas as pd
    df = pd.read_json(sys.argv[1], lines=True)
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    counts = df.groupby(["api_key", df["ts"].dt.floor("5min")]).size().rename("n").reset_index()
    stats = counts.groupby("api_key")["n"].agg(
        median="median", mad=lambda s: (s - s.median()).abs().median())
    counts = counts.join(stats, on="api_key")
    scale = np.maximum(1.4826 * counts["mad"], np.sqrt(counts["median"].clip(lower=1)))
    spikes = counts[((counts["n"] - counts["median"]) / scale >= 6)
                    & (counts["n"] >= 5 * counts["median"]) & (counts["n"] >= 50)]
    df["digest"] = df["input"].map(lambda v: hash(tuple(v)) if isinstance(v, list) else None)
    per_input = df.dropna(subset=["digest"]).groupby(["api_key", "digest"]).size()
    per_key = per_input.groupby("api_key").agg(["sum", "size"])
    repeats = per_key[(per_key["sum"] - per_key["size"] >= 50)
                      & ((per_key["sum"] - per_key["size"]) / per_key["sum"] >= 0.5)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": len(df), "spike_keys": int(spikes["api_key"].nunique()),
                      "repeat_keys": len(repeats), "peak_rss_mb": round(peak, 1)}))
""")


def _population(rng: np.random.Generator, n: int) -> np.ndarray:
    mix = np.random.default_rng(1).normal(size=(3, 4, FEATURES)) * 0.6
    segment = rng.integers(0, 3, n)
    z = rng.normal(size=(n, 4))
    x = np.einsum("nk,nkf->nf", z, mix[segment]) + rng.normal(size=(n, FEATURES)) * 0.5
    x[:, 0] = np.exp(3.5 + 0.8 * x[:, 0])  # an amount
    x[:, 1] = np.round(np.abs(x[:, 1]) * 3)  # a count
    return x


def _outputs(x: np.ndarray) -> np.ndarray:
    weights = np.random.default_rng(2).normal(size=(FEATURES, FEATURES)) * 0.3
    scaled = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-9)
    e = np.exp(scaled @ weights)
    return e / e.sum(axis=1, keepdims=True)


def _planted(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    spread = _population(rng, 5000).std(axis=0)
    seeds = _population(rng, 10)
    probe = seeds
    while len(probe) < 2000:
        probe = np.vstack([probe, probe + 0.05 * spread * rng.choice([-1.0, 1.0], probe.shape)])
    few = _population(rng, 4)
    return probe[:2000], few[rng.integers(0, 4, 1600)]


def write_log(path: Path, rows: int) -> dict[str, str]:
    """The log (kept under benchmarks/.data between runs); the planted keys by role."""
    rng = np.random.default_rng(SEED)
    keys = [f"sk_live_{rng.bytes(12).hex()}" for _ in range(KEYS)]
    planted = {"extraction": keys[-1], "hammerer": keys[-2]}
    if path.exists():
        return planted
    probe, hammer = _planted(rng)
    special = len(probe) + len(hammer)
    base = rows - special
    weights = 1.0 / np.arange(1, KEYS - 1) ** 0.8
    owner = rng.choice(KEYS - 2, base, p=weights / weights.sum())
    hour_p = np.array([1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 10, 10, 10, 10, 10, 9, 8, 6, 5, 4, 3,
                       2, 1], dtype=float)  # fmt: skip
    hours = rng.choice(24, base, p=hour_p / hour_p.sum())
    t = START + rng.integers(0, 2, base) * 86400.0 + hours * 3600 + rng.uniform(0, 3600, base)
    x = _population(rng, base)
    at = START + 86400 * 1.4
    t = np.concatenate([t, at + np.arange(len(probe)) * 1.5, at + 600 + np.arange(len(hammer))])
    owner = np.concatenate([owner, np.full(len(probe), KEYS - 1), np.full(len(hammer), KEYS - 2)])
    x = np.vstack([x, probe, hammer])
    order = np.argsort(t, kind="stable")
    t, owner, x = t[order], owner[order], x[order]
    y = _outputs(x)
    ips = [f"10.{i // 250}.{i % 250}.{(i * 7) % 200 + 1}" for i in range(KEYS)]
    part = path.with_name(path.name + ".part")
    with part.open("w", encoding="utf-8") as f:
        for lo in range(0, t.size, CHUNK):
            hi = min(t.size, lo + CHUNK)
            stamps = [dt.datetime.fromtimestamp(v, dt.UTC).isoformat(timespec="milliseconds")
                      .replace("+00:00", "Z") for v in t[lo:hi].tolist()]  # fmt: skip
            xs = [",".join(f"{v:.6g}" for v in r) for r in x[lo:hi].tolist()]
            ys = [",".join(f"{v:.4f}" for v in r) for r in y[lo:hi].tolist()]
            latency = rng.gamma(4, 5, hi - lo).round(1).tolist()
            lines = [
                f'{{"ts":"{s}","api_key":"{keys[k]}","client_ip":"{ips[k]}",'
                f'"endpoint":"/v1/score","method":"POST","status":200,"latency_ms":{lat},'
                f'"input":[{xi}],"output":[{yi}],"user_agent":"client/{k % 7}"}}\n'
                for s, k, lat, xi, yi in zip(stamps, owner[lo:hi].tolist(), latency, xs, ys,
                                             strict=True)
            ]  # fmt: skip
            f.writelines(lines)
    part.replace(path)
    return planted


def run_custos(path: Path) -> tuple[float, dict[str, Any]]:
    seconds, result = timed_custos("monitor", str(path), "--format", "json")
    return seconds, result


def run_pandas(path: Path) -> tuple[float | None, dict[str, Any]]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PANDAS, str(path)], capture_output=True,
                          text=True, check=False)  # fmt: skip
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        log(f"pandas failed: {done.stderr[-1000:]}")
        return None, {}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows instead of 2,000,000")
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    parser.add_argument("--rows", type=int, help="rows of the log (default 2,000,000)")
    parser.add_argument("--guard", action="store_true", help="only the custos guard part")
    args = parser.parse_args()
    if args.guard:
        run_guard(args.quick, args.json)
        return
    rows = args.rows or (100_000 if args.quick else 2_000_000)
    DATA.mkdir(parents=True, exist_ok=True)
    compile_custos()
    path = DATA / f"access-v1-{rows}.jsonl"  # v: the generator; a change makes a new file
    log(f"writing a {rows:,}-row JSON Lines access log (kept in {DATA.name}/) ...")
    planted = write_log(path, rows)
    size_mb = path.stat().st_size / 1e6
    log("custos monitor (one warm-up run, then timed runs) ...")
    run_custos(path)
    runs = [run_custos(path) for _ in range(1 if args.quick else RUNS)]
    seconds = [s for s, _ in runs]
    result = runs[0][1]
    if result["rows"] != rows:
        raise RuntimeError(f"custos counted {result['rows']} rows of {rows}")
    log("pandas, per-key rate and repeated inputs only ...")
    peer_seconds, peer = run_pandas(path)
    wall = statistics.median(seconds)
    custos_rate = rows / wall
    peer_rate = rows / peer_seconds if peer_seconds else None
    ratio = custos_rate / peer_rate if peer_rate else None
    found = {
        role: {
            d["kind"] for d in result["detections"] if (d["api_key"] or "").endswith(_digest(key))
        }
        for role, key in planted.items()
    }
    caught = "extraction" in found["extraction"] and "repeated-queries" in found["hammerer"]
    label = f"{rows:,}-row JSONL log, 10-float inputs and outputs ({size_mb:.0f} MB)"
    quick = args.quick
    figures = [
        Figure(f"monitor on a {label}, whole process wall, median of {len(seconds)}",
               round(custos_rate), "rows/s", goal=f">= {GOAL_ROWS_S:,} rows/s",
               met=None if quick else at_least(custos_rate, GOAL_ROWS_S)),
        Figure("monitor (every detection) against pandas (rate and duplicates only), rows/s",
               round(custos_rate), "rows/s", peer="pandas",
               peer_value=None if peer_rate is None else round(peer_rate),
               peer_note=None if peer_rate else "failed",
               ratio=None if ratio is None else round(ratio, 2), goal=f">= {GOAL_RATIO:g}x",
               met=None if quick else at_least(ratio, GOAL_RATIO)),
        Figure("monitor peak resident memory (process)", result["stats"]["peak_rss_mb"], "MB",
               peer="pandas", peer_value=peer.get("peak_rss_mb"),
               ratio=None if not peer.get("peak_rss_mb") else
               round(peer["peak_rss_mb"] / result["stats"]["peak_rss_mb"], 2)),
        Figure("monitor found the planted prober (extraction) and hammerer (repeats)",
               1.0 if caught else 0.0, "share", goal="1.0", met=caught),
    ]  # fmt: skip
    out = report(
        BENCHMARK, figures, quick=quick, rows=rows, size_mb=round(size_mb, 1), seconds=seconds,
        peer_seconds=peer_seconds, peer=peer, found={k: sorted(v) for k, v in found.items()},
        stats=result["stats"], detections=len(result["detections"]),
    )  # fmt: skip
    if args.json:
        emit(out)
        return
    for f in figures:
        peer_text = f"; {f.peer} {f.peer_value}" if f.peer else ""
        print(f"{f.figure}: {f.custos} {f.unit}{peer_text}; ratio {f.ratio}; goal {f.goal}: "
              f"{f.met}")  # fmt: skip
    print(f"custos runs: {', '.join(f'{s:.2f} s' for s in seconds)}; pandas: "
          f"{peer_seconds and round(peer_seconds, 2)} s; {result['stats']}")  # fmt: skip


def run_guard(quick: bool, as_json: bool) -> None:
    from runtime_guard import run

    compile_custos()
    figures, extra = run(quick)
    out = report(BENCHMARK, figures, quick=quick, part="guard", **extra)
    if as_json:
        emit(out)
        return
    for f in figures:
        print(f"{f.figure}: {f.custos} {f.unit}; goal {f.goal}: {f.met}")
    print(extra)


def _digest(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()[:8]


if __name__ == "__main__":
    main()

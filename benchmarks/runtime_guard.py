"""The guard part of benchmarks/runtime.py (`--guard`): `custos guard` in front of a minimal
upstream, against calling the upstream directly.

Three processes on one machine: the upstream (uvicorn, a raw ASGI app answering a fixed
10-class probability vector), `custos guard` as a user runs it (one key, in-process buckets,
an audit log, top-k 3 and rounding to 3 digits, extraction scoring on), and the load client
(aiohttp, this process). Figures: the added p50 latency at concurrency 1 (goal <= 1 ms), and
requests per second through the guard at concurrency 16 (goal >= 2,000). The client and the
upstream share the machine's cores with the guard, so the figures are what one box does, not
the guard alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from figures import Figure, at_least, at_most, log

GOAL_OVERHEAD_MS = 1.0
GOAL_RPS = 2000.0
UPSTREAM = textwrap.dedent("""
    import json, sys, uvicorn
    BODY = json.dumps({"label": "c3", "probabilities": [0.01, 0.02, 0.03, 0.5, 0.04, 0.1, 0.1,
                       0.05, 0.1, 0.05]}).encode()
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": BODY})
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
""")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


async def _load(url: str, key: str | None, concurrency: int, total: int) -> list[float]:
    import aiohttp

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies: list[float] = []
    sent = 0
    body = json.dumps({"input": [0.1 * i for i in range(10)]}).encode()
    headers["Content-Type"] = "application/json"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal sent
            while sent < total:
                sent += 1
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as r:
                    await r.read()
                    if r.status != 200:
                        raise RuntimeError(f"status {r.status}")
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def _measure(url: str, key: str | None, concurrency: int, total: int) -> tuple[float, float]:
    """(p50 ms, requests/s) after a warm-up of 200 requests."""
    asyncio.run(_load(url, key, concurrency, 200))
    t0 = time.perf_counter()
    lat = asyncio.run(_load(url, key, concurrency, total))
    wall = time.perf_counter() - t0
    return statistics.median(lat) * 1000, total / wall


def run(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    n1, n16 = (1000, 4000) if quick else (5000, 20000)
    work = Path(tempfile.mkdtemp(prefix="custos-guard-bench-"))
    up_port, guard_port = _port(), _port()
    custos = [sys.executable, "-m", "custos"]
    env = {**os.environ, "CUSTOS_GUARD_PEPPER": "bench-pepper"}
    key = subprocess.run(
        [*custos, "guard", "key", "create", "bench", "--keys", str(work / "keys.json"),
         "--rate", "1000000", "--burst", "1000000"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    procs = [subprocess.Popen([sys.executable, "-c", UPSTREAM, str(up_port)])]
    try:
        _wait(up_port, procs[0])
        procs.append(subprocess.Popen(
            [*custos, "guard", "--upstream", f"http://127.0.0.1:{up_port}",
             "--listen", f"127.0.0.1:{guard_port}", "--keys", str(work / "keys.json"),
             "--audit-log", str(work / "audit.jsonl"), "--project", str(work),
             "--top-k", "3", "--round", "3"],
            env=env, stderr=subprocess.DEVNULL))  # fmt: skip
        _wait(guard_port, procs[1])
        direct, guarded = f"http://127.0.0.1:{up_port}/p", f"http://127.0.0.1:{guard_port}/p"
        log("guard: concurrency 1, direct then through the guard ...")
        d50, d_rps1 = _measure(direct, None, 1, n1)
        g50, g_rps1 = _measure(guarded, key, 1, n1)
        log("guard: concurrency 16 ...")
        _, d_rps16 = _measure(direct, None, 16, n16)
        g50_16, g_rps16 = _measure(guarded, key, 16, n16)
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(10)
    overhead = g50 - d50
    figures = [
        Figure("guard: added p50 latency at concurrency 1 (guard minus direct)",
               round(overhead, 3), "ms", goal=f"<= {GOAL_OVERHEAD_MS:g} ms",
               met=None if quick else at_most(overhead, GOAL_OVERHEAD_MS)),
        Figure("guard: requests/s through the guard at concurrency 16 (one 2-core box: client, "
               "guard and upstream)", round(g_rps16), "requests/s", peer="direct",
               peer_value=round(d_rps16), ratio=round(g_rps16 / d_rps16, 3),
               goal=f">= {GOAL_RPS:,.0f} requests/s",
               met=None if quick else at_least(g_rps16, GOAL_RPS)),
    ]  # fmt: skip
    extra = {"direct_p50_ms": round(d50, 3), "guard_p50_ms": round(g50, 3),
             "direct_rps_c1": round(d_rps1), "guard_rps_c1": round(g_rps1),
             "guard_p50_ms_c16": round(g50_16, 3), "requests": [n1, n16]}  # fmt: skip
    return figures, extra

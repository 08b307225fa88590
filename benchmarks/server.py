"""Benchmark: the Custos server under load, over the scale data set of `assess_scale.py`.

Builds a database holding 100 AI systems x 10 assets, 10,000 evidence records with their findings
and one stored assessment, starts `custos serve` on it in its own process (so the load generator
does not share the server's GIL), and drives it over loopback with a concurrent httpx client:

- the dashboard `/` after signing in through the login form: p50/p95/p99 latency (goal p95 <= 200
  ms) at the client concurrency, and one request at a time to tell service time from queueing;
- the REST API lists `/api/v1/systems?limit=50` and `/api/v1/findings?limit=50` with a viewer
  API token, interleaved: requests/s (goal >= 300) and errors (goal 0); then each list alone.

Every phase has a request count and a time limit, so a slow server cannot make it hang.
Run: `.venv/bin/python benchmarks/server.py [--db URL | --postgres]` (or `make bench-server`).
Exit 0 whatever the numbers; 3 when the server does not start; 1 when signing in or the token
fails (the benchmark itself is broken then).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

# The benchmarks are scripts, not a package: `python benchmarks/server.py` puts this folder first
# on sys.path, so the scale generator is imported from its sibling rather than copied.
from assess_scale import ASSETS, NOW, SYSTEMS, build
from psycopg import sql
from sqlalchemy.engine import make_url

from custos.inventory.documents import split
from custos.server import accounts
from custos.server.assessment import MANIFEST_PATH, manifest_digest, reassess
from custos.server.auth.sessions import COOKIE_NAME as SESSION_COOKIE
from custos.server.context import AppContext
from custos.server.rbac import Binding, Principal, Role
from custos.server.settings import Settings
from custos.store import auth_store, inventory_store
from custos.store.store import Store

GOAL_DASHBOARD_P95_MS = 200.0
GOAL_API_RPS = 300.0
ADMIN = "bench-admin"
PASSWORD = secrets.token_urlsafe(18)  # a throwaway account on a throwaway database
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
API_PATHS = ("/api/v1/systems?limit=50", "/api/v1/findings?limit=50")
STARTUP_SECONDS = 60.0
REQUEST_TIMEOUT = 60.0  # seconds one request may take before it counts as an error
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


class ServerDidNotStart(Exception):
    pass


class BenchmarkBroken(Exception):
    """Signing in or the API token failed: nothing meaningful can be measured."""


# -- the data set ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSet:
    systems: int
    assets: int
    evidence: int
    findings: int  # findings carried by the stored evidence
    report_findings: int  # finding rows in the stored assessment (what /api/v1/findings lists)
    report_bytes: int  # the stored report's JSON, which the read routes load
    token: str  # the viewer API token's secret


def load(store: Store, project_dir: Path) -> DataSet:
    """Migrate, then store what a real server holds after `custos scan --push`: the inventory
    documents, a scan's evidence, the server's own assessment, an admin and a viewer token."""
    store.upgrade()
    manifest, evidence, _hashes = build(random.Random(7))
    # The evidence was collected at assess_scale.NOW; the server assesses at the real clock.
    settings = Settings(db_url=store.url, project_dir=project_dir)
    now = settings.clock()
    with auth_store.transaction(store) as conn:
        for doc in split(manifest, {}):
            inventory_store.put(conn, doc, source="manifest", now=now, actor="bench")
    store.save_scan(
        evidence,
        started_at=NOW,
        finished_at=NOW,
        manifest_path=MANIFEST_PATH,
        manifest_sha256=manifest_digest(manifest),
    )
    # The code path a push takes: the server re-derives the statuses from the evidence.
    run_id = reassess(AppContext(settings, store), "bench")
    assert run_id is not None, "the inventory did not assemble into a manifest"
    report = store.latest_report() or {}
    user_id = accounts.create_user(
        store, project_dir, username=ADMIN, password=PASSWORD,
        bindings=[Binding(Role.admin)], actor="bench", now=now,
    )  # fmt: skip
    admin = Principal(user_id, ADMIN, (Binding(Role.admin),), "session")
    token = accounts.create_token(
        store, project_dir, admin, name="bench viewer", role=Role.viewer, systems=[],
        expires_at=now + dt.timedelta(days=1), now=now,
    )  # fmt: skip
    return DataSet(
        systems=len(manifest.systems),
        assets=sum(len(s.assets) for s in manifest.systems),
        evidence=len(evidence),
        findings=sum(len(e.findings) for e in evidence),
        report_findings=len(report.get("findings") or []),
        report_bytes=len(json.dumps(report, separators=(",", ":"))),
        token=token.secret,
    )


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A fresh database on the local PostgreSQL, dropped afterwards (even on failure)."""
    name = f"custos_bench_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            # FORCE: a server killed after its grace period may leave a connection behind.
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# -- the server process ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    port: int
    pid: int
    log_path: Path
    host: str = "127.0.0.1"

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def cpu_seconds(self) -> float | None:
        """User + system CPU the server has used, its worker processes included (Linux
        /proc; None elsewhere). Tells whether the server or the client on the same machine
        is the bottleneck."""
        total = 0.0
        for pid in (self.pid, *_children(self.pid)):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                if pid == self.pid:
                    return None
                continue
            # After the command name: state is field 3, utime and stime are fields 14 and 15.
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def problems(self) -> collections.Counter[str]:
        """Warning and error events in the server's JSON log, by event (and path)."""
        seen: collections.Counter[str] = collections.Counter()
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError, AttributeError):
                event = json.loads(line)
                if event.get("level") in ("warning", "error", "critical"):
                    seen[f"{event.get('event')} {event.get('path', '')}".strip()] += 1
        return seen


def free_port() -> int:
    # Bound and released: another process could take it before uvicorn does, but on a quiet
    # loopback that is rare, and a failed bind shows up as "did not start" (exit 3).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def custos_command() -> list[str]:
    """The installed `custos` console script (what users run), else `python -m custos`."""
    script = Path(sys.executable).with_name("custos")
    return [str(script)] if script.exists() else [sys.executable, "-m", "custos"]


def _children(pid: int) -> list[int]:
    """The processes `pid` started (uvicorn's workers under `--workers`), from /proc."""
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found = []
        for task in tasks:
            text = (task / "children").read_text().split()
            found.extend(int(child) for child in text)
        return found
    except OSError:
        return []


@contextlib.contextmanager
def running_server(db_url: str, project_dir: Path, workers: int) -> Iterator[Server]:
    """`custos serve` in a child process until the block ends."""
    port = free_port()
    log_path = project_dir / "server.log"
    command = [*custos_command(), "serve", "--db", db_url, "--dir", str(project_dir),
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "CUSTOS_DATABASE_URL"}
    with log_path.open("wb") as log:
        # The JSON request log goes to a file: on a terminal it would cost the server time.
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            server = Server(port, process.pid, log_path)
            wait_healthy(process, server)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_healthy(process: subprocess.Popen[bytes], server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_path.read_text(errors="replace").strip().splitlines()[-1:]
            raise ServerDidNotStart(
                f"custos serve exited with {process.returncode}: {tail[0] if tail else ''}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise ServerDidNotStart(f"custos serve did not answer /healthz within {STARTUP_SECONDS:.0f} s")


# -- the load generator ---------------------------------------------------------------------------


@dataclass
class Load:
    """What one phase saw: latencies (seconds) of the 200 answers per path, and the rest."""

    by_path: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    first_error: str = ""
    sent: int = 0
    elapsed: float = 0.0
    server_cpu: float | None = None  # seconds of server CPU during the phase
    timed_out: bool = False  # the phase hit its time limit before sending every request

    @property
    def latencies(self) -> list[float]:
        return [s for samples in self.by_path.values() for s in samples]

    @property
    def done(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms_per_request(self) -> float | None:
        return self.server_cpu * 1000 / self.done if self.server_cpu and self.done else None

    def percentile_ms(self, p: int) -> float:
        samples = self.latencies
        if len(samples) < 2:
            return samples[0] * 1000 if samples else float("nan")
        return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] * 1000


class KeepAlive:
    """One HTTP/1.1 keep-alive connection that only sends GETs: the load generator.

    httpx's AsyncClient costs ~4 ms of client CPU per request here and tops out near 170
    requests/s against /healthz on this 2-core machine, below the 300/s goal, so it would
    measure itself. Writing the request and reading Content-Length or chunked bodies by hand
    costs a fraction of that. httpx still does the sign-in and the checks before each phase.
    """

    def __init__(self, server: Server, headers: dict[str, str]) -> None:
        lines = [f"Host: {server.host}:{server.port}", "Accept: */*"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._head = "\r\n".join(lines).encode() + b"\r\n\r\n"
        self._server = server
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> int:
        """The answer's status; the body is read (and dropped) so the connection can be reused.
        Raises OSError or asyncio.IncompleteReadError when the connection breaks."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._server.host, self._server.port)
        reader, writer = self._streams
        writer.write(f"GET {path} HTTP/1.1\r\n".encode() + self._head)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:] if line)
        }
        if "content-length" in fields:
            await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(size + 2)  # the chunk and its CRLF
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the end
                pass
        else:
            await reader.read()  # no length: the body ends with the connection
            self.close()
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def hammer(
    server: Server,
    headers: dict[str, str],
    paths: Sequence[str],
    total: int,
    concurrency: int,
    time_limit: float,
) -> Load:
    """Send `total` GETs cycling through `paths` from `concurrency` workers, each on its own
    keep-alive connection; stop sending at `time_limit` seconds (requests in flight finish)."""
    result = Load()
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    deadline = started + time_limit

    async def worker() -> None:
        connection = KeepAlive(server, headers)
        try:
            while result.sent < total:
                if time.perf_counter() >= deadline:
                    result.timed_out = True
                    return
                path = paths[result.sent % len(paths)]
                result.sent += 1  # one event loop thread: nothing runs between check and this
                t0 = time.perf_counter()
                try:
                    status = await asyncio.wait_for(connection.get(path), REQUEST_TIMEOUT)
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                    connection.close()  # the next request reconnects
                    result.errors += 1
                    result.first_error = result.first_error or f"{path}: {type(exc).__name__}"
                    continue
                spent = time.perf_counter() - t0
                if status != 200:
                    result.errors += 1
                    result.first_error = result.first_error or f"{path}: HTTP {status}"
                    continue
                result.by_path.setdefault(path, []).append(spent)
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - started
    cpu_after = server.cpu_seconds()
    if cpu_before is not None and cpu_after is not None:
        result.server_cpu = cpu_after - cpu_before
    return result


def _client(base: str, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, headers=headers)


async def sign_in(client: httpx.AsyncClient) -> str:
    """The login form as a browser sends it (the double-submit CSRF cookie and form field);
    the session cookie's value."""
    form = await client.get("/login")
    found = _CSRF_FIELD.search(form.text)
    if form.status_code != 200 or found is None:
        raise BenchmarkBroken(f"GET /login answered {form.status_code} without a csrf_token")
    answer = await client.post(
        "/login",
        data={"username": ADMIN, "password": PASSWORD, "csrf_token": found.group(1), "next": "/"},
    )
    session = client.cookies.get(SESSION_COOKIE)
    if answer.status_code != 303 or session is None:
        raise BenchmarkBroken(f"signing in answered {answer.status_code}, not 303 and a session")
    return session


@dataclass(frozen=True)
class DashboardRun:
    is_dashboard: bool  # False while `/` is not the dashboard page yet
    first_ms: float  # the first request after start-up (cold caches)
    page_bytes: int
    serial: Load  # one request at a time: the service time alone
    loaded: Load  # at the client concurrency


async def measure_dashboard(
    server: Server, requests: int, concurrency: int, time_limit: float
) -> DashboardRun:
    async with _client(server.base) as client:
        session = await sign_in(client)
        t0 = time.perf_counter()
        first = await client.get("/")
        first_ms = (time.perf_counter() - t0) * 1000
        if first.status_code != 200:
            raise BenchmarkBroken(f"GET / answered {first.status_code} after signing in")
        title = re.search(r"<title>([^<]*)</title>", first.text)
        is_dashboard = title is not None and "Dashboard" in title.group(1)
    # One session shared by every worker, like one user's browser tabs.
    cookie = {"Cookie": f"{SESSION_COOKIE}={session}"}
    serial = await hammer(server, cookie, ["/"], max(10, requests // 10), 1, time_limit / 4)
    loaded = await hammer(server, cookie, ["/"], requests, concurrency, time_limit)
    return DashboardRun(is_dashboard, first_ms, len(first.content), serial, loaded)


@dataclass(frozen=True)
class ApiRun:
    ceiling: Load  # GET /healthz: what this client and the bare server stack manage
    mixed: Load  # both lists interleaved: the goal
    alone: dict[str, Load]  # each list on its own, to see which one costs the time


async def measure_api(
    server: Server, token: str, requests: int, concurrency: int, time_limit: float
) -> ApiRun:
    bearer = {"Authorization": f"Bearer {token}"}
    async with _client(server.base, bearer) as client:
        for path in API_PATHS:  # warm each route; fails fast on a token the server refuses
            answer = await client.get(path)
            if answer.status_code != 200:
                raise BenchmarkBroken(f"GET {path} answered {answer.status_code} with the token")
    short = max(50, requests // 3), concurrency, time_limit / 4
    ceiling = await hammer(server, {}, ["/healthz"], *short)
    mixed = await hammer(server, bearer, API_PATHS, requests, concurrency, time_limit)
    alone = {path: await hammer(server, bearer, [path], *short) for path in API_PATHS}
    return ApiRun(ceiling, mixed, alone)


# -- the report -----------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def print_report(
    data: DataSet, database: str, concurrency: int, dash: DashboardRun, api: ApiRun
) -> None:
    print(
        f"data set: {data.systems} systems x {data.assets // max(data.systems, 1)} assets, "
        f"{data.evidence:,} evidence records with {data.findings:,} findings; stored "
        f"assessment: {data.report_findings:,} finding rows, report JSON "
        f"{data.report_bytes / 1e6:.1f} MB"
    )
    print(
        f"database: {database}; client: {concurrency} workers on loopback, one HTTP/1.1 "
        "keep-alive connection each"
    )
    if not dash.is_dashboard:
        print("note: `/` is not the dashboard page yet (its title says otherwise); measured as is")
    serial, loaded, mixed = dash.serial, dash.loaded, api.mixed
    c = f"x{concurrency}"
    p95 = loaded.percentile_ms(95)
    rows = [
        ("dashboard first request (cold)", f"{dash.first_ms:.0f} ms", "-", "-"),
        ("dashboard p50, 1 client", _ms(serial.percentile_ms(50)), "-", "-"),
        (f"dashboard p50, {c}", _ms(loaded.percentile_ms(50)), "-", "-"),
        (f"dashboard p95, {c}", _ms(p95), f"<= {GOAL_DASHBOARD_P95_MS:.0f} ms",
         _met(p95 <= GOAL_DASHBOARD_P95_MS)),
        (f"dashboard p99, {c}", _ms(loaded.percentile_ms(99)), "-", "-"),
        (f"dashboard requests/s, {c}", f"{loaded.rate:.1f}", "-", "-"),
        ("dashboard errors", str(serial.errors + loaded.errors), "0",
         _met(serial.errors + loaded.errors == 0)),
        (f"API lists requests/s, {c}", f"{mixed.rate:.1f}", f">= {GOAL_API_RPS:.0f}",
         _met(mixed.rate >= GOAL_API_RPS)),
        ("API lists errors", str(mixed.errors), "0", _met(mixed.errors == 0)),
    ]  # fmt: skip
    for path, alone in api.alone.items():
        short = path.removeprefix("/api/v1")
        rows.append((f"  {short} alone, requests/s", f"{alone.rate:.1f}", "-", "-"))
        rows.append((f"  {short} alone, p50", _ms(alone.percentile_ms(50)), "-", "-"))
    # No database, no auth: the most this client and the bare middleware stack manage.
    rows.append(("  /healthz alone, requests/s", f"{api.ceiling.rate:.1f}", "-", "-"))
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'measure':<{width}}{'Custos':>11}{'goal':>12}{'met?':>6}")
    for label, value, goal, met in rows:
        print(f"{label:<{width}}{value:>11}{goal:>12}{met:>6}")
    phases = [("dashboard 1 client", serial), (f"dashboard {c}", loaded), (f"API {c}", mixed)]
    phases += [(f"{p.removeprefix('/api/v1')} alone", x) for p, x in api.alone.items()]
    phases.append(("/healthz", api.ceiling))
    for name, phase in phases:
        cpu = phase.cpu_ms_per_request
        print(
            f"{name}: {phase.done:,} of {phase.sent:,} sent in {phase.elapsed:.1f} s"
            + (f", server CPU {cpu:.1f} ms/request" if cpu is not None else "")
            + (" (stopped at the time limit)" if phase.timed_out else "")
            + (f"; first error {phase.first_error}" if phase.first_error else "")
        )
    print(f"dashboard page: {dash.page_bytes / 1e3:.0f} kB")


# -- main -----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", metavar="URL", help="database URL (default: a temporary SQLite)")
    where.add_argument(
        "--postgres", action="store_true",
        help="a throwaway database on the PostgreSQL at 127.0.0.1:5432, dropped afterwards",
    )  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=2,
        help="server processes (`custos serve --workers`); one per core on this 2-core machine",
    )  # fmt: skip
    parser.add_argument("--dashboard-requests", type=int, default=300)
    parser.add_argument("--api-requests", type=int, default=3000)
    parser.add_argument(
        "--time-limit", type=float, default=60.0,
        help="seconds the main phases may send for (the short ones get a quarter)",
    )  # fmt: skip
    return parser.parse_args(argv)


def run(args: argparse.Namespace, db_url: str, project_dir: Path) -> int:
    print(f"loading {SYSTEMS} systems x {ASSETS} assets into the database ...", flush=True)
    with Store.open(db_url, project_dir, environ={}) as store:
        data = load(store, project_dir)
        sqlite = store.url.startswith("sqlite")
        database = f"SQLite {store.describe()}" if sqlite else f"PostgreSQL {store.url}"
    try:
        with running_server(db_url, project_dir, args.workers) as server:
            print(f"custos serve at {server.base}; measuring ...", flush=True)
            dash = asyncio.run(
                measure_dashboard(
                    server, args.dashboard_requests, args.concurrency, args.time_limit
                )
            )
            api = asyncio.run(
                measure_api(
                    server, data.token, args.api_requests, args.concurrency, args.time_limit
                )
            )
            problems = server.problems()
    except ServerDidNotStart as exc:
        print(f"benchmarks/server.py: {exc}", file=sys.stderr)
        return 3
    except BenchmarkBroken as exc:
        print(f"benchmarks/server.py: {exc}", file=sys.stderr)
        return 1
    print_report(data, database, args.concurrency, dash, api)
    if problems:
        shown = ", ".join(f"{what} x{n}" for what, n in problems.most_common(5))
        print(f"server log warnings/errors: {shown}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="custos-bench-server-") as tmp:
        project_dir = Path(tmp)  # the SQLite file, the ledger key and the server log
        if args.postgres:
            with throwaway_postgres() as url:
                return run(args, url, project_dir)
        return run(args, args.db or f"sqlite:///{project_dir / 'custos.db'}", project_dir)


if __name__ == "__main__":
    sys.exit(main())

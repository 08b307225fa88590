"""Benchmark: the Custos server as a sceptical user meets it, right after a CI push and later.

For each database (SQLite, PostgreSQL) and estate size (100 and 1,000 AI systems x 10 assets x
10 checks, the organisation of `assess_scale.py`), it:

1. migrates a fresh database and makes an admin (who signs in through the login form), an
   auditor API token (the reader) and a security-officer API token (the CI pusher), and
   registers the CI project's ledger key for every system, so pushed evidence is verified;
2. starts `custos serve --workers 2` in its own process (the load generator does not share
   its GIL) and pushes a scan the way `custos scan --push` does: a CI project directory with
   custos.yaml, its own store and ledger, the evidence appended to that ledger, and the
   payload of `custos.push.scan_payload` (entries, inclusion proofs, a signed checkpoint)
   posted by `custos.push.send`;
3. drives it from 16 concurrent keep-alive clients over loopback with a weighted mix of what
   users open: the dashboard, findings (web and API, several pages), control detail (web and
   API), gaps and roadmap pages, the SoA (web and API) and a report download: first steady
   state (after one warm-up request per URL), then a second push and, at once, the first
   requests after it (cold caches: a new assessment to decode and derive in each process).

Reports p50/p95/p99 and requests/s per route and overall, and every error (a non-2xx answer
or an exception: the goal is 0, and each is printed). Goals (issue 14): p95 <= 100 ms at 100
systems and <= 250 ms at 1,000, steady and cold, on each database.

Run: `.venv/bin/python benchmarks/server.py [--quick] [--json] [--db sqlite|postgres|URL]...
[--systems N]...` (or `make bench-server`). `--json` prints one object (benchmarks/figures.py)
on stdout and the progress on stderr. Exit 0 whatever the numbers; 3 when the server does not
start; 1 when the benchmark itself is broken (signing in, a token or a push fails).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import json
import math
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
from typing import Any
from urllib.parse import quote

# The benchmarks are scripts, not a package: `python benchmarks/server.py` puts this folder first
# on sys.path, so the scale generator and the report shape come from their siblings.
import assess_scale
import httpx
import psycopg
import yaml
from figures import Figure, at_most, compile_custos, emit, log, report
from psycopg import sql
from sqlalchemy.engine import make_url

from custos import ledger_records as records
from custos.catalog.loader import load_catalog
from custos.checks.model import Evidence
from custos.errors import CustosError
from custos.inventory.load import load_manifest
from custos.inventory.schema import Manifest
from custos.ledger.checkpoint import verifier_of
from custos.push import scan_payload, send
from custos.server import accounts
from custos.server.auth.sessions import COOKIE_NAME as SESSION_COOKIE
from custos.server.rbac import Binding, Principal, Role
from custos.store import auth_store, ledger_keys
from custos.store.ledger_key import load_signer
from custos.store.store import Store
from custos.workspace import Workspace, ledger_write

# p95 goals by estate size (issue 14); other sizes (--quick, --systems) have none.
GOAL_P95_MS = {100: 100.0, 1000: 250.0}
ADMIN = "bench-admin"
PASSWORD = secrets.token_urlsafe(18)  # a throwaway account on a throwaway database
PG_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
VALIDITY = dt.timedelta(days=90)  # what the synthetic checks' evidence is valid for
PAGE = 50  # rows per page, on the web pages (views.PER_PAGE) and as the API limit asked for
PAGES_VISITED = 5  # a user pages forward a few times, and sometimes jumps to the last page
CONTROLS_VISITED = 8
STARTUP_SECONDS = 60.0
REQUEST_TIMEOUT = 60.0  # seconds one request may take before it counts as an error
ERRORS_SHOWN = 10
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


_STARTED = time.monotonic()


def say(message: str) -> None:
    """Progress on stderr, with the seconds since the start: where a long run spends them."""
    log(f"{time.monotonic() - _STARTED:7.1f} s  {message}")


class ServerDidNotStart(Exception):
    pass


class BenchmarkBroken(Exception):
    """Signing in, a token or a push failed: nothing meaningful can be measured."""


# -- the estate and the CI project that pushes it -------------------------------------------------


def estate(systems: int) -> tuple[Manifest, list[Evidence]]:
    """`systems` systems of assess_scale's organisation (the same one both benchmarks
    measure), with its evidence."""
    manifest, evidence, _hashes = assess_scale.build(random.Random(7), systems)
    return manifest, evidence


class CiProject:
    """The CI side of `custos scan --push`: a project directory holding custos.yaml, its own
    SQLite store and its own ledger key."""

    def __init__(self, root: Path, manifest: Manifest) -> None:
        root.mkdir(parents=True)
        body = manifest.model_dump(mode="json", exclude_none=True)
        (root / "custos.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
        catalog = load_catalog(include_user=False)
        store = Store.open(f"sqlite:///{root / 'ci.db'}", root, environ={})
        store.upgrade()
        self.ws = Workspace(catalog, load_manifest(root, catalog), store)

    def verifier(self) -> str:
        """The key a server checks this project's pushes against (`custos ledger key`)."""
        return verifier_of(load_signer(self.ws.base_dir, create=True))

    def scan_payload(self, evidence: Sequence[Evidence]) -> dict[str, Any]:
        """A new scan's push payload. The checks are synthetic (their targets are made up), so
        their evidence is dated now and kept as `workspace.scan_recorded` keeps a real scan's:
        stored with its entries appended to the local ledger, whose indexes the payload
        proves."""
        started = dt.datetime.now(dt.UTC).replace(microsecond=0)
        fresh = [
            dataclasses.replace(e, collected_at=started, expires_at=started + VALIDITY)
            for e in evidence
        ]
        writer = ledger_write(
            self.ws.base_dir,
            lambda run: records.evidence_entries(run, fresh, started, "bench-ci"),
        )
        self.ws.store.save_scan(
            fresh, started_at=started, finished_at=started, manifest_path=str(self.ws.loaded.path),
            manifest_sha256=self.ws.manifest_sha256, ledger_write=writer,
        )  # fmt: skip
        first = writer.appended[0].first
        return scan_payload(self.ws, fresh, started, started, range(first, first + len(fresh)))

    def close(self) -> None:
        self.ws.store.close()


# -- the server's database ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tokens:
    reader: str  # an auditor's API token: reads everything and downloads reports
    pusher: str  # a security officer's API token: what CI pushes with


def prepare(store: Store, project_dir: Path, verifier: str, systems: Sequence[str]) -> Tokens:
    """Migrate; the admin who signs in on the web, the two API tokens, and the CI project's
    ledger key for every system (governance an admin does once, before the first push)."""
    store.upgrade()
    now = dt.datetime.now(dt.UTC)
    user_id = accounts.create_user(
        store, project_dir, username=ADMIN, password=PASSWORD,
        bindings=[Binding(Role.admin)], actor="bench", now=now,
    )  # fmt: skip
    admin = Principal(user_id, ADMIN, (Binding(Role.admin),), "session")

    def token(name: str, role: Role) -> str:
        made = accounts.create_token(
            store, project_dir, admin, name=name, role=role, systems=[],
            expires_at=now + dt.timedelta(days=1), now=now,
        )  # fmt: skip
        return made.secret

    tokens = Tokens(token("bench reader", Role.auditor), token("bench CI", Role.security_officer))
    with auth_store.transaction(store) as conn:
        for system in systems:
            ledger_keys.add(conn, system, verifier, "bench CI", ADMIN, now)
    return tokens


def database_name(url: str) -> str:
    return "SQLite" if url.startswith("sqlite") else "PostgreSQL"


@contextlib.contextmanager
def throwaway_postgres(server_url: str) -> Iterator[str]:
    """A fresh database on the PostgreSQL server of `server_url`, dropped afterwards (even on
    failure)."""
    name = f"custos_bench_{secrets.token_hex(6)}"
    libpq = make_url(server_url).set(drivername="postgresql")
    dsn = libpq.render_as_string(hide_password=False)
    try:
        connection = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        where = libpq.render_as_string()  # the password hidden
        raise BenchmarkBroken(f"cannot reach PostgreSQL at {where}: {exc}") from None
    with connection as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            # FORCE: a server killed after its grace period may leave a connection behind.
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextlib.contextmanager
def fresh_database(spec: str, systems: int, tmp: Path) -> Iterator[str]:
    """An empty database for one run. `sqlite`: a new file in `tmp`; `postgres`: a throwaway
    database on 127.0.0.1:5432; a `postgresql://` URL: a throwaway database on that server; a
    `sqlite:///` URL: that file with `-<systems>` added to its name, kept afterwards."""
    if spec == "sqlite":
        yield f"sqlite:///{tmp / 'server.db'}"
    elif spec in ("postgres", "postgresql"):
        with throwaway_postgres(PG_SERVER_URL) as url:
            yield url
    elif spec.startswith("sqlite"):
        path = Path(make_url(spec).database or "custos-bench.db")
        path = path.with_name(f"{path.stem}-{systems}{path.suffix}")
        if path.exists():
            raise BenchmarkBroken(f"{path} exists; the benchmark needs an empty database")
        yield f"sqlite:///{path}"
    else:
        with throwaway_postgres(spec) as url:
            yield url


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
        found: list[int] = []
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
    with log_path.open("wb") as server_log:
        # The JSON request log goes to a file: on a terminal it would cost the server time.
        process = subprocess.Popen(command, stdout=server_log, stderr=subprocess.STDOUT, env=env)
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


# -- what users open ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    auth: str  # "web": the signed-in session cookie; "api": the reader's bearer token
    weight: int  # requests of this route per round of the mix
    paths: tuple[str, ...]  # visited in turn (pages, controls)


@dataclass(frozen=True)
class Call:
    route: str
    auth: str
    path: str


@dataclass(frozen=True)
class Sizes:
    """What the first push produced, read through the API before the load starts."""

    controls: tuple[str, ...]  # SoA control ids, spread over the catalog
    findings: int
    gaps: int
    roadmap: int


def pages(total: int) -> list[int]:
    """The 1-based pages a user visits: the first few, and the last."""
    last = max(1, math.ceil(total / PAGE))
    return sorted({*range(1, min(PAGES_VISITED, last) + 1), last})


def routes(sizes: Sizes, report_format: str) -> list[Route]:
    """The mix. Weights follow a working session: the dashboard and the findings most, a
    report download about once in twenty requests (it assesses and renders the whole estate,
    so a heavier share would only measure that)."""
    controls = [quote(c, safe=":") for c in sizes.controls]
    findings = pages(sizes.findings)
    api_pages = [f"limit={PAGE}&offset={(p - 1) * PAGE}" for p in findings]
    return [
        Route("dashboard", "web", 4, ("/",)),
        Route("findings page", "web", 3, tuple(f"/findings?page={p}" for p in findings)),
        Route("findings API", "api", 3, tuple(f"/api/v1/findings?{q}" for q in api_pages)),
        Route("control page", "web", 2, tuple(f"/controls/{c}" for c in controls)),
        Route("control API", "api", 2, tuple(f"/api/v1/controls/{c}" for c in controls)),
        Route("gaps API", "api", 2, tuple(
            f"/api/v1/gaps?limit={PAGE}&offset={(p - 1) * PAGE}" for p in pages(sizes.gaps)
        )),
        Route("roadmap page", "web", 2, tuple(f"/roadmap?page={p}" for p in pages(sizes.roadmap))),
        Route("SoA page", "web", 1, ("/soa",)),
        Route("SoA API", "api", 1, ("/api/v1/soa",)),
        Route("report download", "api", 1, (f"/api/v1/reports/{report_format}",)),
    ]  # fmt: skip


def mix(chosen: Sequence[Route], total: int, rng: random.Random) -> list[Call]:
    """`total` calls in the routes' proportions, shuffled; each route walks its paths."""
    rounds = [route for route in chosen for _ in range(route.weight)]
    picks = [rounds[i % len(rounds)] for i in range(total)]
    rng.shuffle(picks)
    seen: collections.Counter[str] = collections.Counter()
    calls = []
    for route in picks:
        calls.append(Call(route.name, route.auth, route.paths[seen[route.name] % len(route.paths)]))
        seen[route.name] += 1
    return calls


def every_path(chosen: Sequence[Route]) -> list[Call]:
    return [Call(r.name, r.auth, path) for r in chosen for path in r.paths]


def cold_plan(chosen: Sequence[Route], total: int, rng: random.Random) -> list[Call]:
    """The first requests after a push: every route once at the start (so each one's cold
    cost lands while the others are in flight), then the mix."""
    first = [Call(r.name, r.auth, r.paths[0]) for r in chosen]
    return first + mix(chosen, max(0, total - len(first)), rng)


# -- the load generator ---------------------------------------------------------------------------


@dataclass
class Load:
    """What one phase saw: latencies (seconds) of the 2xx answers per route, and the rest."""

    by_route: dict[str, list[float]] = field(default_factory=dict)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    errors_by_route: collections.Counter[str] = field(default_factory=collections.Counter)
    bytes_by_route: collections.Counter[str] = field(default_factory=collections.Counter)
    sent: int = 0
    elapsed: float = 0.0
    server_cpu: float | None = None  # seconds of server CPU during the phase
    timed_out: bool = False  # the phase hit its time limit before sending every request

    def failed(self, call: Call, what: str) -> None:
        self.errors[f"{call.route}: GET {call.path}: {what}"] += 1
        self.errors_by_route[call.route] += 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def latencies(self) -> list[float]:
        return [s for samples in self.by_route.values() for s in samples]

    @property
    def done(self) -> int:
        return len(self.latencies) + self.error_count

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms_per_request(self) -> float | None:
        return self.server_cpu * 1000 / self.done if self.server_cpu and self.done else None


def percentile_ms(samples: Sequence[float], p: int) -> float | None:
    if not samples:
        return None
    if len(samples) < 2:
        return samples[0] * 1000
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] * 1000


class KeepAlive:
    """One HTTP/1.1 keep-alive connection that only sends GETs: one client.

    httpx's AsyncClient costs ~4 ms of client CPU per request here and tops out near 170
    requests/s against /healthz on this 2-core machine, so it would measure itself. Writing
    the request and reading Content-Length or chunked bodies by hand costs a fraction of that.
    httpx still does the sign-in, the pushes and the look-ups before the load.
    """

    def __init__(self, server: Server) -> None:
        self._host = f"Host: {server.host}:{server.port}\r\nAccept: */*\r\n".encode()
        self._server = server
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str, headers: bytes) -> tuple[int, int]:
        """The answer's status and body size; the body is read (and dropped) so the
        connection can be reused. Raises OSError or asyncio.IncompleteReadError when the
        connection breaks."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._server.host, self._server.port)
        reader, writer = self._streams
        writer.write(f"GET {path} HTTP/1.1\r\n".encode() + self._host + headers + b"\r\n")
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:] if line)
        }
        size = await self._body(reader, fields)
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, size

    async def _body(self, reader: asyncio.StreamReader, fields: dict[str, str]) -> int:
        if "content-length" in fields:
            return len(await reader.readexactly(int(fields["content-length"])))
        if fields.get("transfer-encoding", "").lower() == "chunked":
            size = 0
            while chunk := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(chunk + 2)  # the chunk and its CRLF
                size += chunk
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the end
                pass
            return size
        body = await reader.read()  # no length: the body ends with the connection
        self.close()
        return len(body)

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def hammer(
    server: Server, headers: dict[str, bytes], plan: Sequence[Call], clients: int,
    time_limit: float,
) -> Load:  # fmt: skip
    """Send the plan's calls in order from `clients` workers, each on its own keep-alive
    connection; stop sending at `time_limit` seconds (requests in flight finish)."""
    result = Load()
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    deadline = started + time_limit

    async def worker() -> None:
        connection = KeepAlive(server)
        try:
            while result.sent < len(plan):
                if time.perf_counter() >= deadline:
                    result.timed_out = True
                    return
                call = plan[result.sent]
                result.sent += 1  # one event loop thread: nothing runs between check and this
                await one(connection, call)
        finally:
            connection.close()

    async def one(connection: KeepAlive, call: Call) -> None:
        t0 = time.perf_counter()
        try:
            get = connection.get(call.path, headers[call.auth])
            status, size = await asyncio.wait_for(get, REQUEST_TIMEOUT)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ValueError) as exc:  # fmt: skip
            connection.close()  # the next request reconnects
            result.failed(call, type(exc).__name__)
            return
        spent = time.perf_counter() - t0
        if not 200 <= status < 300:
            result.failed(call, f"HTTP {status}")
            return
        result.by_route.setdefault(call.route, []).append(spent)
        result.bytes_by_route[call.route] += size

    await asyncio.gather(*(worker() for _ in range(clients)))
    result.elapsed = time.perf_counter() - started
    cpu_after = server.cpu_seconds()
    if cpu_before is not None and cpu_after is not None:
        result.server_cpu = cpu_after - cpu_before
    return result


def sign_in(base: str) -> str:
    """The login form as a browser sends it (the double-submit CSRF cookie and form field);
    the session cookie's value."""
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT) as client:
        form = client.get("/login")
        found = _CSRF_FIELD.search(form.text)
        if form.status_code != 200 or found is None:
            raise BenchmarkBroken(f"GET /login answered {form.status_code} without a csrf_token")
        answer = client.post(
            "/login",
            data={"username": ADMIN, "password": PASSWORD, "csrf_token": found.group(1),
                  "next": "/"},
        )  # fmt: skip
        session = client.cookies.get(SESSION_COOKIE)
    if answer.status_code != 303 or session is None:
        raise BenchmarkBroken(f"signing in answered {answer.status_code}, not 303 and a session")
    return session


def look_up(base: str, token: str) -> Sizes:
    """The controls to open and how many findings, gaps and roadmap items there are to page
    through, as a client would learn them: from the API."""
    with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT,
                      headers={"Authorization": f"Bearer {token}"}) as client:  # fmt: skip

        def get(path: str) -> dict[str, Any]:
            answer = client.get(path)
            if answer.status_code != 200:
                raise BenchmarkBroken(f"GET {path} answered {answer.status_code}: {answer.text}")
            body: dict[str, Any] = answer.json()
            return body

        soa = [line["control"] for line in get("/api/v1/soa?limit=500")["items"]]
        step = max(1, len(soa) // CONTROLS_VISITED)
        return Sizes(
            controls=tuple(soa[::step][:CONTROLS_VISITED]),
            findings=get("/api/v1/findings?limit=1")["total"],
            gaps=get("/api/v1/gaps?limit=1")["total"],
            roadmap=get("/api/v1/roadmap?limit=1")["total"],
        )


def push(base: str, token: str, payload: dict[str, Any]) -> float:
    """`custos scan --push`'s request (custos.push.send); its seconds. The whole estate goes
    in one push, which at 1,000 systems takes longer than push's default 120 s timeout."""
    os.environ.setdefault("CUSTOS_PUSH_TIMEOUT", "900")
    t0 = time.perf_counter()
    try:
        answer = send(base, "scan", payload, token)
    except CustosError as exc:  # UserError included: the server refused the push
        raise BenchmarkBroken(f"the push failed: {exc}") from None
    if answer.get("claimed"):
        raise BenchmarkBroken(f"the push was only claimed, not verified: {answer['claimed']}")
    return time.perf_counter() - t0


# -- one run: a database and an estate size -------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    systems: int
    clients: int
    workers: int
    requests: int  # steady state
    cold_requests: int
    time_limit: float
    report_format: str


@dataclass
class Run:
    database: str
    plan: Plan
    evidence: int
    findings: int
    push_seconds: list[float]
    warm_up: Load
    steady: Load
    cold: Load
    problems: collections.Counter[str]

    @property
    def error_count(self) -> int:
        return sum(p.error_count for p in (self.warm_up, self.steady, self.cold))


def run_one(spec: str, plan: Plan, tmp: Path) -> Run:
    shown = make_url(spec).render_as_string() if "://" in spec else spec  # no password
    say(f"-- {plan.systems:,} systems, database {shown}")
    manifest, evidence = estate(plan.systems)
    ci = CiProject(tmp / "ci", manifest)
    server_dir = tmp / "server"
    server_dir.mkdir()
    try:
        with fresh_database(spec, plan.systems, server_dir) as url:
            with Store.open(url, server_dir, environ={}) as store:
                tokens = prepare(store, server_dir, ci.verifier(), [s.id for s in manifest.systems])
            return measure(url, plan, server_dir, ci, evidence, tokens)
    finally:
        ci.close()


def measure(
    url: str, plan: Plan, server_dir: Path, ci: CiProject, evidence: list[Evidence],
    tokens: Tokens,
) -> Run:  # fmt: skip
    rng = random.Random(14)
    say(f"signing {len(evidence):,} evidence records into the CI project's ledger ...")
    payload = ci.scan_payload(evidence)
    with running_server(url, server_dir, plan.workers) as server:
        say(f"custos serve at {server.base}; pushing the first scan ...")
        pushes = [push(server.base, tokens.pusher, payload)]
        headers = auth_headers(server.base, tokens)
        chosen = routes(look_up(server.base, tokens.reader), plan.report_format)
        warm_up, steady = steady_state(server, headers, chosen, plan, rng)
        say("a second scan, pushed; then at once the first requests after it ...")
        payload = ci.scan_payload(evidence)  # signed before the push: nothing runs in between
        pushes.append(push(server.base, tokens.pusher, payload))
        first = cold_plan(chosen, plan.cold_requests, rng)
        cold = asyncio.run(hammer(server, headers, first, plan.clients, plan.time_limit))
        problems = server.problems()
    findings = sum(len(e.findings) for e in evidence)
    return Run(database_name(url), plan, len(evidence), findings, pushes, warm_up, steady, cold,
               problems)  # fmt: skip


def auth_headers(base: str, tokens: Tokens) -> dict[str, bytes]:
    """The header each kind of route is sent with: web pages as a signed-in browser (one
    session shared by every client, like one user's tabs), the API with the reader's token."""
    return {
        "web": f"Cookie: {SESSION_COOKIE}={sign_in(base)}\r\n".encode(),
        "api": f"Authorization: Bearer {tokens.reader}\r\n".encode(),
    }


def steady_state(
    server: Server, headers: dict[str, bytes], chosen: Sequence[Route], plan: Plan,
    rng: random.Random,
) -> tuple[Load, Load]:  # fmt: skip
    """Each URL once from one client (each route's service time, and every cache filled),
    then the mix from every client."""
    say(f"warm-up: each of {len(every_path(chosen))} URLs once ...")
    warm_up = asyncio.run(hammer(server, headers, every_path(chosen), 1, plan.time_limit))
    say(f"steady state: {plan.requests:,} requests from {plan.clients} clients ...")
    calls = mix(chosen, plan.requests, rng)
    return warm_up, asyncio.run(hammer(server, headers, calls, plan.clients, plan.time_limit))


# -- the report -----------------------------------------------------------------------------------


def route_stats(load: Load) -> dict[str, dict[str, Any]]:
    """p50/p95/p99 (ms), requests/s (of the phase's wall time), errors and mean size per
    route, and "overall"."""
    names = sorted({*load.by_route, *load.errors_by_route})
    stats = {name: _stats(load, load.by_route.get(name, []), name) for name in names}
    stats["overall"] = _stats(load, load.latencies, None)
    return stats


def _stats(load: Load, samples: list[float], name: str | None) -> dict[str, Any]:
    errors = load.errors_by_route[name] if name else load.error_count
    size = load.bytes_by_route[name] if name else sum(load.bytes_by_route.values())
    return {
        "requests": len(samples) + errors,
        "errors": errors,
        "p50_ms": percentile_ms(samples, 50),
        "p95_ms": percentile_ms(samples, 95),
        "p99_ms": percentile_ms(samples, 99),
        "requests_per_s": (len(samples) + errors) / load.elapsed if load.elapsed else None,
        "mean_kb": size / len(samples) / 1e3 if samples else None,
    }


def run_figures(run: Run) -> list[Figure]:
    where = (
        f"{run.plan.clients} clients, mixed routes, {run.plan.systems:,} systems, {run.database}"
    )
    goal_ms = GOAL_P95_MS.get(run.plan.systems)
    if goal_ms is None:  # goals are set for other sizes: say which, measure nothing against them
        goal = ", ".join(f"<= {g:.0f} ms at {n:,} systems" for n, g in GOAL_P95_MS.items())
    else:
        goal = f"<= {goal_ms:.0f} ms"
    out = []
    for label, load in (("server p95", run.steady), ("server p95 after a push (cold)", run.cold)):
        p95 = percentile_ms(load.latencies, 95)
        met = at_most(p95, goal_ms) if goal_ms is not None else None
        out.append(Figure(f"{label}, {where}", p95, "ms", goal=goal, met=met))
    out.append(Figure(f"server requests/s, {where}", run.steady.rate, "requests/s"))
    return out


def all_figures(runs: Sequence[Run]) -> list[Figure]:
    figures = [f for run in runs for f in run_figures(run)]
    errors = sum(run.error_count for run in runs)
    figures.append(
        Figure("errors (non-2xx or exception), every request of every run", errors, "requests",
               goal="0", met=errors == 0)
    )  # fmt: skip
    return figures


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_run(run: Run) -> None:
    plan = run.plan
    print(
        f"\n== {run.database}, {plan.systems:,} systems x {assess_scale.ASSETS} assets: "
        f"{run.evidence:,} evidence records, {run.findings:,} findings; {plan.clients} "
        f"clients, {plan.workers} server processes; pushes "
        + ", ".join(f"{s:.1f} s" for s in run.push_seconds)
    )
    phases = (
        # One request at a time: each route's service time, without queueing behind others.
        ("one client, each URL once (warm-up)", run.warm_up),
        (f"steady state, {plan.clients} clients", run.steady),
        (f"first requests after a push, {plan.clients} clients", run.cold),
    )
    for name, load in phases:
        cpu = load.cpu_ms_per_request
        print(
            f"{name}: {load.done:,} of {load.sent:,} sent in {load.elapsed:.1f} s"
            + (f", server CPU {cpu:.1f} ms/request" if cpu is not None else "")
            + (" (stopped at the time limit)" if load.timed_out else "")
        )
        print(
            f"  {'route':<18}{'n':>6}{'err':>5}{'p50':>8}{'p95':>8}{'p99':>8}{'req/s':>8}{'kB':>9}"
        )
        for route, s in route_stats(load).items():
            print(
                f"  {route:<18}{s['requests']:>6}{s['errors']:>5}{_ms(s['p50_ms']):>8}"
                f"{_ms(s['p95_ms']):>8}{_ms(s['p99_ms']):>8}{s['requests_per_s']:>8.1f}"
                f"{_ms(s['mean_kb']):>9}"
            )
    if run.problems:
        shown = ", ".join(f"{what} x{n}" for what, n in run.problems.most_common(5))
        print(f"server log warnings/errors: {shown}")


def print_figures(figures: Sequence[Figure]) -> None:
    print()
    width = max(len(f.figure) for f in figures) + 2
    goals = max(len(f.goal) for f in figures) + 2
    print(f"{'figure':<{width}}{'Custos':>10}  {'goal':<{goals}}met?")
    for f in figures:
        value = "-" if f.custos is None else f"{f.custos:.1f}"
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        print(f"{f.figure:<{width}}{value:>10}  {f.goal:<{goals}}{met}")


def print_errors(runs: Sequence[Run]) -> None:
    """Every distinct error (the goal is none), on stderr, so `--json` shows them too."""
    for run in runs:
        phases = (("warm-up", run.warm_up), ("steady", run.steady), ("cold", run.cold))
        for phase, load in phases:
            for what, n in load.errors.most_common(ERRORS_SHOWN):
                log(f"ERROR {run.database} {run.plan.systems:,} systems, {phase}: {what} x{n}")


def run_json(run: Run) -> dict[str, Any]:
    return {
        "database": run.database,
        "systems": run.plan.systems,
        "assets_per_system": assess_scale.ASSETS,
        "evidence": run.evidence,
        "findings": run.findings,
        "clients": run.plan.clients,
        "workers": run.plan.workers,
        "push_seconds": run.push_seconds,
        "problems": dict(run.problems),
        "phases": {
            name: {
                "sent": load.sent, "elapsed_s": load.elapsed, "timed_out": load.timed_out,
                "server_cpu_ms_per_request": load.cpu_ms_per_request,
                "routes": route_stats(load), "errors": dict(load.errors),
            }
            for name, load in (("warm_up", run.warm_up), ("steady", run.steady),
                               ("cold", run.cold))
        },
    }  # fmt: skip


# -- main -----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="seconds: 5 systems, SQLite, few requests (the harness test)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    parser.add_argument(
        "--db", action="append", metavar="sqlite|postgres|URL",
        help="repeatable; default sqlite and postgres. A postgresql:// URL names a server to "
        "make a throwaway database on; a sqlite:/// URL a file (named -<systems>, kept)",
    )  # fmt: skip
    parser.add_argument("--postgres", action="append_const", const="postgres", dest="db",
                        help="same as --db postgres")  # fmt: skip
    parser.add_argument("--systems", type=int, action="append",
                        help="estate size, repeatable; default 100 and 1000")  # fmt: skip
    parser.add_argument("--clients", "--concurrency", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=2,
        help="server processes (`custos serve --workers`); one per core on this 2-core machine",
    )  # fmt: skip
    parser.add_argument("--requests", type=int, help="steady-state requests per run")
    parser.add_argument("--cold-requests", type=int, help="requests measured after the push")
    parser.add_argument(
        "--time-limit", type=float, help="seconds each phase may send for (default 60; --quick 20)"
    )
    parser.add_argument(
        "--report-format", default="html", help="what the report download asks for (default html)"
    )
    return parser.parse_args(argv)


def plans(args: argparse.Namespace) -> list[Plan]:
    sizes = args.systems or ([5] if args.quick else [100, 1000])
    return [
        Plan(
            systems=n,
            clients=args.clients,
            workers=args.workers,
            requests=args.requests or (96 if args.quick else 1500),
            cold_requests=args.cold_requests or (32 if args.quick else 100),
            time_limit=args.time_limit or (20.0 if args.quick else 60.0),
            report_format=args.report_format,
        )
        for n in sizes
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    databases = args.db or (["sqlite"] if args.quick else ["sqlite", "postgres"])
    compile_custos()  # the server's first requests would otherwise compile its modules
    runs = []
    try:
        for plan in plans(args):
            for spec in databases:
                with tempfile.TemporaryDirectory(prefix="custos-bench-server-") as tmp:
                    runs.append(run_one(spec, plan, Path(tmp)))
    except ServerDidNotStart as exc:
        log(f"benchmarks/server.py: {exc}")
        return 3
    except BenchmarkBroken as exc:
        log(f"benchmarks/server.py: {exc}")
        return 1
    figures = all_figures(runs)
    print_errors(runs)
    if args.json:
        emit(report("server", figures, quick=args.quick, runs=[run_json(r) for r in runs]))
        return 0
    for run in runs:
        print_run(run)
    print_figures(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())

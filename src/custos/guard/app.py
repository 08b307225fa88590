"""The guard's ASGI app (Starlette; aiohttp as the upstream client: httpx's async client
loses throughput under concurrency). Per request: authenticate (API key or JWT) -> the key's
block and bucket -> read the body (bounded) -> score its input for extraction -> forward ->
harden the JSON answer -> one audit line. Every refusal is short JSON; an upstream failure is
502 with `{"error": "upstream unavailable"}`, never a traceback. The key is never logged."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from custos.guard.audit import AuditLog, Batch, line
from custos.guard.bucket import MemoryBuckets, Taken
from custos.guard.extraction import Detector, ExtractionSettings, vector
from custos.guard.harden import Hardening, harden
from custos.guard.keys import JwtSettings, KeyRecord, KeyRing, looks_like_jwt, verify_jwt
from custos.guard.metrics import CONTENT_TYPE, GuardMetrics
from custos.guard.redis_bucket import RedisBuckets

log = logging.getLogger("custos.guard")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "transfer-encoding", "upgrade", "host",
                        "content-length", "authorization", "x-api-key"})  # fmt: skip
ANSWER_DROP = frozenset({"connection", "keep-alive", "transfer-encoding", "upgrade",
                         "content-length", "content-encoding"})  # fmt: skip
LOGGED_MAX = 65536  # bodies above this are not parsed for the log or the detector
DETECTION_EVENT = "guard-extraction"

Recorder = Callable[[dict[str, Any]], None]  # appends one event to the ledger (blocking)


@dataclass
class GuardConfig:
    upstream: str
    keys: KeyRing | None = None
    jwt: JwtSettings | None = None
    redis_url: str | None = None
    redis_prefix: str = "custos:guard:bucket:"
    audit_path: Path | None = None
    audit_name: str | None = None  # the file as the ledger names it (default: the path)
    batch_lines: int = 1000
    batch_seconds: float = 10.0
    recorder: Recorder | None = None  # the project's ledger; None: no ledger entries
    policy: str = "alert"  # or "block"
    hardening: Hardening = field(default_factory=Hardening)
    extraction: ExtractionSettings | None = field(default_factory=ExtractionSettings)
    max_body: int = 1 << 20
    max_answer: int = 64 << 20  # an upstream answer above this is not relayed (502)
    metrics_token: str | None = None
    timeout: float = 30.0
    connections: int = 256


def _json(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps({"error": message}).encode()
    return Response(body, status, headers=headers, media_type="application/json")


def _numbers(value: Any) -> list[float] | None:
    """The first list of numbers in a JSON value (depth first), for the audit log's output."""
    if isinstance(value, list):
        if value and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            return [float(v) for v in value]
        items: list[Any] = value
    elif isinstance(value, dict):
        items = list(value.values())
    else:
        return None
    for v in items:
        found = _numbers(v)
        if found is not None:
            return found
    return None


class Guard:
    def __init__(self, config: GuardConfig) -> None:
        self.config = config
        self.metrics = GuardMetrics()
        self.memory = MemoryBuckets()
        self.redis = (RedisBuckets(config.redis_url, config.redis_prefix)
                      if config.redis_url else None)  # fmt: skip
        self.detector = Detector(config.extraction) if config.extraction else None
        self.blocked: set[str] = set()
        self.audit: AuditLog | None = None
        self.session: aiohttp.ClientSession | None = None
        self._ledger: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.upstream = config.upstream.rstrip("/")

    # -- lifecycle -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        c = self.config
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=c.connections, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=c.timeout), auto_decompress=True,
        )  # fmt: skip
        if c.audit_path is not None:
            self.audit = AuditLog(c.audit_path, c.audit_name or str(c.audit_path),
                                  c.batch_lines, c.batch_seconds)  # fmt: skip
            self._tasks.append(asyncio.create_task(self._tick()))
        self._tasks.append(asyncio.create_task(self._ledger_worker()))
        try:
            yield
        finally:
            if self.audit is not None:
                self._tasks[0].cancel()  # the batch timer
                self._enqueue_batch(self.audit.close())
            self._ledger.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.session.close()
            if self.redis is not None:
                await self.redis.close()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.config.batch_seconds / 2))
            if self.audit is not None:
                self._enqueue_batch(self.audit.due())

    def _enqueue_batch(self, batch: Batch | None) -> None:
        if batch is not None and self.config.recorder is not None:
            self._ledger.put_nowait(batch.payload())

    async def _ledger_worker(self) -> None:
        """Ledger appends, one at a time, off the event loop (each is a database write)."""
        while (payload := await self._ledger.get()) is not None:
            recorder = self.config.recorder
            if recorder is None:
                continue
            try:
                await asyncio.to_thread(recorder, payload)
            except Exception as e:  # the proxy keeps serving; the failure is logged
                log.error("ledger append failed for %s: %s", payload.get("event"), e)

    async def drain(self) -> None:
        """Wait until the ledger queue is empty (tests)."""
        while not self._ledger.empty():
            await asyncio.sleep(0.01)

    # -- the request path ------------------------------------------------------------------

    async def authenticate(self, request: Request) -> KeyRecord | None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        token = token or request.headers.get("x-api-key", "").strip()
        if not token or len(token) > 8192:
            return None
        if self.config.jwt is not None and looks_like_jwt(token):
            return verify_jwt(token, self.config.jwt)
        ring = self.config.keys
        if ring is None:
            return None
        if ring.needs_slow_check(token):
            return await asyncio.to_thread(ring.verify, token)
        return ring.verify(token)

    async def take(self, who: KeyRecord) -> Taken:
        if self.redis is not None:
            return await self.redis.take(who.id, who.rate, who.burst)
        return self.memory.take(who.id, who.rate, who.burst)

    async def read_body(self, request: Request) -> bytes | None:
        """The body, or None when it exceeds max_body."""
        limit = self.config.max_body
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return None
        parts: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            parts.append(chunk)
        return b"".join(parts)

    async def metrics_endpoint(self, request: Request) -> Response:
        token = self.config.metrics_token
        if not token:
            return _json(404, "not found")
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return _json(401, "unauthorized", {"WWW-Authenticate": "Bearer"})
        return Response(self.metrics.render(), 200, media_type=CONTENT_TYPE)

    async def handle(self, request: Request) -> Response:
        if request.url.path == "/metrics":
            return await self.metrics_endpoint(request)
        start = time.perf_counter()
        who: KeyRecord | None = None
        x: list[float] | None = None
        output: Any = None
        try:
            response, who, x, output = await self._answer(request)
        except ClientDisconnect:
            response = _json(400, "client disconnected")
        elapsed = time.perf_counter() - start
        self.metrics.requests.labels(str(response.status_code)).inc()
        self.metrics.latency.observe(elapsed)
        if self.audit is not None:
            client = request.client.host if request.client else None
            data = line(time.time(), who.id if who else None, client, request.url.path,
                        request.method, response.status_code, elapsed * 1000, x, output,
                        request.headers.get("user-agent"))  # fmt: skip
            self._enqueue_batch(self.audit.write(data))
        return response

    async def _answer(
        self, request: Request
    ) -> tuple[Response, KeyRecord | None, list[float] | None, Any]:
        c = self.config
        who = await self.authenticate(request)
        if who is None:
            self.metrics.blocks.labels("unauthorized").inc()
            return _json(401, "unauthorized", {"WWW-Authenticate": "Bearer"}), None, None, None
        if who.id in self.blocked:
            self.metrics.blocks.labels("extraction").inc()
            return _json(403, "blocked: this key's queries look like model extraction"), who, \
                None, None  # fmt: skip
        taken = await self.take(who)
        if not taken.allowed:
            self.metrics.blocks.labels("rate").inc()
            retry = str(max(1, math.ceil(taken.retry_after)))
            return _json(429, "rate limit exceeded", {"Retry-After": retry}), who, None, None
        body = await self.read_body(request)
        if body is None:
            self.metrics.blocks.labels("size").inc()
            return _json(413, f"request body above {c.max_body} bytes"), who, None, None
        x = None
        if body and len(body) <= LOGGED_MAX and "json" in request.headers.get("content-type", ""):
            with contextlib.suppress(ValueError, RecursionError):  # a client's body, any shape
                x = vector(json.loads(body))
        if x is not None and self.detector is not None:
            verdict = self.detector.observe(who.id, x)
            if verdict is not None:
                self.metrics.detections.inc()
                log.warning("extraction pattern from key %s: Shapiro-Wilk W %.3f over %d "
                            "distances (policy %s)", who.id, verdict.shapiro_w,
                            verdict.distances, c.policy)  # fmt: skip
                if c.recorder is not None:
                    self._ledger.put_nowait({
                        "event": DETECTION_EVENT, "api_key": who.id, "policy": c.policy,
                        "shapiro_w": round(verdict.shapiro_w, 4),
                        "distances": verdict.distances})  # fmt: skip
                if c.policy == "block":
                    self.blocked.add(who.id)
                    self.metrics.blocks.labels("extraction").inc()
                    return _json(403, "blocked: this key's queries look like model extraction"), \
                        who, x, None  # fmt: skip
        return await self._forward(request, body, who, x)

    async def _forward(
        self, request: Request, body: bytes, who: KeyRecord, x: list[float] | None
    ) -> tuple[Response, KeyRecord | None, list[float] | None, Any]:
        assert self.session is not None
        url = self.upstream + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            async with self.session.request(request.method, url, headers=headers,
                                            data=body or None,
                                            allow_redirects=False) as up:  # fmt: skip
                content = await _read_bounded(up, self.config.max_answer)
                status = up.status
                answer_headers = {k: v for k, v in up.headers.items()
                                  if k.lower() not in ANSWER_DROP}  # fmt: skip
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            self.metrics.upstream_errors.inc()
            log.warning("upstream error on %s %s: %s", request.method, request.url.path,
                        type(e).__name__)  # fmt: skip
            return _json(502, "upstream unavailable"), who, x, None
        if content is None:
            self.metrics.upstream_errors.inc()
            log.warning("upstream answer above %d bytes on %s %s", self.config.max_answer,
                        request.method, request.url.path)  # fmt: skip
            return _json(502, "upstream answer too large"), who, x, None
        output: Any = None
        ctype = answer_headers.get("Content-Type", answer_headers.get("content-type", ""))
        if "json" in ctype and content and len(content) <= (16 << 20):
            try:
                parsed = json.loads(content)
            except (ValueError, RecursionError):
                parsed = None
            if parsed is not None:
                if self.config.hardening.active:
                    hardened = harden(parsed, self.config.hardening)
                    if hardened != parsed:
                        content = json.dumps(hardened, separators=(",", ":")).encode()
                        parsed = hardened
                if len(content) <= LOGGED_MAX:
                    output = _numbers(parsed)
        return Response(content, status, headers=answer_headers), who, x, output


async def _read_bounded(up: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The answer's body, or None past `limit` bytes (by Content-Length, or counted while
    reading: a model server's answer is held whole to be hardened, so it must be bounded)."""
    if up.content_length is not None and up.content_length > limit:
        return None
    parts: list[bytes] = []
    size = 0
    async for chunk in up.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def create_app(config: GuardConfig) -> tuple[Starlette, Guard]:
    guard = Guard(config)
    app = Starlette(
        routes=[Route("/{path:path}", guard.handle, methods=METHODS)], lifespan=guard.lifespan
    )
    return app, guard


def ledger_recorder(project: Path, db: str | None) -> Recorder:
    """Appends events to the project's ledger through the workspace's writer."""

    def record(payload: dict[str, Any]) -> None:
        from custos.workspace import record_entries

        record_entries(project, db, [("event", payload)])

    return record

"""Liveness (/healthz), readiness (/readyz: the database answers and its schema is current) and
Prometheus metrics (/metrics). Public, as load balancers and scrapers call them unauthenticated;
they reveal no data (bind the server to a private address or filter /metrics at the proxy)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from custos.server.context import context
from custos.server.guards import public
from custos.store.errors import StoreError


class Metrics:
    """One registry per app, so several apps in one process (tests) do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "custos_http_requests_total", "HTTP requests answered.",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "custos_http_request_duration_seconds", "Time to answer a request.",
            ["method", "route"], registry=self.registry,
        )  # fmt: skip

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = _route_template(request)  # the template, not the path: bounded label values
        self.latency.labels(request.method, route).observe(time.perf_counter() - started)
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        return response


def _route_template(request: Request) -> str:
    """The matched route's template (set in the scope by the router), else "unmatched"."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def router(metrics: Metrics) -> APIRouter:
    routes = APIRouter(include_in_schema=False)

    @routes.get("/healthz", dependencies=[public()])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @routes.get("/readyz", dependencies=[public()])
    def readyz(request: Request) -> JSONResponse:
        try:
            current = context(request).store.is_current()
        except StoreError:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        if not current:
            return JSONResponse({"status": "unavailable", "database": "not migrated"}, 503)
        return JSONResponse({"status": "ready", "database": "ok"})

    @routes.get("/metrics", dependencies=[public()])
    def metrics_page() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return routes

"""Liveness (/healthz), readiness (/readyz: the database answers and its schema is current) and
Prometheus metrics (/metrics). Public, as load balancers and scrapers call them unauthenticated;
they reveal no data (bind the server to a private address or filter /metrics at the proxy)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """ASGI middleware counting and timing every request by route template."""

        async def measured(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = ["500"]

            async def seen(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status[0] = str(message["status"])
                await send(message)

            try:
                await app(scope, receive, seen)
            finally:
                method = scope["method"] if scope["method"] in METHODS else "other"
                route = _route_template(scope)  # the template: bounded label values
                self.latency.labels(method, route).observe(time.perf_counter() - started)
                self.requests.labels(method, route, status[0]).inc()

        return measured


# Anything else is labelled "other": label values must stay few, whatever clients send.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _route_template(scope: Scope) -> str:
    """The matched route's template (set in the scope by the router), else "unmatched"."""
    route = scope.get("route")
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

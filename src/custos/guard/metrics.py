"""The guard's Prometheus metrics: requests by status, latency, blocks by reason, upstream
errors. One registry per app, so several guards in one process (tests) do not collide."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client import generate_latest as _generate

CONTENT_TYPE = CONTENT_TYPE_LATEST


class GuardMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("custos_guard_requests_total", "Requests answered.",
                                ["status"], registry=self.registry)  # fmt: skip
        self.latency = Histogram(
            "custos_guard_request_duration_seconds", "Time to answer a request.",
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip
        self.blocks = Counter("custos_guard_blocks_total", "Requests refused by the guard.",
                              ["reason"], registry=self.registry)  # fmt: skip
        self.upstream_errors = Counter("custos_guard_upstream_errors_total",
                                       "Upstream failures answered 502.",
                                       registry=self.registry)  # fmt: skip
        self.detections = Counter("custos_guard_extraction_detections_total",
                                  "Keys whose inputs looked synthesised.",
                                  registry=self.registry)  # fmt: skip

    def render(self) -> bytes:
        return _generate(self.registry)

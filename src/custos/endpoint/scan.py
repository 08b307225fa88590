"""One probe of one endpoint: record (the adapter), evaluate (the rules), report."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from custos.endpoint.known import known_paths
from custos.endpoint.model import Recording
from custos.endpoint.probe import Settings, record
from custos.endpoint.rules import EndpointFinding, evaluate
from custos.findings import Severity


@dataclass(frozen=True)
class ProbeReport:
    recording: Recording
    findings: tuple[EndpointFinding, ...]
    not_run: tuple[tuple[str, str], ...]
    duration_s: float

    @property
    def url(self) -> str:
        return self.recording.url

    def worst(self) -> Severity | None:
        return max((f.finding.severity for f in self.findings), default=None)

    def to_json(self) -> dict[str, Any]:
        """The `custos probe --format json` contract (docs/runtime.md)."""
        tls = self.recording.tls
        return {
            "url": self.url,
            "checks_run": list(self.recording.checks_run),
            "not_run": [{"probe": probe, "reason": why} for probe, why in self.not_run],
            "findings": [f.to_json() for f in self.findings],
            "tls": tls.to_json() if tls else None,
            "http_requests": len(self.recording.exchanges) + (
                self.recording.burst.sent if self.recording.burst else 0),
            "duration_s": round(self.duration_s, 3),
        }  # fmt: skip


def probe_endpoint(settings: Settings, now: dt.datetime | None = None) -> ProbeReport:
    """Probe one endpoint and judge what it answered. Raises `probe.Unreachable` (a
    UserError, one line) when there was nothing to probe."""
    start = time.monotonic()
    when = now or dt.datetime.now(dt.UTC)
    known = known_paths()
    recording = record(settings, known, when)
    evaluation = evaluate(recording, known, when)
    return ProbeReport(recording, evaluation.findings,
                       recording.not_run + evaluation.not_run,
                       time.monotonic() - start)  # fmt: skip

"""What the monitor reports: detections, drift, broken lines, the json contract and the
findings. API keys appear only masked (`mask_key`): a prefix, the length and a short digest,
enough to find the key in one's own records, never enough to use it."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from custos.findings import Finding, Severity

RULE = "access-log/"
MONITORING = "custos:ai:access-monitoring"
EXTRACTION = "custos:ai:model-extraction"
# Detections that bear on model extraction as well as on access monitoring.
EXTRACTION_KINDS = frozenset({"extraction", "probing", "sweep", "repeated-queries"})


def mask_key(key: str | None) -> str | None:
    """`ck_live_…[36] #1a2b3c4d`: at most a third of the key (8 characters at most), its
    length, and the first 8 hex digits of its SHA-256."""
    if key is None:
        return None
    shown = key[: min(8, len(key) // 3)]
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{shown}…[{len(key)}] #{digest}"


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return (
        dt.datetime.fromtimestamp(epoch, dt.UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


@dataclass(frozen=True)
class Detection:
    kind: str
    severity: Severity
    message: str  # one line: what was seen, with the numbers that matter
    score: float
    first_seen: float | None  # epoch seconds
    last_seen: float | None
    api_key: str | None = None  # masked
    client_ip: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity.name,
            "api_key": self.api_key,
            "client_ip": self.client_ip,
            "score": round(self.score, 4),
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "message": self.message,
            "evidence": self.evidence,
        }

    def finding(self, where: str) -> Finding:
        controls = (MONITORING, EXTRACTION) if self.kind in EXTRACTION_KINDS else (MONITORING,)
        subject = self.api_key or self.client_ip
        text = f"{subject}: {self.message}" if subject else self.message
        return Finding(RULE + self.kind, self.severity, text, where, controls)


@dataclass(frozen=True)
class Drift:
    side: str  # "input" or "output"
    feature: str
    psi: float
    js: float  # Jensen-Shannon distance, base 2
    wasserstein: float  # Wasserstein-1 over the reference standard deviation
    drifted: bool
    severity: Severity | None
    reference_rows: int
    current_rows: int

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "feature": self.feature,
            "psi": round(self.psi, 4),
            "js": round(self.js, 4),
            "wasserstein": round(self.wasserstein, 4),
            "drifted": self.drifted,
            "severity": self.severity.name if self.severity else None,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
        }

    def finding(self, where: str) -> Finding:
        assert self.severity is not None
        message = (f"{self.side} feature {self.feature!r} drifted from the reference: PSI "
                   f"{self.psi:.3f}, Jensen-Shannon {self.js:.3f}, Wasserstein "
                   f"{self.wasserstein:.3f} sd")  # fmt: skip
        return Finding(f"{RULE}{self.side}-drift", self.severity, message, where, (MONITORING,))


@dataclass(frozen=True)
class Broken:
    file: str
    line: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class KeyScore:
    api_key: str  # masked
    score: float
    z: float
    flagged: bool
    drivers: tuple[tuple[str, float], ...]  # feature, robust z against the other keys

    def to_json(self) -> dict[str, Any]:
        return {
            "api_key": self.api_key,
            "score": round(self.score, 4),
            "z": round(self.z, 2),
            "flagged": self.flagged,
            "drivers": [{"feature": f, "z": round(z, 2)} for f, z in self.drivers],
        }


@dataclass(frozen=True)
class MonitorReport:
    source: str
    formats: tuple[str, ...]
    files: tuple[str, ...]
    rows: int
    keys: int
    addresses: int
    window_seconds: int
    start: float | None
    end: float | None
    broken_count: int
    broken: tuple[Broken, ...]
    detections: tuple[Detection, ...]
    drift: tuple[Drift, ...]
    scores: tuple[KeyScore, ...]
    reference: dict[str, Any]
    model: dict[str, Any]
    thresholds: dict[str, Any]
    input_features: tuple[str, ...] = ()
    output_features: tuple[str, ...] = ()
    stats: dict[str, Any] = field(default_factory=dict)

    def findings(self, where: str | None = None) -> list[Finding]:
        place = self.source if where is None else where
        out = [d.finding(place) for d in self.detections]
        out += [d.finding(place) for d in self.drift if d.severity is not None]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.formats[0] if len(self.formats) == 1 else list(self.formats),
            "files": list(self.files),
            "rows": self.rows,
            "keys": self.keys,
            "addresses": self.addresses,
            "window": {
                "seconds": self.window_seconds,
                "start": iso(self.start),
                "end": iso(self.end),
            },
            "broken_lines": {
                "count": self.broken_count,
                "first": [b.to_json() for b in self.broken],
            },
            "detections": [d.to_json() for d in self.detections],
            "drift": [d.to_json() for d in self.drift],
            "reference": self.reference,
            "input_features": list(self.input_features),
            "output_features": list(self.output_features),
            "model": self.model,
            "scores": [s.to_json() for s in self.scores],
            "findings": [f.to_json() for f in self.findings()],
            "thresholds": self.thresholds,
            "stats": self.stats,
        }

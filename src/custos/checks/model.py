"""What checks produce: findings and one evidence record per (check, target). No I/O here.

An evidence record says what was examined (with content hashes), by which check version, when,
and with what result: pass, fail, error or not_applicable. An error is never a pass: status
derivation treats it like missing evidence and lists it among the reasons.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from custos.findings import Finding, Severity
from custos.provenance import LOCAL, Provenance

Result = Literal["pass", "fail", "error", "not_applicable"]
RESULTS: tuple[Result, ...] = ("pass", "fail", "error", "not_applicable")

__all__ = ["RESULTS", "Evidence", "Examined", "Finding", "Outcome", "Result", "Severity"]


@dataclass(frozen=True)
class Examined:
    """One thing a check looked at. `sha256` is None for what has no bytes (a URL, a count)."""

    location: str
    sha256: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What a check's `run` returns; the runner adds identity and time to make Evidence."""

    result: Result
    summary: str
    findings: tuple[Finding, ...] = ()
    examined: tuple[Examined, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """The record kept for one run of one check on one target (a system or one of its assets)."""

    check: str
    check_version: int
    system: str
    asset: str | None
    result: Result
    summary: str
    controls: tuple[str, ...]
    collected_at: dt.datetime
    expires_at: dt.datetime | None
    findings: tuple[Finding, ...] = ()
    examined: tuple[Examined, ...] = field(default_factory=tuple)
    # Where the record comes from (local scan, verified push, claimed push); not part of what
    # the check produced, so not in the ledger entry a scan appends.
    provenance: Provenance = LOCAL

    @property
    def key(self) -> tuple[str, str, str | None]:
        """Identity of the target: newer evidence with the same key supersedes older."""
        return (self.check, self.system, self.asset)

    def valid_at(self, when: dt.datetime) -> bool:
        return self.expires_at is None or when < self.expires_at

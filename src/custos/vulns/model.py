"""Known vulnerabilities of an AI system's dependencies as tracked items: what a scan observed,
and the record kept across scans (open, accepted with a reason and an expiry, fixed when a
later scan no longer finds it). No I/O here.

A vulnerability is one advisory on one package in one repository asset of one system
(`VulnKey`): the same advisory found through a requirements file and a lockfile is one item.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from custos.findings import Severity

Status = Literal["open", "accepted", "fixed"]
STATUSES: tuple[Status, ...] = ("open", "accepted", "fixed")
# What a reader sees: the stored status with time applied (an acceptance runs out, a due
# date passes).
State = Literal["open", "overdue", "accepted", "expired", "fixed"]
STATES: tuple[State, ...] = ("open", "overdue", "accepted", "expired", "fixed")

# Remediation deadlines in days from when a vulnerability was opened, by severity. The
# defaults follow common practice (CISA BOD 19-02: 15 days for critical, 30 for high);
# `organisation.vulnerability_sla` in custos.yaml sets the organisation's own.
DEFAULT_SLA_DAYS: dict[str, int] = {"critical": 15, "high": 30, "medium": 90, "low": 180}
MAX_ACCEPTANCE_DAYS = 366  # an acceptance is reviewed at least yearly


@dataclass(frozen=True, order=True)
class VulnKey:
    system: str
    asset: str
    package: str
    advisory: str

    @property
    def label(self) -> str:
        return f"{self.system}/{self.asset}: {self.package} {self.advisory}"


@dataclass(frozen=True)
class Observation:
    """One vulnerability as one scan saw it (merged over the files that name the package)."""

    key: VulnKey
    severity: Severity
    versions: tuple[str, ...]
    fixed_in: str | None
    aliases: tuple[str, ...]
    summary: str
    locations: tuple[str, ...]


@dataclass(frozen=True)
class Acceptance:
    by: str
    at: dt.datetime
    until: dt.date
    reason: str


@dataclass(frozen=True)
class Record:
    """A vulnerability as kept across scans. `opened_at` starts the remediation clock: the
    first sighting, or the scan that found it again after it was fixed."""

    key: VulnKey
    status: Status
    severity: Severity
    versions: tuple[str, ...]
    fixed_in: str | None
    aliases: tuple[str, ...]
    summary: str
    locations: tuple[str, ...]
    first_seen: dt.datetime
    opened_at: dt.datetime
    last_seen: dt.datetime
    last_run: int | None = None
    fixed_at: dt.datetime | None = None
    fixed_run: int | None = None
    acceptance: Acceptance | None = None
    id: int | None = None  # the store's id, once stored

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id the advisory is published under."""
        return (self.key.advisory, *self.aliases)

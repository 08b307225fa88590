"""Evidence of the `repository` check with vulnerable-dependency findings written by the
scanner's own formatter (custos.repo.scan.vulnerable), for the lifecycle tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from custos.checks.model import Evidence, Finding
from custos.findings import Severity
from custos.intel.index import Match
from custos.provenance import Provenance
from custos.repo.model import Dependency
from custos.repo.scan import vulnerable

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def match(
    package: str = "torch", version: str = "2.5.1", advisory: str = "GHSA-53q9-r3pm-6pq6",
    severity: Severity = Severity.critical, fixed: str | None = "2.6.0",
    aliases: tuple[str, ...] = ("CVE-2025-32434",), file: str = "requirements.txt",
) -> Match:  # fmt: skip
    dep = Dependency(package, f"=={version}", version, True, False, "PyPI", Path(file), 3)
    return Match(dep, advisory, aliases, severity, "RCE: torch.load (weights_only)", fixed)


def repository(
    *matches: Match, system: str = "scoring", asset: str = "scoring-repo", at: dt.datetime = T0,
    result: str = "fail", extra: tuple[Finding, ...] = (), claimed: bool = False,
) -> Evidence:  # fmt: skip
    findings = (
        tuple(
            Finding(f.rule, f.severity, f.message, f"serving/{f.path}:{f.line}", f.controls)
            for f in vulnerable(list(matches))
        )
        + extra
    )
    item = Evidence(
        check="repository", check_version=1, system=system, asset=asset,
        result=result,  # type: ignore[arg-type]
        summary="scanned", controls=("iso27002:2022:8.8",), collected_at=at,
        expires_at=at + dt.timedelta(days=90), findings=findings,
    )  # fmt: skip
    if claimed:
        item = dataclasses.replace(item, provenance=Provenance("claimed", "no-proof"))
    return item

"""Benchmark: assess and render the HTML report for a synthetic organisation at scale.

100 AI systems x 10 assets, 10,000 evidence records, the full shipped catalog. Prints the time of
`assess()` (goal <= 2 s) and of the HTML report (goal <= 3 s) and the ratio to each goal.
Run: `.venv/bin/python benchmarks/assess_scale.py` (or `make bench`).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import ClassVar

from custos.assess.engine import AssessInput, assess
from custos.assess.model import AssessmentReport
from custos.catalog.check_names import CHECK_NAMES
from custos.catalog.loader import load_catalog
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Evidence, Examined, Finding, Outcome, Severity
from custos.inventory.schema import ASSET_KINDS, Manifest
from custos.reports.base import ReportFormat

SYSTEMS = 100
ASSETS = 10
CHECKS_PER_ASSET = 10
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
GOAL_ASSESS = 2.0
GOAL_HTML = 3.0


def _check(check_name: str) -> Check:
    class Synthetic(Check):
        name = check_name
        version = 1
        title = check_name
        kinds: ClassVar[frozenset[str]] = frozenset(ASSET_KINDS)  # type: ignore[misc]
        evidences = ()

        def run(self, target: Target, context: CheckContext) -> Outcome:
            raise AssertionError("not run in the benchmark")

    return Synthetic()


def build(rng: random.Random) -> tuple[Manifest, list[Evidence], dict[str, str | None]]:
    catalog_threats = ["atlas:AML.T0020", "atlas:AML.T0024.002", "owasp:ML06:2023"]
    requirements = [
        "custos:ai:model-signing", "custos:ai:data-poisoning", "custos:ai:endpoint-authentication",
        "custos:ai:access-logging", "custos:ai:dataset-pii",
    ]  # fmt: skip
    systems = []
    risks = []
    for s in range(SYSTEMS):
        sid = f"sys-{s:03d}"
        assets = [
            {
                "id": f"{sid}-a{a}",
                "kind": ASSET_KINDS[a % len(ASSET_KINDS)],
                "location": f"https://assets.example/{sid}/{a}",
                "classification": "internal",
                "owner": "team",
            }
            for a in range(ASSETS)
        ]
        tier = rng.choice(["high", "limited", "minimal", "gpai"])
        systems.append(
            {"id": sid, "name": sid, "purpose": "synthetic", "owner": "o",
             "lifecycle": "production", "eu_ai_act": {"role": "provider", "tier": tier},
             "assets": assets}
        )  # fmt: skip
        for r in range(3):
            risks.append(
                {"id": f"R-{s:03d}-{r}", "title": "risk", "threats": [rng.choice(catalog_threats)],
                 "systems": [sid], "likelihood": rng.randint(1, 5), "impact": rng.randint(1, 5),
                 "treatment": "mitigate", "controls": rng.sample(requirements, 2),
                 "owner": "sec", "review_date": "2027-01-01"}
            )  # fmt: skip
    manifest = Manifest.model_validate(
        {"organisation": {"name": "Synthetic", "scope": "scale test"}, "systems": systems,
         "risks": risks}
    )  # fmt: skip
    names = sorted(CHECK_NAMES)[:CHECKS_PER_ASSET]
    evidence: list[Evidence] = []
    hashes: dict[str, str | None] = {}
    for system in manifest.systems:
        for asset in system.assets:
            for name in names:
                location = f"{asset.location}/{name}"
                digest = f"{rng.getrandbits(256):064x}"
                hashes[location] = digest
                result = rng.choice(["pass", "pass", "pass", "fail", "error"])
                findings = (
                    (Finding(f"{name}/x", Severity.medium, "synthetic", location),)
                    if result == "fail"
                    else ()
                )
                evidence.append(
                    Evidence(
                        check=name, check_version=1, system=system.id, asset=asset.id,
                        result=result, summary=result, controls=(), collected_at=NOW,
                        expires_at=NOW + dt.timedelta(days=90), findings=findings,
                        examined=(Examined(location, digest, 1),),
                    )
                )  # fmt: skip
    return manifest, evidence, hashes


def timed(repeat: int, fn: object) -> tuple[float, object]:
    samples = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def main() -> None:
    catalog = load_catalog(include_user=False)
    manifest, evidence, hashes = build(random.Random(7))
    checks = [_check(name) for name in sorted(CHECK_NAMES)]
    inp = AssessInput(catalog, manifest, evidence, hashes, {}, checks, NOW + dt.timedelta(hours=1))
    t_assess, report = timed(3, lambda: assess(inp))
    assert isinstance(report, AssessmentReport)
    renderer = ReportFormat.html.renderer()
    t_html, html = timed(3, lambda: renderer.render(report))
    assert isinstance(html, bytes)
    print(f"synthetic organisation: {SYSTEMS} systems x {ASSETS} assets, {len(evidence):,} "
          f"evidence records, {len(catalog.controls):,} catalog nodes, "
          f"{len(report.statuses):,} statuses")  # fmt: skip
    print(f"{'measure':<22}{'seconds':>10}{'goal':>8}{'time/goal':>11}")
    for label, seconds, goal in (
        ("assess()", t_assess, GOAL_ASSESS),
        ("HTML report", t_html, GOAL_HTML),
    ):
        print(f"{label:<22}{seconds:>10.3f}{goal:>8.1f}{seconds / goal:>10.2f}x")
    print(f"HTML size: {len(html) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

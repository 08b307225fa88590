"""dataset: the data scanner on every dataset asset. Personal data and credentials per column
(a sample of each file), the classification the content requires against the one the asset
declares, and restricted content readable in plaintext. Nothing is written to the data."""

from __future__ import annotations

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Finding, Outcome, Severity
from custos.datascan import classify, ner
from custos.datascan.recognizers import Options
from custos.datascan.scan import Settings, scan_paths
from custos.inventory.locations import expand, is_url


class Dataset(Check):
    name = "dataset"
    version = 1
    title = "Datasets hold no unexpected personal data or credentials and are classified for it"
    kinds = frozenset({"dataset"})
    evidences = (
        "custos:ai:dataset-pii",
        "custos:ai:data-classification",
        "custos:ai:data-masking",
        "iso27002:2022:5.12",
        "iso27002:2022:5.34",
        "iso27002:2022:8.11",
        "iso27002:2022:8.12",
    )

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None
        if is_url(asset.location):
            return Outcome("not_applicable", "remote dataset: scan it where it is stored")
        paths = expand(context.base_dir, asset.location)
        if not paths:
            return Outcome("error", f"{asset.location} matches no file to scan")
        found_by = ner.from_environment()  # $CUSTOS_NER_MODEL: names in running text too
        options = Options() if found_by is None else Options(
            names_in_text=found_by[0], names_method=found_by[1])  # fmt: skip
        reports = scan_paths(paths, Settings(options=options, declared=asset.classification))
        findings: list[Finding] = []
        for report in reports:
            where = context.where(report.path)
            if report.error is not None:
                message = report.error.replace(str(report.path), where)
                findings.append(Finding("data/unreadable", Severity.medium, message, where))
            for f in report.findings:
                findings.append(Finding(f.rule, f.severity, f.message, where, f.controls))
        needed = classify.suggested(
            t.kind for r in reports for c in r.columns for t in c.pii
        )  # fmt: skip
        if asset.classification is None and classify.rank(needed) >= classify.rank("confidential"):
            findings.append(Finding(
                "data/classification-below-content", Severity.medium,
                f"no classification declared; the content requires {needed}",
                asset.location, classify.CONTROLS["data/classification-below-content"],
            ))  # fmt: skip
        examined = context.examined(r.path for r in reports if r.error is None)
        rows = sum(r.rows_scanned for r in reports)
        blocking = [f for f in findings if f.severity >= Severity.medium]
        declared = asset.classification or "none"
        summary = (
            f"{len(reports)} file(s), {rows:,} rows sampled; content requires {needed}, "
            f"declared {declared}; {len(blocking)} finding(s) at medium or above"
        )
        return Outcome("fail" if blocking else "pass", summary, tuple(findings), examined)

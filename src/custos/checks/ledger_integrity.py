"""ledger-integrity: the project's evidence ledger recomputes and extends what was trusted.

The audit itself (every entry re-hashed, every checkpoint signature and root, consistency with
the last checkpoint this machine trusted) is `custos.ledger.audit`; the shell hands it to the
check through `CheckContext.ledger`, since checks do not open databases.
"""

from __future__ import annotations

import datetime as dt

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Finding, Outcome, Severity

MAX_FINDINGS = 10


class LedgerIntegrity(Check):
    name = "ledger-integrity"
    version = 1
    title = "The evidence ledger verifies and only ever grew"
    evidences = (
        "custos:ai:evidence-integrity",
        "custos:ai:training-audit-trail",
        "custos:ai:deployment-audit-trail",
        "iso27002:2022:8.15",
        "iso27002:2022:5.33",
    )
    validity = dt.timedelta(days=7)  # a point-in-time verification: repeat it often

    def run(self, target: Target, context: CheckContext) -> Outcome:
        if context.ledger is None:
            return Outcome("not_applicable", "no ledger is available to this run")
        result = context.ledger()
        if result is None:
            return Outcome(
                "not_applicable", "the ledger starts with this scan; it is verified from the next"
            )
        if result.ok:
            root = result.latest.root.hex()[:16] if result.latest else "-"
            return Outcome(
                "pass",
                f"{result.entries} entries and {result.checkpoints} signed checkpoints verify "
                f"(root {root}…)",
            )
        where = "ledger" if result.first_bad is None else f"ledger entry {result.first_bad}"
        findings = tuple(
            Finding("ledger-integrity/does-not-verify", Severity.critical, problem, where)
            for problem in result.problems[:MAX_FINDINGS]
        )
        return Outcome(
            "fail",
            f"the ledger does not verify (first bad entry: {result.first_bad}); run "
            "`custos ledger verify` for details",
            findings,
        )

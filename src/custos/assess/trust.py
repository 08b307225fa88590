"""Whether a result may count, given where the evidence comes from. Pure.

Local evidence (this installation's own scan) and pushed evidence the server verified against
the pusher's ledger count as they are. Claimed evidence (pushed without a proof that checks
out) is kept and shown, but only a failure counts: anyone holding a push token could claim a
pass, while a claimed failure is no less trustworthy than a verified one. A claimed pass,
not-applicable or error is treated like no evidence, so it can never make a control
implemented.
"""

from __future__ import annotations

from custos.checks.model import Evidence


def distrust(evidence: Evidence) -> str | None:
    """Why the evidence's result does not count because of its provenance; None if it does."""
    p = evidence.provenance
    if p.kind != "claimed" or evidence.result == "fail":
        return None
    return f"claimed by an unverified push ({p.reason}: {p.message})"

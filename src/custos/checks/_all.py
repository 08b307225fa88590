"""Every built-in check, imported explicitly so that each registers itself (no directory scan).

Adding a check: write its module, add it here, add its tests.
"""

from custos.checks import (  # noqa: F401
    artifact_baseline,
    asset_ownership,
    attestation_freshness,
    inventory_completeness,
    ledger_integrity,
    model_card,
    model_file,
    model_signature,
    risk_review,
)

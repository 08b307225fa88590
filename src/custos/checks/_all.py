"""Every built-in check, imported explicitly so that each registers itself (no directory scan).

Adding a check: write its module, add it here, add its tests.
"""

from custos.checks import (  # noqa: F401
    asset_ownership,
    attestation_freshness,
    inventory_completeness,
    model_card,
    model_file,
    risk_review,
)

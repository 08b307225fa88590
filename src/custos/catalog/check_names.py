"""The automated checks that catalog requirements may name in `verification.checks`.

A requirement names the checks that can evidence it before every check exists, so that the
catalog, the SoA and the roadmap can already say how each requirement will be shown. The checks
registry implements these names one by one; a catalog test keeps requirements to this list.
"""

from __future__ import annotations

from types import MappingProxyType

CHECK_NAMES = MappingProxyType(
    {
        "inventory-completeness": "artifacts on disk versus declared assets",
        "asset-ownership": "every asset has an owner and a classification",
        "attestation-freshness": "attestations unexpired, evidence-file hash unchanged",
        "risk-review": "risk reviews not overdue",
        "model-card": "a model card with the expected sections next to each model",
        "model-file": "model files free of unsafe deserialization payloads",
        "model-signature": "a valid OpenSSF model signature for the current bytes",
        "artifact-baseline": "artifact digests match the recorded baseline",
        "ledger-integrity": "the evidence ledger verifies",
        "dataset": "personal data and credentials in datasets, against their classification",
        "encryption": "datasets and models stored encrypted at rest, under a known KEK",
        "retention": "retired assets deleted, with a ledger record and no readable copy left",
        "data-integrity": "poisoning and quality signals in tabular training data",
        "endpoint": "inference endpoints probed: TLS, authentication, rate limits, leakage",
        "gateway-config": "gateway configs authenticate, rate-limit and log, with no literal "
        "secrets",
        "access-log": "anomalies in access logs (scraping, extraction, bulk access)",
        "repository": "repositories: unsafe model loading in code and notebooks, secrets, "
        "unpinned or known-vulnerable dependencies, Dockerfiles and CI workflows",
        "evaluation": "models meet declared performance and fairness minimums on held-out data; "
        "permutation importance against the model card",
        "robustness": "models keep a declared accuracy under adversarial perturbation budgets",
    }
)

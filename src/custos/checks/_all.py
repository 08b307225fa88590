"""Every built-in check, listed explicitly (no directory scan, no registration on import).

Adding a check: write its module, add its class here, add its tests. The check modules never
import the registry: it reads this list (one direction, no import cycle).
"""

from __future__ import annotations

from custos.checks.access_log import AccessLog
from custos.checks.artifact_baseline import ArtifactBaseline
from custos.checks.asset_ownership import AssetOwnership
from custos.checks.attestation_freshness import AttestationFreshness
from custos.checks.base import Check
from custos.checks.data_integrity import DataIntegrity
from custos.checks.dataset import Dataset
from custos.checks.encryption import Encryption
from custos.checks.endpoint import Endpoint
from custos.checks.evaluation import Evaluation
from custos.checks.gateway_config import GatewayConfig
from custos.checks.inventory_completeness import InventoryCompleteness
from custos.checks.ledger_integrity import LedgerIntegrity
from custos.checks.model_card import ModelCard
from custos.checks.model_file import ModelFile
from custos.checks.model_signature import ModelSignature
from custos.checks.repository import Repository
from custos.checks.retention import Retention
from custos.checks.risk_review import RiskReview
from custos.checks.robustness import Robustness

BUILTIN: tuple[type[Check], ...] = (
    AccessLog,
    ArtifactBaseline,
    AssetOwnership,
    AttestationFreshness,
    DataIntegrity,
    Dataset,
    Encryption,
    Endpoint,
    Evaluation,
    GatewayConfig,
    InventoryCompleteness,
    LedgerIntegrity,
    ModelCard,
    ModelFile,
    ModelSignature,
    Repository,
    Retention,
    RiskReview,
    Robustness,
)

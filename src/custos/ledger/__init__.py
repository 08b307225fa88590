"""Custos' tamper-evident evidence ledger: the pure core (no database, no CLI).

Every evidence record, attestation, SoA decision and event becomes a `LedgerEntry`, whose RFC
8785 canonical bytes are a leaf of an RFC 6962 Merkle tree. The log signs C2SP checkpoints
(origin, size, root) with an Ed25519 key; anyone holding the verifier key can check offline
that an entry is in the log (`inclusion_proof` / `verify_inclusion`), that the log only grew
(`consistency_proof` / `verify_consistency`, `accept`), and recompute the whole log
(`verify_log`). A store persists the `Node`s that `Frontier.append` yields and serves them back
through a `NodeReader`, so each proof costs O(log n) lookups.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from custos.ledger.canonical import canonical_json, canonical_object, parse_canonical
from custos.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    VerifierKey,
    generate_log_key,
    open_note,
    parse_and_verify,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_of,
)
from custos.ledger.entry import DIGEST_NAME, KINDS, LedgerEntry, format_recorded_at
from custos.ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    MissingNodeError,
    Node,
    NodeReader,
    leaf_hash,
    node_hash,
    root_of,
)
from custos.ledger.proofs import (
    MemoryNodes,
    ProofError,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from custos.ledger.verifier import CheckpointRefused, VerifyResult, accept, verify_log

if TYPE_CHECKING:
    from custos.store.ledger import Appended

__all__ = [
    "DIGEST_NAME",
    "EMPTY_ROOT",
    "KINDS",
    "Checkpoint",
    "CheckpointError",
    "CheckpointRefused",
    "Frontier",
    "LedgerEntry",
    "MemoryNodes",
    "MissingNodeError",
    "Node",
    "NodeReader",
    "ProofError",
    "VerifierKey",
    "VerifyResult",
    "accept",
    "canonical_json",
    "canonical_object",
    "consistency_proof",
    "format_recorded_at",
    "generate_log_key",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse_and_verify",
    "parse_canonical",
    "parse_verifier_key",
    "record",
    "root_of",
    "sign_checkpoint",
    "sign_note",
    "verifier_of",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
]


def record(
    payload: dict[str, Any],
    *,
    kind: str = "event",
    actor: str | None = None,
    project: str | Path = ".",
    db: str | None = None,
) -> Appended:
    """Append one entry to a project's ledger; it is durable when this returns.

        from custos.ledger import record
        record({"event": "trained", "model": "fraud-scoring", "version": 3,
                "model_sha256": digest, "dataset": "transactions-2026q3",
                "dataset_sha256": data_digest})

    `project` is the directory holding custos.yaml (its `.custos/custos.db` and ledger key are
    used), `db` a database URL (default: `CUSTOS_DATABASE_URL`, else that SQLite file), `actor`
    who did it (default: `CUSTOS_ACTOR`, else user@host). Returns the entry's sequence number
    (`first`) and the signed tree size.
    """
    from custos.workspace import record_entries  # the shell: store and key file

    return record_entries(Path(project), db, [(kind, payload)], actor)

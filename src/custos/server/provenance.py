"""Pushed evidence meets the keys registered for its systems: each record comes back with its
provenance, "verified" or "claimed" (the checking itself is custos.ledger.push_proof)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from custos.checks.model import Evidence
from custos.ledger.push_proof import EntryProof, verify_push
from custos.reports.json_schema import evidence_to_dict
from custos.server.context import AppContext
from custos.store import auth_store, ledger_keys


def attach(
    ctx: AppContext,
    evidence: Sequence[Evidence],
    proofs: Sequence[EntryProof | None],
    checkpoint: str | None,
    pushed_by: str,
) -> list[Evidence]:
    """The pushed evidence with its provenance, checked as of now."""
    with auth_store.transaction(ctx.store) as conn:
        keys = ledger_keys.of_systems(conn, {e.system for e in evidence})
    found = verify_push(
        [(evidence_to_dict(e), p) for e, p in zip(evidence, proofs, strict=True)],
        checkpoint,
        keys,
        ctx.now(),
        pushed_by,
    )
    return [dataclasses.replace(e, provenance=p) for e, p in zip(evidence, found, strict=True)]

"""A small inventory for the server tests: the two systems of tests/store/samples.report()."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from custos.inventory.documents import split
from custos.inventory.schema import Manifest
from custos.store import Store, auth_store, inventory_store

SYSTEM_A, SYSTEM_B = "fraud-scoring", "chargeback-bot"


def system(system_id: str) -> dict[str, Any]:
    return {
        "id": system_id,
        "name": system_id.replace("-", " ").title(),
        "purpose": "scores card transactions for fraud",
        "owner": "ml-team@example.org",
        "lifecycle": "production",
        "eu_ai_act": {"role": "deployer", "tier": "minimal"},
    }


def asset(asset_id: str, kind: str = "model") -> dict[str, Any]:
    return {
        "id": asset_id,
        "kind": kind,
        "location": f"models/{asset_id}.safetensors",
        "classification": "confidential",
        "owner": "ml-team@example.org",
    }


def risk(risk_id: str = "poisoning", systems: tuple[str, ...] = (SYSTEM_A,)) -> dict[str, Any]:
    return {
        "id": risk_id,
        "title": "Training data poisoned through the feedback loop",
        "threats": ["atlas:AML.T0020"],
        "systems": list(systems),
        "likelihood": 4,
        "impact": 4,
        "treatment": "mitigate",
        "controls": ["custos:ai:data-poisoning"],
        "owner": "security@example.org",
        "review_date": "2026-09-01",
    }


def attestation(att_id: str = "ai-policy", systems: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "id": att_id,
        "control": "iso27002:2022:5.1",
        "systems": list(systems),
        "statement": "The AI security policy is approved and published.",
        "author": "ciso@example.org",
        "date": "2026-05-01",
        "expires": "2027-05-01",
    }


def manifest(*systems: str, scoped: bool = False) -> dict[str, Any]:
    """Both systems (or those named); `scoped`: the attestation names the systems instead of
    applying to every system, as a push by one system's engineers must."""
    ids = systems or (SYSTEM_A, SYSTEM_B)
    return {
        "organisation": {"name": "Example Bank", "scope": "card payments AI"},
        "systems": [{**system(s), "assets": [asset(f"{s}-model")]} for s in ids],
        "risks": [risk(_risk_id(ids[0], scoped), systems=(ids[0],))],
        "attestations": [
            attestation(
                f"ai-policy-{ids[0]}" if scoped else "ai-policy", systems=ids if scoped else ()
            )
        ],
        "exclusions": [],
    }


def _risk_id(system_id: str, scoped: bool) -> str:
    """Risk ids are unique across systems: system B's own push names its risk apart."""
    return "poisoning" if not scoped or system_id == SYSTEM_A else f"poisoning-{system_id}"


def digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def seed(store: Store, data: dict[str, Any] | None = None) -> Manifest:
    """Store the manifest's documents as if a push had brought them."""
    parsed = Manifest.model_validate(data or manifest())
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with auth_store.transaction(store) as conn:
        for doc in split(parsed, {}):
            inventory_store.put(conn, doc, source="manifest", now=now, actor="seed")
    return parsed

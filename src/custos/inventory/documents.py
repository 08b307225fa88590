"""A manifest as separate documents, and back: how the server keeps an inventory that people
edit one item at a time (an AI system, an asset, a risk, ...) and still assesses it as one
`Manifest` with the same rules as `custos.yaml`. Pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from custos.inventory.schema import Exclusion, Manifest

Kind = Literal[
    "organisation", "signing", "system", "asset", "risk", "attestation", "exclusion", "assignment"
]
KINDS: tuple[Kind, ...] = (
    "organisation", "signing", "system", "asset", "risk", "attestation", "exclusion", "assignment",
)  # fmt: skip
SINGLETON_KEY = "default"  # the organisation and the signing policy have one document each


@dataclass(frozen=True)
class Document:
    """One inventory item: `body` is what its schema model dumps (`mode="json"`); `system` is
    the owning system of an asset; `file_sha256` an attestation file's current digest."""

    kind: Kind
    key: str
    body: Mapping[str, Any]
    system: str | None = None
    file_sha256: str | None = None


def exclusion_key(exclusion: Exclusion) -> str:
    """Exclusions have no id of their own: one per control and set of systems."""
    scope = ",".join(sorted(exclusion.systems)) or "*"
    digest = hashlib.sha256(f"{exclusion.control}|{scope}".encode()).hexdigest()
    return f"x-{digest[:12]}"


def split(manifest: Manifest, attestation_files: Mapping[str, str | None]) -> list[Document]:
    """The manifest's documents; systems without their assets (each asset is its own)."""
    docs = [Document("organisation", SINGLETON_KEY, manifest.organisation.model_dump(mode="json"))]
    if manifest.signing is not None:
        docs.append(Document("signing", SINGLETON_KEY, manifest.signing.model_dump(mode="json")))
    for system in manifest.systems:
        docs.append(
            Document("system", system.id, system.model_dump(mode="json", exclude={"assets"}))
        )
        docs.extend(
            Document("asset", a.id, a.model_dump(mode="json"), system=system.id)
            for a in system.assets
        )
    docs.extend(Document("risk", r.id, r.model_dump(mode="json")) for r in manifest.risks)
    docs.extend(
        Document(
            "attestation",
            a.id,
            a.model_dump(mode="json"),
            file_sha256=attestation_files.get(a.evidence) if a.evidence else None,
        )
        for a in manifest.attestations
    )
    docs.extend(
        Document("exclusion", exclusion_key(x), x.model_dump(mode="json"))
        for x in manifest.exclusions
    )
    docs.extend(
        Document("assignment", a.control, a.model_dump(mode="json")) for a in manifest.assignments
    )
    return docs


def assemble(docs: Iterable[Document]) -> Manifest | None:
    """The manifest the documents make, or None while there is no organisation or no system
    (nothing to assess yet). Raises pydantic's ValidationError for a document that no longer
    fits (the server validates each document before it is stored, so that is a bug)."""
    by_kind: dict[str, list[Document]] = {kind: [] for kind in KINDS}
    for doc in docs:
        by_kind[doc.kind].append(doc)
    if not by_kind["organisation"] or not by_kind["system"]:
        return None
    assets: dict[str, list[Mapping[str, Any]]] = {}
    for doc in sorted(by_kind["asset"], key=lambda d: d.key):
        assets.setdefault(doc.system or "", []).append(doc.body)
    data: dict[str, Any] = {
        "organisation": by_kind["organisation"][0].body,
        "systems": [
            {**doc.body, "assets": assets.get(doc.key, [])}
            for doc in sorted(by_kind["system"], key=lambda d: d.key)
        ],
        "risks": [d.body for d in sorted(by_kind["risk"], key=lambda d: d.key)],
        "attestations": [d.body for d in sorted(by_kind["attestation"], key=lambda d: d.key)],
        "exclusions": [d.body for d in sorted(by_kind["exclusion"], key=lambda d: d.key)],
        "assignments": [d.body for d in sorted(by_kind["assignment"], key=lambda d: d.key)],
    }
    if by_kind["signing"]:
        data["signing"] = by_kind["signing"][0].body
    return Manifest.model_validate(data)


def attestation_files(docs: Iterable[Document]) -> dict[str, str | None]:
    """Evidence file -> its current digest, as `assess()` wants it."""
    files: dict[str, str | None] = {}
    for doc in docs:
        evidence = doc.body.get("evidence") if doc.kind == "attestation" else None
        if isinstance(evidence, str):
            files[evidence] = doc.file_sha256
    return files


def systems_of(doc: Document) -> frozenset[str]:
    """The systems a document is about (empty: every system, or none in particular)."""
    if doc.kind == "system":
        return frozenset({doc.key})
    if doc.kind == "asset":
        return frozenset({doc.system or ""})
    named = doc.body.get("systems")
    return frozenset(named) if isinstance(named, list) else frozenset()

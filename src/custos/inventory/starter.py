"""The starter `custos.yaml` that `custos init` writes from what discovery found.

The text is built from a hand-written template, not `yaml.dump`, so that it can carry comments:
every value a person must decide is marked `# TODO:`. The placeholders are chosen so the file
loads as it is (`load_manifest` accepts it) without claiming anything false: owners and
classifications stay empty (so the asset-ownership check fails until someone fills them), and
texts such as the purpose say plainly that they are still to be written.

Notebooks and Dockerfiles have no asset kind of their own. They are listed as commented-out
`pipeline` assets: a notebook may be throw-away exploration or the real training pipeline, and a
Dockerfile may or may not build what serves this system, which only the owner can tell.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from custos.inventory.discover import Discovered
from custos.inventory.locations import is_glob
from custos.inventory.schema import ASSET_KINDS, AssetKind

SYSTEM_ID = "my-ai-system"
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class PlannedAsset:
    """How one discovered artifact appears in the starter manifest."""

    id: str
    kind: AssetKind
    location: str
    found: Discovered
    commented: bool  # listed as a suggestion the user may uncomment, not declared


def plan_assets(found: list[Discovered]) -> list[PlannedAsset]:
    """Unique asset ids for every discovered artifact, in path order."""
    taken: set[str] = set()
    planned: list[PlannedAsset] = []
    for item in sorted(found, key=lambda d: (d.path, d.kind)):
        kind = next((k for k in ASSET_KINDS if k == item.kind), None)
        asset_id = _unique_id(item, taken)
        taken.add(asset_id)
        location = glob.escape(item.path) if is_glob(item.path) else item.path
        planned.append(PlannedAsset(asset_id, kind or "pipeline", location, item, kind is None))
    return planned


def _slug(text: str) -> str:
    return _SLUG_CHARS.sub("-", text.lower()).strip("-")[:60].strip("-")


def _unique_id(item: Discovered, taken: set[str]) -> str:
    path = PurePosixPath(item.path)
    stem = _slug(path.stem if item.path != "." else "") or item.kind.replace("_", "-")
    candidates = [stem]
    if path.parent.name:
        candidates.append(f"{_slug(path.parent.name)}-{stem}".strip("-"))
    for candidate in candidates:
        if candidate and candidate not in taken:
            return candidate
    number = 2
    while f"{stem}-{number}" in taken:
        number += 1
    return f"{stem}-{number}"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def starter_manifest(
    root: Path,
    found: list[Discovered],
    organisation: str | None = None,
    today: dt.date | None = None,
) -> str:
    """The text of a starter custos.yaml for `root` (which is where it will be written)."""
    day = today or dt.date.today()
    planned = plan_assets(found)
    declared = [p for p in planned if not p.commented]
    suggested = [p for p in planned if p.commented]
    org_name = organisation.strip() if organisation and organisation.strip() else None
    lines = [
        "# custos.yaml: your AI systems, their assets, risks, attestations and exclusions.",
        f"# Written by `custos init` for {root.resolve().name or root.resolve()}: "
        f"{len(declared)} asset(s) found, {len(suggested)} more suggested below.",
        "# Review every line marked TODO, then run `custos scan` and `custos assess`.",
        "# `custos schema` prints the JSON Schema of this file.",
        "version: 1",
        "",
        "organisation:",
        f"  name: {_q(org_name)}"
        if org_name
        else f"  name: {_q('My organisation')}  # TODO: your organisation's name",
        f"  scope: {_q('TODO: the AI systems, teams and sites this inventory covers')}"
        "  # TODO: describe the scope",
        "",
        "systems:",
        f"  - id: {SYSTEM_ID}  # TODO: a short, stable id (risks and attestations refer to it)",
        f"    name: {_q('My AI system')}  # TODO: the system's name",
        f"    purpose: {_q('TODO: what the system does, for whom, and which decisions it informs')}"
        "  # TODO: the intended purpose",
        "    owner: null  # TODO: the accountable person or team",
        "    lifecycle: development  # TODO: design | development | validation | production | "
        "retired",
        "    eu_ai_act:",
        "      role: provider  # TODO: provider | deployer | importer | distributor | "
        "authorised-representative | product-manufacturer",
        "      # Custos derives the regimes, roles and obligations from these answers and says why",
        "      # (docs/ai-act.md), or set `tier:`.",
        "      questionnaire:",
        "        prohibited_practices: []  # TODO: any Art. 5 practice, e.g. social-scoring",
        "        annex_i_product: false  # TODO: a safety component of an Annex I product?",
        '        annex_iii: []  # TODO: Annex III points or areas, e.g. "5(b)", employment',
        "        annex_iii_exception: false  # TODO: Art. 6(3): no significant risk of harm?",
        "        profiling: false  # TODO: does it profile natural persons? (no Art. 6(3) then)",
        "        transparency: []  # TODO: Art. 50 cases, e.g. interacts-with-people",
        "        gpai: false  # TODO: is it a general-purpose AI model?",
        "        gpai_systemic: false  # TODO: one with systemic risk (Art. 51(1))?",
        "        substantial_modification: false  # TODO: Art. 25: modified a high-risk system?",
    ]
    lines += _assets_block(declared, suggested)
    lines += _examples(declared, day)
    return "\n".join(lines) + "\n"


def _assets_block(declared: list[PlannedAsset], suggested: list[PlannedAsset]) -> list[str]:
    lines = ["    assets:" if declared else "    assets: []  # TODO: nothing was found; add assets"]
    for asset in declared:
        lines += [
            f"      - id: {asset.id}",
            f"        kind: {asset.kind}",
            f"        location: {_q(asset.location)}",
            "        classification: null  # TODO: public | internal | confidential | restricted",
            "        owner: null  # TODO: the accountable person or team",
            f"        notes: {_q(_note(asset.found))}",
        ]
    if suggested:
        lines += [
            "      # Also found. Notebooks and Dockerfiles have no asset kind of their own:",
            "      # uncomment those that train or ship this system, as pipeline assets.",
        ]
        if not declared:
            lines.append("      # (replace `assets: []` above by `assets:` first)")
        for asset in suggested:
            lines += [
                f"      # - id: {asset.id}",
                f"      #   kind: {asset.kind}",
                f"      #   location: {_q(asset.location)}",
                f"      #   notes: {_q(_note(asset.found))}",
            ]
    return lines


def _note(found: Discovered) -> str:
    return f"Found by custos init ({found.kind}, {found.format}): {found.reason}"


def _examples(declared: list[PlannedAsset], day: dt.date) -> list[str]:
    models = [a.id for a in declared if a.kind == "model"]
    affected = f"assets: [{models[0]}]" if models else f"systems: [{SYSTEM_ID}]"
    review = day + dt.timedelta(days=90)
    return [
        "",
        "# Risks: a threat (ATLAS or OWASP id) to systems or assets, scored likelihood x impact",
        "# (1-5 each), with its treatment. To start, replace `[]` and uncomment the example.",
        "risks: []",
        "#  - id: tampered-model",
        f"#    title: {_q('A tampered or malicious model file is loaded in production')}",
        '#    threats: ["atlas:AML.T0010", "owasp:ML06:2023"]',
        f"#    {affected}",
        "#    likelihood: 3",
        "#    impact: 4",
        "#    treatment: mitigate",
        '#    controls: ["custos:ai:model-signing", "custos:ai:safe-model-serialization"]',
        "#    residual: {likelihood: 1, impact: 4}",
        "#    owner: TODO",
        f"#    review_date: {review.isoformat()}",
        "",
        "# Attestations: a person's statement for what cannot be checked automatically; Custos",
        "# records the SHA-256 of the evidence file and notices when it changes.",
        "attestations: []",
        "#  - id: acceptable-use-policy",
        '#    control: "custos:ai:acceptable-use"',
        f"#    statement: {_q('The AI acceptable-use policy is approved and known to all staff.')}",
        '#    evidence: "docs/ai-acceptable-use-policy.pdf"',
        "#    author: TODO",
        f"#    date: {day.isoformat()}",
        f"#    expires: {(day + dt.timedelta(days=365)).isoformat()}",
        "",
        "# Exclusions: controls that do not apply, with the reason (shown in the SoA).",
        "exclusions: []",
        '#  - control: "iso27002:2022:7.4"',
        "#    justification: "
        + _q(
            "The system runs only in a cloud provider's data centres; physical monitoring is "
            "the provider's, covered by its ISO/IEC 27001 certification."
        ),
    ]

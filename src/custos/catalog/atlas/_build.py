"""Resolving cross-references in the read ATLAS data and building the Custos framework file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from custos.catalog.atlas._reader import (
    FRAMEWORK_ID,
    MITIGATIONS_GROUP,
    PREFIX,
    SITE,
    TACTICS_GROUP,
    TECHNIQUES_GROUP,
    Atlas,
    Reader,
)
from custos.catalog.schema import FRAMEWORK_FORMAT, FrameworkFile

# `AML.T0051.001` -> `AML.T0051`: the fallback when a sub-technique names no parent.
_SUBTECHNIQUE_RE = re.compile(r"^(?P<parent>(?:[A-Z]+\d*\.)+T\d{4})\.\d{3}$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SITE_LINK = re.compile(r"\]\(/")


def resolve(atlas: Atlas, reader: Reader) -> None:
    """Settle parents and tactics; drop references to objects the file does not hold."""
    tactic_ids = {t.ref for t in atlas.tactics}
    techniques = {t.ref: t for t in atlas.techniques}
    for technique in atlas.techniques:
        if technique.parent is None:
            match = _SUBTECHNIQUE_RE.match(technique.ref)
            if match and match["parent"] in techniques:
                technique.parent = match["parent"]
        elif technique.parent not in techniques:
            raise reader.fail(
                f"sub-technique {technique.ref} names parent {technique.parent!r}, "
                "which is not a technique in the file"
            )
        if technique.parent == technique.ref:
            raise reader.fail(f"technique {technique.ref} names itself as its parent")
    for technique in atlas.techniques:
        parent = techniques.get(technique.parent) if technique.parent else None
        if parent is not None and parent.parent is not None:
            raise reader.fail(
                f"sub-technique {technique.ref} names {parent.ref}, itself a sub-technique, "
                "as its parent"
            )
        if not technique.tactics and parent is not None:
            technique.tactics = list(parent.tactics)
        technique.tactics = [t for t in technique.tactics if t in tactic_ids]
    for mitigation in atlas.mitigations:
        mitigation.techniques = [t for t in mitigation.techniques if t in techniques]


def build(atlas: Atlas, source: Path, reader: Reader) -> FrameworkFile:
    names = {t.ref: t.name for t in atlas.techniques}
    format_note = f", data format {atlas.format_version}" if atlas.format_version else ""
    controls: list[dict[str, Any]] = [
        _group(TACTICS_GROUP, "Tactics", "The adversary goals ATLAS techniques serve."),
    ]
    for tactic in atlas.tactics:
        controls.append(
            _node(
                tactic.ref,
                "tactic",
                tactic.name,
                tactic.name,
                tactic.description,
                TACTICS_GROUP,
                {"attack-ref": tactic.attack_refs},
                group=True,
            )
        )

    controls.append(
        _group(TECHNIQUES_GROUP, "Techniques", "How adversaries achieve ATLAS tactics.")
    )
    for technique in atlas.techniques:
        title = technique.name
        parent = TECHNIQUES_GROUP
        attributes = {
            "tactics": [_control_id(t) for t in technique.tactics],
            "attack-ref": technique.attack_refs,
            "maturity": technique.maturity,
            "platforms": technique.platforms,
        }
        if technique.parent is not None:
            # The title alone, the parent as a field: "Indirect" under "LLM Prompt Injection",
            # never "LLM Prompt Injection: Indirect" (readers join them as they need).
            parent = _control_id(technique.parent)
            parent_name = names[technique.parent]
            title = title.removeprefix(f"{parent_name}: ").strip() or title
            attributes["parent-title"] = [parent_name]
        controls.append(
            _node(
                technique.ref,
                "technique",
                technique.name,
                title,
                technique.description,
                parent,
                attributes,
            )
        )

    if atlas.mitigations:
        controls.append(
            _group(MITIGATIONS_GROUP, "Mitigations", "Security measures ATLAS recommends.")
        )
    for mitigation in atlas.mitigations:
        attributes = {
            "mitigates": [_control_id(t) for t in mitigation.techniques],
            "category": mitigation.categories,
            "lifecycle": mitigation.lifecycle,
            "attack-ref": mitigation.attack_refs,
        }
        controls.append(
            _node(
                mitigation.ref,
                "mitigation",
                mitigation.name,
                mitigation.name,
                mitigation.description,
                MITIGATIONS_GROUP,
                attributes,
            )
        )

    document = {
        "format": FRAMEWORK_FORMAT,
        "framework": {
            "id": FRAMEWORK_ID,
            "name": "MITRE ATLAS",
            "version": atlas.version,
            "prefix": PREFIX,
            "publisher": "The MITRE Corporation",
            "source_url": SITE,
            "licence": "Apache-2.0",
            "attribution": (
                "MITRE ATLAS(TM) data, Copyright MITRE. Licensed under the Apache License 2.0"
            ),
            "description": (
                f"MITRE ATLAS (Adversarial Threat Landscape for AI Systems) release "
                f"{atlas.version}, imported from {source.name} (layout {atlas.layout}"
                f"{format_note}): {len(atlas.tactics)} tactics, {len(atlas.techniques)} "
                f"techniques, {len(atlas.mitigations)} mitigations."
            ),
        },
        "controls": controls,
    }
    try:
        return FrameworkFile.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        raise reader.fail(f"cannot convert to a Custos framework: {where}: {message}") from exc


def _control_id(ref: str) -> str:
    return f"{PREFIX}:{ref}"


def _group(ident: str, title: str, guidance: str) -> dict[str, Any]:
    return {
        "id": ident,
        "ref": title,
        "title": f"ATLAS {title.lower()}",
        "kind": "section",
        "group": True,
        "guidance": guidance,
    }


def _node(
    ref: str,
    kind: str,
    name: str,
    title: str,
    description: str,
    parent: str,
    attributes: Mapping[str, list[str]],
    *,
    group: bool = False,
) -> dict[str, Any]:
    """One tactic, technique or mitigation; guidance never merely repeats the name."""
    guidance = _first_paragraph(description)
    if not guidance or guidance.rstrip(".").casefold() in (name.casefold(), title.casefold()):
        guidance = f"MITRE ATLAS {kind} {title}."
    return {
        "id": _control_id(ref),
        "ref": ref,
        "title": title,
        "kind": kind,
        "group": group,
        "parent": parent,
        "guidance": guidance,
        "attributes": {key: values for key, values in attributes.items() if values},
    }


def _first_paragraph(description: str) -> str:
    """The first paragraph on one line, with ATLAS site links made absolute."""
    first = _PARAGRAPH_BREAK.split(description.strip(), maxsplit=1)[0]
    return _SITE_LINK.sub(f"]({SITE}/", " ".join(first.split()))

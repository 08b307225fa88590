"""Reading ATLAS layout v5 (the legacy `matrices` layout, data formats 4.0.0 to 5.6.0)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from custos.catalog.atlas._reader import Atlas, Mitigation, Reader, Tactic, Technique, kind, unique


def read_v5(data: Mapping[str, Any], reader: Reader) -> Atlas:
    version = reader.text(data, "version", "the top level of the ATLAS file")
    atlas = Atlas(layout="v5", version=version, format_version=None)
    matrices = reader.sequence(data.get("matrices"), "'matrices'")
    if not matrices:
        raise reader.fail("'matrices' is empty: the ATLAS file holds no matrix")
    mitigation_lists: list[tuple[str, object]] = []
    for m_index, raw_matrix in enumerate(matrices):
        where = f"matrices[{m_index}]"
        matrix = reader.mapping(raw_matrix, where)
        for index, raw in enumerate(reader.sequence(matrix.get("tactics"), f"{where}.tactics")):
            atlas.tactics.append(_v5_tactic(raw, f"{where}.tactics[{index}]", reader))
        techniques = reader.sequence(matrix.get("techniques"), f"{where}.techniques")
        for index, raw in enumerate(techniques):
            atlas.techniques.append(_v5_technique(raw, f"{where}.techniques[{index}]", reader))
        if "mitigations" in matrix:
            mitigation_lists.append((f"{where}.mitigations", matrix["mitigations"]))
    if "mitigations" in data:
        mitigation_lists.append(("mitigations", data["mitigations"]))
    for where, raw_list in mitigation_lists:
        for index, raw in enumerate(reader.sequence(raw_list, f"'{where}'")):
            atlas.mitigations.append(_v5_mitigation(raw, f"{where}[{index}]", reader))
    return atlas


def _v5_tactic(raw: object, where: str, reader: Reader) -> Tactic:
    obj = reader.mapping(raw, where)
    ref = reader.atlas_id(obj, where)
    where = f"tactic {ref}"
    reader.object_type(obj, "tactic", where)
    return Tactic(
        ref=ref,
        name=reader.text(obj, "name", where),
        description=reader.description(obj, where),
        attack_refs=reader.attack_refs(obj, where),
    )


def _v5_technique(raw: object, where: str, reader: Reader) -> Technique:
    obj = reader.mapping(raw, where)
    ref = reader.atlas_id(obj, where)
    where = f"technique {ref}"
    reader.object_type(obj, "technique", where)
    # The deprecated dist/ATLAS.yaml spells the parent link `specializes`.
    parent = obj.get("subtechnique-of", obj.get("specializes"))
    if parent is not None and not isinstance(parent, str):
        raise reader.fail(f"{where} names a parent technique that is {kind(parent)}, not an id")
    return Technique(
        ref=ref,
        name=reader.text(obj, "name", where),
        description=reader.description(obj, where),
        parent=parent.strip() if parent else None,
        tactics=reader.strings(obj.get("tactics"), f"{where} 'tactics'"),
        attack_refs=reader.attack_refs(obj, where),
        maturity=reader.strings(obj.get("maturity"), f"{where} 'maturity'"),
    )


def _v5_mitigation(raw: object, where: str, reader: Reader) -> Mitigation:
    obj = reader.mapping(raw, where)
    ref = reader.atlas_id(obj, where)
    where = f"mitigation {ref}"
    reader.object_type(obj, "mitigation", where)
    techniques: list[str] = []
    for index, entry in enumerate(reader.sequence(obj.get("techniques"), f"{where} techniques")):
        if isinstance(entry, str):
            techniques.append(entry.strip())
        elif isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            techniques.append(entry["id"].strip())
        else:
            raise reader.fail(f"{where} techniques[{index}] has no technique 'id'")
    lifecycle = obj.get("ML-lifecycle", obj.get("ml-lifecycle"))
    return Mitigation(
        ref=ref,
        name=reader.text(obj, "name", where),
        description=reader.description(obj, where),
        techniques=unique(techniques),
        categories=reader.strings(obj.get("category"), f"{where} 'category'"),
        lifecycle=reader.strings(lifecycle, f"{where} 'ML-lifecycle'"),
        attack_refs=reader.attack_refs(obj, where),
    )

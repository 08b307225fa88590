"""Reading ATLAS layout v6 (data format 6.x: ID-keyed object maps and `relationships`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from custos.catalog.atlas._reader import (
    SUPPORTED_FORMAT_MAJOR,
    Atlas,
    Mitigation,
    Reader,
    Tactic,
    Technique,
    unique,
)


def read_v6(data: Mapping[str, Any], reader: Reader) -> Atlas:
    format_version = _v6_format_version(data, reader)
    collection = reader.mapping(data.get("collection"), "'collection'")
    atlas = Atlas(
        layout="v6",
        version=_v6_content_version(collection, reader),
        format_version=format_version,
    )
    relationships = _v6_relationships(data.get("relationships"), reader)

    tactics = _v6_objects(data, "tactics", "tactic", reader)
    order = _v6_tactic_order(data, relationships)
    tactics.sort(key=lambda item: order.get(item[0], len(order)))  # stable: file order otherwise
    for ref, obj in tactics:
        where = f"tactic {ref}"
        atlas.tactics.append(
            Tactic(
                ref=ref,
                name=reader.text(obj, "name", where),
                description=reader.description(obj, where),
                attack_refs=reader.attack_refs(obj, where),
            )
        )

    for ref, obj in _v6_objects(data, "techniques", "technique", reader):
        where = f"technique {ref}"
        parents = _targets(relationships, ref, "specializes")
        if len(parents) > 1:
            raise reader.fail(f"{where} specializes more than one technique: {', '.join(parents)}")
        atlas.techniques.append(
            Technique(
                ref=ref,
                name=reader.text(obj, "name", where),
                description=reader.description(obj, where),
                parent=parents[0] if parents else None,
                tactics=_targets(relationships, ref, "achieves"),
                attack_refs=reader.attack_refs(obj, where),
                maturity=reader.strings(obj.get("maturity"), f"{where} 'maturity'"),
                platforms=reader.strings(obj.get("platforms"), f"{where} 'platforms'"),
            )
        )

    for ref, obj in _v6_objects(data, "mitigations", "mitigation", reader):
        where = f"mitigation {ref}"
        atlas.mitigations.append(
            Mitigation(
                ref=ref,
                name=reader.text(obj, "name", where),
                description=reader.description(obj, where),
                techniques=_targets(relationships, ref, "mitigates"),
                categories=reader.strings(obj.get("categories"), f"{where} 'categories'"),
                lifecycle=reader.strings(
                    obj.get("lifecycle-phases"), f"{where} 'lifecycle-phases'"
                ),
                attack_refs=reader.attack_refs(obj, where),
            )
        )
    return atlas


def _v6_format_version(data: Mapping[str, Any], reader: Reader) -> str | None:
    raw = data.get("format-version")
    if raw is None:
        return None
    text = str(raw).strip()
    major = text.split(".", 1)[0]
    if not major.isdigit() or int(major) != SUPPORTED_FORMAT_MAJOR:
        raise reader.fail(
            f"unsupported ATLAS data format {text!r}: this importer reads format "
            f"{SUPPORTED_FORMAT_MAJOR}.x and the legacy 'matrices' layout"
        )
    return text


def _v6_content_version(collection: Mapping[str, Any], reader: Reader) -> str:
    raw = collection.get("version")
    # An unquoted YYYY.MM reads as a float and loses a trailing zero (2026.10 -> 2026.1).
    if isinstance(raw, float) and 1900 < raw < 3000:
        return f"{raw:.2f}"
    return reader.text(collection, "version", "'collection'")


def _v6_objects(
    data: Mapping[str, Any], key: str, object_type: str, reader: Reader
) -> list[tuple[str, Mapping[str, Any]]]:
    """The objects of one ID-keyed map, in file order, each checked against its key."""
    raw = data.get(key)
    if raw is None:
        return []
    objects = reader.mapping(raw, f"'{key}'")
    out: list[tuple[str, Mapping[str, Any]]] = []
    for map_key, raw_obj in objects.items():
        where = f"{key}[{map_key!r}]"
        obj = reader.mapping(raw_obj, where)
        ref = reader.atlas_id(obj, where)
        if ref != str(map_key).strip():
            raise reader.fail(f"{where} has id {ref!r}, which differs from its key")
        reader.object_type(obj, object_type, where)
        out.append((ref, obj))
    return out


_Relationships = dict[str, dict[str, list[Mapping[str, Any]]]]


def _v6_relationships(raw: object, reader: Reader) -> _Relationships:
    """`relationships` as source -> type -> entries, keyed by each entry's own `source`."""
    out: _Relationships = {}
    if raw is None:
        return out
    for outer_source, by_type in reader.mapping(raw, "'relationships'").items():
        where = f"relationships[{outer_source!r}]"
        for rel_type, entries in reader.mapping(by_type, where).items():
            for index, entry in enumerate(reader.sequence(entries, f"{where}.{rel_type}")):
                rel = reader.mapping(entry, f"{where}.{rel_type}[{index}]")
                if not isinstance(rel.get("target"), str):
                    raise reader.fail(f"{where}.{rel_type}[{index}] has no 'target' id")
                source = str(rel.get("source") or outer_source).strip()
                kind = str(rel.get("relationship-type") or rel_type).strip()
                out.setdefault(source, {}).setdefault(kind, []).append(rel)
    return out


def _targets(relationships: _Relationships, source: str, kind: str) -> list[str]:
    return unique(str(rel["target"]).strip() for rel in relationships.get(source, {}).get(kind, []))


def _v6_tactic_order(data: Mapping[str, Any], relationships: _Relationships) -> dict[str, int]:
    """Matrix column order from the `sequences` relationships (by `position`, else list order)."""
    matrix = data.get("matrix")
    matrix_id = matrix.get("id") if isinstance(matrix, Mapping) else None
    sequences = relationships.get(str(matrix_id or "ATLAS-matrix"), {}).get("sequences", [])
    ranked: list[tuple[float, int, str]] = []
    for index, rel in enumerate(sequences):
        position = rel.get("position")
        rank = float(position) if isinstance(position, int | float) else float(index)
        ranked.append((rank, index, str(rel["target"]).strip()))
    return {target: order for order, (_, _, target) in enumerate(sorted(ranked))}

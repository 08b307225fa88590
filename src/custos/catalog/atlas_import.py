"""Convert MITRE ATLAS's distributed data file into a Custos framework file.

`custos catalog import-atlas FILE` reads the YAML (the caller does the I/O) and hands the parsed
document to `atlas_framework`, which recognises two layouts:

**Layout v5** (legacy data formats 4.0.0 to 5.6.0; the deprecated `dist/ATLAS.yaml`, frozen at
5.6.0, and `dist/legacy/ATLAS-<semver>.yaml`)::

    id: ATLAS
    version: 5.6.0                       # the content release
    matrices:
    - id: ATLAS
      tactics: [{id: AML.TA0002, name, description, ATT&CK-reference: {id, url}}]
      techniques:
      - {id: AML.T0000, name, description, tactics: [AML.TA0002]}
      - {id: AML.T0000.000, name, description, subtechnique-of: AML.T0000}
      mitigations:                       # in the matrix (4.4+); a top-level list is read too
      - {id: AML.M0000, name, description, category: [...], ML-lifecycle: [...],
         techniques: [{id: AML.T0000, use: ...}]}
    case-studies: [...]

**Layout v6** (data format 6.0.0, `dist/v6/ATLAS-<YYYY.MM>.yaml`, from content release 2026.05
on; every older release is re-published in it too)::

    format-version: 6.0.0
    collection: {id: ATLAS-collection, version: "2026.06", ...}   # the content release
    matrix: {id: ATLAS-matrix, ...}
    tactics: {AML.TA0002: {id: AML.TA0002, name, description, attack-reference: {id, url}}}
    techniques: {AML.T0051: {id, name, description, maturity, platforms}, AML.T0051.001: ...}
    mitigations: {AML.M0000: {id, name, description, categories, lifecycle-phases}}
    case-studies: {...}
    relationships:                       # source id -> relationship type -> list
      ATLAS-matrix: {sequences: [{source, target: AML.TA0002, position: 1}]}
      AML.T0051.001:
        achieves: [{source: AML.T0051.001, target: AML.TA0005, relationship-type: achieves}]
        specializes: [{source: AML.T0051.001, target: AML.T0051, ...}]
      AML.M0000: {mitigates: [{source: AML.M0000, target: AML.T0000, description}]}

Both become one Custos framework (`mitre-atlas`, prefix `atlas`) with three group nodes
(`atlas:tactics`, `atlas:techniques`, `atlas:mitigations`) and one node per tactic, technique
and mitigation, id `atlas:<ATLAS id>`. A sub-technique's parent is its technique; a technique
records its tactics, and a mitigation the techniques it mitigates, as attributes. A
sub-technique without tactics of its own (v5 never gives it any) inherits its parent's. The
guidance of each node is the first paragraph of the ATLAS description. Case studies are not
imported. Anything the function cannot read with certainty is a `DataError` naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from custos.catalog.schema import FRAMEWORK_FORMAT, FrameworkFile
from custos.errors import DataError

Layout = Literal["v5", "v6"]

FRAMEWORK_ID = "mitre-atlas"
PREFIX = "atlas"
SITE = "https://atlas.mitre.org"
SUPPORTED_FORMAT_MAJOR = 6

TACTICS_GROUP = f"{PREFIX}:tactics"
TECHNIQUES_GROUP = f"{PREFIX}:techniques"
MITIGATIONS_GROUP = f"{PREFIX}:mitigations"

# What an ATLAS id may look like here: it must also be a valid Custos control reference.
_ATLAS_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# `AML.T0051.001` -> `AML.T0051`: the fallback when a sub-technique names no parent.
_SUBTECHNIQUE_RE = re.compile(r"^(?P<parent>(?:[A-Z]+\d*\.)+T\d{4})\.\d{3}$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SITE_LINK = re.compile(r"\]\(/")
_POINTER_RE = re.compile(r"^[\w./-]+\.ya?ml$")


@dataclass
class _Tactic:
    ref: str
    name: str
    description: str
    attack_refs: list[str]


@dataclass
class _Technique:
    ref: str
    name: str
    description: str
    parent: str | None
    tactics: list[str]
    attack_refs: list[str]
    maturity: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)


@dataclass
class _Mitigation:
    ref: str
    name: str
    description: str
    techniques: list[str]
    categories: list[str]
    lifecycle: list[str]
    attack_refs: list[str]


@dataclass
class _Atlas:
    layout: Layout
    version: str
    format_version: str | None
    tactics: list[_Tactic] = field(default_factory=list)
    techniques: list[_Technique] = field(default_factory=list)
    mitigations: list[_Mitigation] = field(default_factory=list)


class _Reader:
    """Shared helpers: every problem becomes a one-line `DataError` naming the file."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.seen: set[str] = set()

    def fail(self, message: str) -> DataError:
        return DataError(self.source, message)

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"{where} must be a mapping, not {_kind(value)}")
        return value

    def sequence(self, value: object, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"{where} must be a list, not {_kind(value)}")
        return value

    def text(self, obj: Mapping[str, Any], key: str, where: str) -> str:
        value = obj.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            if value is None:
                raise self.fail(f"{where} has no {key!r}")
            raise self.fail(f"{where} has a {key!r} that is {_kind(value)}, not text")
        text = str(value).strip()
        if not text:
            raise self.fail(f"{where} has an empty {key!r}")
        return text

    def atlas_id(self, obj: Mapping[str, Any], where: str) -> str:
        ident = self.text(obj, "id", where)
        if not _ATLAS_ID_RE.match(ident):
            raise self.fail(f"{where} has an id {ident!r} that is not a valid ATLAS id")
        if ident in self.seen:
            raise self.fail(f"duplicate ATLAS id {ident!r} ({where})")
        self.seen.add(ident)
        return ident

    def object_type(self, obj: Mapping[str, Any], expected: str, where: str) -> None:
        actual = obj.get("object-type")
        if actual is not None and actual != expected:
            raise self.fail(f"{where} has object-type {actual!r}, expected {expected!r}")

    def description(self, obj: Mapping[str, Any], where: str) -> str:
        value = obj.get("description")
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{where} has a 'description' that is {_kind(value)}, not text")
        return value

    def strings(self, value: object, where: str) -> list[str]:
        """A list of strings (a lone string counts as a list of one); blanks are dropped."""
        items = [value] if isinstance(value, str) else self.sequence(value, where)
        out: list[str] = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise self.fail(f"{where} must hold text, found {_kind(item)}")
            text = str(item).strip()
            if text:
                out.append(text)
        return _unique(out)

    def attack_refs(self, obj: Mapping[str, Any], where: str) -> list[str]:
        value = obj.get("attack-reference", obj.get("ATT&CK-reference"))
        if value is None:
            return []
        entries = value if isinstance(value, list) else [value]
        refs: list[str] = []
        for entry in entries:
            if isinstance(entry, str):
                refs.append(entry.strip())
            elif isinstance(entry, Mapping) and entry.get("id") is not None:
                refs.append(str(entry["id"]).strip())
            else:
                raise self.fail(f"{where} has an ATT&CK reference without an id")
        return _unique(r for r in refs if r)


def atlas_framework(data: object, source: Path) -> FrameworkFile:
    """Turn a parsed MITRE ATLAS data file (layout v5 or v6, see the module doc) into a framework.

    `data` is the YAML document as parsed by the caller; `source` is the file it came from, used
    in the description and in every error. Raises `DataError(source, ...)` when the document is
    not an ATLAS data file this importer understands.
    """
    reader = _Reader(source)
    if isinstance(data, str) and _POINTER_RE.match(data.strip()):
        raise reader.fail(
            f"this is an ATLAS pointer file naming {data.strip()!r} (a symbolic link saved as "
            "text), not the data; import the dated file it names"
        )
    if not isinstance(data, Mapping):
        raise reader.fail(f"not an ATLAS data file: the top level is {_kind(data)}, not a mapping")

    if "collection" in data:
        atlas = _read_v6(data, reader)
    elif "matrices" in data:
        atlas = _read_v5(data, reader)
    else:
        keys = ", ".join(sorted(str(k) for k in data)) or "none"
        raise reader.fail(
            "unrecognised ATLAS layout: expected a top-level 'matrices' list (data format 5 and "
            f"earlier) or a 'collection' (data format 6); top-level keys found: {keys}"
        )
    if not atlas.techniques:
        raise reader.fail(f"the ATLAS {atlas.layout} file holds no techniques")
    _resolve(atlas, reader)
    return _build(atlas, source, reader)


# --- layout v5 ---------------------------------------------------------------------------------


def _read_v5(data: Mapping[str, Any], reader: _Reader) -> _Atlas:
    version = reader.text(data, "version", "the top level of the ATLAS file")
    atlas = _Atlas(layout="v5", version=version, format_version=None)
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


def _v5_tactic(raw: object, where: str, reader: _Reader) -> _Tactic:
    obj = reader.mapping(raw, where)
    ref = reader.atlas_id(obj, where)
    where = f"tactic {ref}"
    reader.object_type(obj, "tactic", where)
    return _Tactic(
        ref=ref,
        name=reader.text(obj, "name", where),
        description=reader.description(obj, where),
        attack_refs=reader.attack_refs(obj, where),
    )


def _v5_technique(raw: object, where: str, reader: _Reader) -> _Technique:
    obj = reader.mapping(raw, where)
    ref = reader.atlas_id(obj, where)
    where = f"technique {ref}"
    reader.object_type(obj, "technique", where)
    # The deprecated dist/ATLAS.yaml spells the parent link `specializes`.
    parent = obj.get("subtechnique-of", obj.get("specializes"))
    if parent is not None and not isinstance(parent, str):
        raise reader.fail(f"{where} names a parent technique that is {_kind(parent)}, not an id")
    return _Technique(
        ref=ref,
        name=reader.text(obj, "name", where),
        description=reader.description(obj, where),
        parent=parent.strip() if parent else None,
        tactics=reader.strings(obj.get("tactics"), f"{where} 'tactics'"),
        attack_refs=reader.attack_refs(obj, where),
        maturity=reader.strings(obj.get("maturity"), f"{where} 'maturity'"),
    )


def _v5_mitigation(raw: object, where: str, reader: _Reader) -> _Mitigation:
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
    return _Mitigation(
        ref=ref,
        name=reader.text(obj, "name", where),
        description=reader.description(obj, where),
        techniques=_unique(techniques),
        categories=reader.strings(obj.get("category"), f"{where} 'category'"),
        lifecycle=reader.strings(lifecycle, f"{where} 'ML-lifecycle'"),
        attack_refs=reader.attack_refs(obj, where),
    )


# --- layout v6 ---------------------------------------------------------------------------------


def _read_v6(data: Mapping[str, Any], reader: _Reader) -> _Atlas:
    format_version = _v6_format_version(data, reader)
    collection = reader.mapping(data.get("collection"), "'collection'")
    atlas = _Atlas(
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
            _Tactic(
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
            _Technique(
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
            _Mitigation(
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


def _v6_format_version(data: Mapping[str, Any], reader: _Reader) -> str | None:
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


def _v6_content_version(collection: Mapping[str, Any], reader: _Reader) -> str:
    raw = collection.get("version")
    # An unquoted YYYY.MM reads as a float and loses a trailing zero (2026.10 -> 2026.1).
    if isinstance(raw, float) and 1900 < raw < 3000:
        return f"{raw:.2f}"
    return reader.text(collection, "version", "'collection'")


def _v6_objects(
    data: Mapping[str, Any], key: str, object_type: str, reader: _Reader
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


def _v6_relationships(raw: object, reader: _Reader) -> _Relationships:
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
    return _unique(
        str(rel["target"]).strip() for rel in relationships.get(source, {}).get(kind, [])
    )


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


# --- shared: cross-references and output -------------------------------------------------------


def _resolve(atlas: _Atlas, reader: _Reader) -> None:
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


def _build(atlas: _Atlas, source: Path, reader: _Reader) -> FrameworkFile:
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
        if technique.parent is not None:
            parent = _control_id(technique.parent)
            parent_name = names[technique.parent]
            if not title.startswith(parent_name):
                title = f"{parent_name}: {title}"
        attributes = {
            "tactics": [_control_id(t) for t in technique.tactics],
            "attack-ref": technique.attack_refs,
            "maturity": technique.maturity,
            "platforms": technique.platforms,
        }
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


def _unique(items: Iterable[str]) -> list[str]:
    """Drop repeats, keeping the first occurrence."""
    return list(dict.fromkeys(items))


def _kind(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return f"a {type(value).__name__}"

"""A mapping table as an OSCAL mapping collection, built and re-read with compliance-trestle.

The collection holds up to two mappings between the same source and target catalogs: one with the
direct claims of Custos' mapping files (method `human`) and one with the relationships derived
through intermediate controls (method `automation`). Each map entry names its source and target
control by the OSCAL token id that `custos catalog export` gives it, keeps the Custos id in a
`custos-id` property, and carries the rationale as remarks. Relationships are NIST IR 8477 set
theory (`matching-rationale: semantic`), written with OSCAL's names (`subset-of`, ...).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path

from trestle.oscal import OSCAL_VERSION, common
from trestle.oscal import mapping as oscal

from custos import __version__
from custos.catalog.mapping_table import MappingTable, Row
from custos.catalog.model import Framework, Relationship
from custos.catalog.oscal import NS, oscal_id
from custos.errors import CustosError, DataError, UserError

_UUID_NS = uuid.UUID("2b8e6a4c-0d7f-4e3a-9c51-7a0e9d4b6f21")

OSCAL_RELATIONSHIP: dict[Relationship, str] = {
    "equal": "equal-to",
    "subset": "subset-of",
    "superset": "superset-of",
    "intersect": "intersects-with",
    "no-relationship": "no-relationship",
}


def _prop(name: str, value: str) -> common.Property:
    return common.Property(name=name, value=" ".join(value.split()), ns=NS)


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_UUID_NS, "\x1f".join(parts)))


def _item(control_id: str) -> oscal.MappingItem:
    return oscal.MappingItem(
        type="control", id_ref=oscal_id(control_id), props=[_prop("custos-id", control_id)]
    )


def _map(row: Row) -> oscal.Map:
    props = [
        _prop("custos-relationship", row.relationship),
        _prop("custos-derivation", "direct" if row.direct else "derived"),
        *(_prop("custos-mapping-set", name) for name in row.mapping_sets),
    ]
    if not row.direct:
        props.append(_prop("custos-path", " -> ".join(row.path)))
    return oscal.Map(
        uuid=_uuid("map", row.source.id, row.target.id),
        relationship=OSCAL_RELATIONSHIP[row.relationship],
        sources=[_item(row.source.id)],
        targets=[_item(row.target.id)],
        props=props,
        remarks=row.rationale,
    )


def _resource(framework: Framework) -> oscal.MappingResourceReference:
    return oscal.MappingResourceReference(
        type="catalog",
        href=f"{framework.id}.json",
        props=[_prop("custos-framework", framework.id), _prop("version", framework.version)],
        links=[common.Link(href=framework.source_url, rel="reference")],
        remarks=(
            f"{framework.name} {framework.version}, as written by `custos catalog export "
            f"--format oscal --framework {framework.id} --out {framework.id}.json`."
        ),
    )


def _mapping(
    table: MappingTable, rows: list[Row], *, direct: bool, gap: oscal.GapSummary | None
) -> oscal.Mapping:
    kind = "direct" if direct else "derived"
    description = (
        "Direct claims from Custos mapping files, each made and justified for that pair."
        if direct
        else "Relationships derived by composing mappings through intermediate controls "
        "(NIST IR 8477 set theory); each entry's custos-path property names the controls."
    )
    return oscal.Mapping(
        uuid=_uuid("mapping", table.source.id, table.target.id, kind),
        method="human" if direct else "automation",
        source_resource=_resource(table.source),
        target_resource=_resource(table.target),
        maps=[_map(row) for row in rows],
        mapping_description=description,
        source_gap_summary=gap,
    )


def _gap_summary(table: MappingTable) -> oscal.GapSummary | None:
    if not table.unmapped:
        return None
    return oscal.GapSummary(
        uuid=_uuid("gap", table.source.id, table.target.id),
        unmapped_controls=[
            oscal.SelectControlByIdForMapping(with_ids=[oscal_id(c.id) for c in table.unmapped])
        ],
    )


def build_mapping_collection(table: MappingTable) -> oscal.MappingCollection:
    """The table as a trestle `MappingCollection` (validated on construction).

    UserError when the table has no rows: OSCAL requires at least one map entry.
    """
    source, target = table.source, table.target
    if not table.rows:
        raise UserError(
            f"no mappings from {source.id} to {target.id}: "
            "an OSCAL mapping collection needs at least one"
        )
    direct = [row for row in table.rows if row.direct]
    derived = [row for row in table.rows if not row.direct]
    # The gap summary is about the whole collection; it goes with its first mapping.
    gap = _gap_summary(table)
    mappings = []
    if direct:
        mappings.append(_mapping(table, direct, direct=True, gap=gap))
    if derived:
        mappings.append(_mapping(table, derived, direct=False, gap=None if direct else gap))
    digest = hashlib.sha256(
        "\n".join(
            f"{r.source.id} {r.relationship} {r.target.id} {r.path}" for r in table.rows
        ).encode()
    ).hexdigest()
    method = "hybrid" if direct and derived else "human" if direct else "automation"
    return oscal.MappingCollection(
        uuid=_uuid("collection", source.id, source.version, target.id, target.version, digest),
        metadata=common.Metadata(
            title=f"{source.name} to {target.name}: Custos mappings",
            last_modified=dt.datetime.now(dt.UTC).replace(microsecond=0),
            version=__version__,
            oscal_version=OSCAL_VERSION,
            props=[
                _prop("custos-from", source.id),
                _prop("custos-to", target.id),
                _prop("custos-depth", str(table.depth)),
            ],
            remarks="\n\n".join(
                [
                    f"Source: {source.label}",
                    f"Source licence: {source.licence}",
                    f"Source attribution: {source.attribution}",
                    f"Target: {target.label}",
                    f"Target licence: {target.licence}",
                    f"Target attribution: {target.attribution}",
                    f"Exported by Custos {__version__}: control ids, short titles and Custos' "
                    "own rationales only.",
                ]
            ),
        ),
        provenance=oscal.MappingProvenance(
            method=method,
            matching_rationale="semantic",
            status="not-complete" if table.unmapped else "complete",
            mapping_description=(
                f"Every pair of a {source.name} control and a {target.name} control that Custos "
                f"links within {table.depth} mapping steps, read 'source <relationship> target' "
                "(NIST IR 8477). Source controls with no link are listed in the source gap "
                "summary."
            ),
        ),
        mappings=mappings,
    )


def write_mapping_collection(table: MappingTable, out: Path) -> oscal.MappingCollection:
    """Write the table as OSCAL JSON to `out`, then re-read it with trestle to prove it."""
    model = build_mapping_collection(table)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        model.oscal_write(out)
    except OSError as exc:
        raise CustosError(f"{out}: cannot write: {exc.strerror}") from exc
    return read_mapping_collection(out)


def mapping_collection_json(table: MappingTable) -> str:
    """The OSCAL JSON text (wrapped in `mapping-collection`), for standard output."""
    text: str = build_mapping_collection(table).oscal_serialize_json(pretty=True)
    return text


def read_mapping_collection(path: Path) -> oscal.MappingCollection:
    """Read and validate an OSCAL mapping collection file with trestle."""
    try:
        model = oscal.MappingCollection.oscal_read(path)
    except Exception as exc:  # trestle raises its own and pydantic errors; name the file
        raise DataError(
            path, f"not a valid OSCAL mapping collection: {exc}".splitlines()[0]
        ) from exc
    if model is None:
        raise DataError(path, "not a valid OSCAL mapping collection: empty or unreadable")
    return model

"""The table between two frameworks: direct and derived rows, their paths, JSON, CSV and OSCAL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from trestle.oscal import mapping as oscal

from custos.catalog.catalog import Catalog
from custos.catalog.crosswalk import path_steps
from custos.catalog.loader import load_catalog
from custos.catalog.mapping_table import CSV_COLUMNS, mapping_table, table_csv, table_json
from custos.catalog.model import ControlId
from custos.catalog.oscal_mapping import (
    build_mapping_collection,
    read_mapping_collection,
    write_mapping_collection,
)
from custos.errors import DataError, UnknownIdError, UserError
from tests.catalog.samples import MY_FRAMEWORK, MY_MAPPINGS, write
from tests.catalog.test_crosswalk import _catalog


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The shipped catalog plus a user framework linked only to a Custos requirement."""
    directory = tmp_path_factory.mktemp("acme")
    files = [write(directory, "acme.yaml", MY_FRAMEWORK), write(directory, "m.yaml", MY_MAPPINGS)]
    return load_catalog(directory / "none", extra_files=files)


def test_direct_and_derived_rows_with_paths() -> None:
    cat = _catalog(
        ("a:1", "subset", "c:1"),
        ("a:2", "equal", "b:1"),
        ("b:1", "subset", "c:2"),
        ("c:3", "superset", "a:2"),
    )
    table = mapping_table(cat, "a", "c")
    rows = {(r.source.id, r.target.id): r for r in table.rows}
    assert set(rows) == {("a:1", "c:1"), ("a:2", "c:2"), ("a:2", "c:3")}
    direct = rows[("a:1", "c:1")]
    assert direct.direct
    assert direct.via == ()
    assert direct.relationship == "subset"
    derived = rows[("a:2", "c:2")]
    assert not derived.direct
    assert derived.path == ("a:2", "b:1", "c:2")
    assert derived.via == ("b:1",)
    assert [s.mapping_set for s in derived.steps] == ["test", "test"]
    # Stored as c:3 superset a:2, so read from a:2 it is a:2 subset c:3, and says so.
    inverse = rows[("a:2", "c:3")]
    assert inverse.direct
    assert inverse.relationship == "subset"
    assert inverse.steps[0].inverted
    assert inverse.steps[0].relationship == "subset"
    # Direct rows first for each source.
    order = [(r.source.id, r.direct) for r in table.rows]
    assert order.index(("a:2", True)) < order.index(("a:2", False))


def test_unjustified_links_are_not_rows_and_sources_without_rows_are_unmapped() -> None:
    cat = _catalog(("a:1", "subset", "b:1"), ("c:1", "subset", "b:1"), ("a:2", "equal", "b:2"))
    table = mapping_table(cat, "a", "c")
    assert table.rows == ()  # a:1 and c:1 are siblings under b:1: nothing follows
    assert [c.id for c in table.unmapped] == ["a:1", "a:2"]


def test_path_steps_match_the_crosswalk() -> None:
    cat = _catalog(("a:1", "equal", "b:1"), ("b:1", "subset", "c:1"))
    steps = path_steps(cat, (ControlId("a:1"), ControlId("b:1"), ControlId("c:1")))
    assert [(s.source, s.target, s.relationship) for s in steps] == [
        ("a:1", "b:1", "equal"),
        ("b:1", "c:1", "subset"),
    ]
    with pytest.raises(ValueError, match="no mapping links"):
        path_steps(cat, (ControlId("a:1"), ControlId("c:1")))


def test_unknown_framework_is_a_user_error() -> None:
    cat = _catalog(("a:1", "equal", "b:1"))
    with pytest.raises(UnknownIdError, match="unknown framework 'zz'"):
        mapping_table(cat, "zz", "b")


@pytest.mark.parametrize(
    ("frm", "to", "source", "target", "relationship"),
    [
        ("eu-ai-act", "iso27002", "euaiact:art19", "iso27002:2022:8.15", "subset"),
        ("eu-ai-act", "iso42001", "euaiact:art12", "iso42001:2023:A.6.2.8", "superset"),
        ("nist-ai-rmf", "iso27002", "nistairmf:GOVERN-1.6", "iso27002:2022:5.9", "subset"),
    ],
)
def test_shipped_direct_pair_from_each_new_file(
    shipped: Catalog, frm: str, to: str, source: str, target: str, relationship: str
) -> None:
    rows = {(r.source.id, r.target.id): r for r in mapping_table(shipped, frm, to).rows}
    row = rows[(source, target)]
    assert row.direct
    assert row.relationship == relationship
    assert row.steps[0].mapping_set == f"{source.split(':')[0]}-{target.split(':')[0]}"


def test_derived_through_a_custos_requirement(acme: Catalog) -> None:
    # acme:pol:ai-2 equal custos:ai:model-signing, which is a subset of 27002 8.24.
    table = mapping_table(acme, "acme-policies", "iso27002")
    rows = {(r.source.id, r.target.id): r for r in table.rows}
    row = rows[("acme:pol:ai-2", "iso27002:2022:8.24")]
    assert not row.direct
    assert row.path == ("acme:pol:ai-2", "custos:ai:model-signing", "iso27002:2022:8.24")
    # equal then X composes to X, whatever custos-ai.yaml says X is for this pair
    stored = next(
        m for m in acme.mappings_from("custos:ai:model-signing") if m.target == row.target.id
    )
    assert row.relationship == stored.relationship
    assert [s.mapping_set for s in row.steps] == ["acme-to-custos", "custos-ai"]
    assert "acme:pol:ai-2 -> custos:ai:model-signing:" in row.rationale
    assert [c.id for c in table.unmapped] == ["acme:pol:ai-1"]


def test_shipped_derived_rows_are_never_stored_pairs(shipped: Catalog) -> None:
    table = mapping_table(shipped, "eu-ai-act", "iso27002")
    derived = [r for r in table.rows if not r.direct]
    assert any(all(v.startswith("custos:ai:") for v in r.via) for r in derived)
    for row in derived:
        ends = {row.source.id, row.target.id}
        assert not [m for m in shipped.mappings_from(row.source.id) if m.target in ends]
        assert not [m for m in shipped.mappings_to(row.source.id) if m.source in ends]
        assert len(row.steps) == len(row.path) - 1


def test_json_shape(shipped: Catalog) -> None:
    data = table_json(mapping_table(shipped, "eu-ai-act", "iso42001"))
    assert set(data) == {"from", "to", "depth", "counts", "rows", "unmapped"}
    assert data["from"] == {
        "id": "eu-ai-act",
        "name": shipped.framework("eu-ai-act").name,
        "version": shipped.framework("eu-ai-act").version,
    }
    counts = data["counts"]
    assert counts["rows"] == len(data["rows"]) == counts["direct"] + counts["derived"]
    assert counts["unmapped"] == len(data["unmapped"])
    row = data["rows"][0]
    assert set(row) == {
        "source", "source_title", "target", "target_title", "relationship", "direct", "path",
        "via", "rationale", "steps",
    }  # fmt: skip
    assert set(row["steps"][0]) == {
        "source", "target", "relationship", "inverted", "mapping_set", "rationale",
    }  # fmt: skip
    json.dumps(data)  # plain JSON types only


def test_csv_has_a_header_and_one_line_per_row(shipped: Catalog) -> None:
    table = mapping_table(shipped, "nist-ai-rmf", "iso27002")
    lines = list(csv.reader(io.StringIO(table_csv(table))))
    assert tuple(lines[0]) == CSV_COLUMNS
    assert len(lines) == len(table.rows) + 1
    first = dict(zip(CSV_COLUMNS, lines[1], strict=True))
    assert first["direct"] in ("true", "false")


def test_oscal_collection_round_trips_through_trestle(shipped: Catalog, tmp_path: Path) -> None:
    table = mapping_table(shipped, "eu-ai-act", "iso27002")
    out = tmp_path / "m.json"
    written = write_mapping_collection(table, out)
    reread = oscal.MappingCollection.oscal_read(out)  # an independent consumer
    assert reread is not None
    assert reread.uuid == written.uuid
    assert reread.metadata.title
    assert reread.metadata.oscal_version
    assert reread.provenance.method == "hybrid"
    assert reread.provenance.matching_rationale == "semantic"
    mappings = reread.mappings if isinstance(reread.mappings, list) else [reread.mappings]
    assert [m.method for m in mappings] == ["human", "automation"]
    entries = [entry for m in mappings for entry in m.maps]
    assert len(entries) == len(table.rows)
    for m in mappings:
        assert m.source_resource.href == "eu-ai-act.json"
        assert m.target_resource.href == "iso27002.json"
    by_pair = {(e.sources[0].id_ref, e.targets[0].id_ref): e for e in entries}
    art19 = by_pair[("euaiact_art19", "iso27002_2022_8.15")]
    assert art19.relationship == "subset-of"
    props = {(p.name, p.value) for p in art19.props or []}
    assert ("custos-derivation", "direct") in props
    assert art19.remarks
    assert "six months" in art19.remarks
    gap = mappings[0].source_gap_summary
    assert gap is not None
    unmapped = gap.unmapped_controls[0].with_ids or []
    assert "euaiact_art19" not in unmapped  # mapped directly by euaiact-iso27002
    assert len(unmapped) == len(table.unmapped)


def test_oscal_needs_at_least_one_row() -> None:
    cat = _catalog(("a:1", "equal", "b:1"), ("c:1", "equal", "d:1"))
    with pytest.raises(UserError, match="no mappings from a to c"):
        build_mapping_collection(mapping_table(cat, "a", "c"))


def test_reading_a_broken_collection_is_a_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"mapping-collection": {"uuid": "nope"}}')
    with pytest.raises(DataError, match="not a valid OSCAL mapping collection"):
        read_mapping_collection(bad)

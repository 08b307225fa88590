"""`custos catalog map --from A --to B` through the real entry point: every format, bad input."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from trestle.oscal import mapping as oscal

from tests.catalog.samples import MY_FRAMEWORK, MY_MAPPINGS, write
from tests.cli.run import custos


def _rows(*args: str) -> dict[tuple[str, str], dict[str, object]]:
    result = custos("catalog", "map", *args, "--format", "json")
    assert result.code == 0, result.err
    return {(r["source"], r["target"]): r for r in result.json()["rows"]}


@pytest.mark.parametrize(
    ("frm", "to", "pair", "relationship"),
    [
        ("eu-ai-act", "iso27002", ("euaiact:art12", "iso27002:2022:8.15"), "intersect"),
        ("eu-ai-act", "iso42001", ("euaiact:art26", "iso42001:2023:A.9.4"), "superset"),
        ("nist-ai-rmf", "iso27002", ("nistairmf:MEASURE-2.7", "iso27002:2022:8.29"), "intersect"),
    ],
)
def test_json_marks_a_direct_pair_of_each_new_file(
    frm: str, to: str, pair: tuple[str, str], relationship: str
) -> None:
    row = _rows("--from", frm, "--to", to)[pair]
    assert row["direct"] is True
    assert row["relationship"] == relationship
    assert row["via"] == []
    assert row["path"] == list(pair)


def test_read_backwards_the_relationship_is_inverted() -> None:
    # Prefix form of the framework name is accepted, as `catalog.framework()` does.
    row = _rows("--from", "iso42001:2023", "--to", "eu-ai-act")[
        ("iso42001:2023:A.9.4", "euaiact:art26")
    ]
    assert row["relationship"] == "subset"
    assert row["steps"][0]["inverted"] is True


def test_derived_pair_through_custos_requirements_shows_its_path(tmp_path: Path) -> None:
    for name, text in (("acme.yaml", MY_FRAMEWORK), ("m.yaml", MY_MAPPINGS)):
        assert custos("catalog", "import", str(write(tmp_path, name, text))).code == 0
    row = _rows("--from", "acme-policies", "--to", "iso27002")[
        ("acme:pol:ai-2", "iso27002:2022:8.24")
    ]
    assert row["direct"] is False
    assert row["via"] == ["custos:ai:model-signing"]
    assert row["relationship"] == row["steps"][1]["relationship"]  # equal, then that step
    assert [s["mapping_set"] for s in row["steps"]] == ["acme-to-custos", "custos-ai"]
    assert row["steps"][0]["relationship"] == "equal"


def test_table_form_names_direct_and_derived() -> None:
    result = custos("catalog", "map", "--from", "eu-ai-act", "--to", "iso27002")
    assert result.code == 0, result.err
    assert "eu-ai-act -> iso27002:" in result.out
    assert "direct" in result.out
    assert "custos:ai:" in result.out  # the via column of derived rows


def test_csv_form(tmp_path: Path) -> None:
    result = custos("catalog", "map", "--from", "nist-ai-rmf", "--to", "iso27002", "-f", "csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert rows
    govern = next(r for r in rows if r["source"] == "nistairmf:GOVERN-1.6")
    assert govern["target"] == "iso27002:2022:5.9"
    assert govern["direct"] == "true"
    assert govern["mapping_sets"] == "nistairmf-iso27002"
    out = tmp_path / "t.csv"
    written = custos(
        "catalog", "map", "--from", "nist-ai-rmf", "--to", "iso27002", "-f", "csv",
        "--out", str(out),
    )  # fmt: skip
    assert written.code == 0, written.err
    assert out.read_text(encoding="utf-8") == result.out


def test_oscal_on_stdout_and_to_a_file_reread_by_trestle(tmp_path: Path) -> None:
    result = custos("catalog", "map", "--from", "eu-ai-act", "--to", "iso42001", "-f", "oscal")
    assert result.code == 0, result.err
    captured = tmp_path / "stdout.json"
    captured.write_text(result.out, encoding="utf-8")
    out = tmp_path / "file.json"
    written = custos(
        "catalog", "map", "--from", "eu-ai-act", "--to", "iso42001", "-f", "oscal",
        "--out", str(out),
    )  # fmt: skip
    assert written.code == 0, written.err
    assert "re-reads cleanly" in written.out
    for path in (captured, out):
        model = oscal.MappingCollection.oscal_read(path)
        assert model is not None
        assert model.uuid
        assert model.metadata.title
        assert model.provenance.matching_rationale == "semantic"
        assert model.provenance.mapping_description
        mappings = model.mappings if isinstance(model.mappings, list) else [model.mappings]
        for mapping in mappings:
            assert str(getattr(mapping.source_resource.type, "root", "")) == "catalog"
            assert mapping.target_resource.href == "iso42001.json"
            for entry in mapping.maps:
                assert entry.uuid
                assert entry.relationship in ("equal-to", "subset-of", "superset-of",
                                              "intersects-with")  # fmt: skip
                assert entry.sources[0].type == entry.targets[0].type == "control"
        pairs = {
            (e.sources[0].id_ref, e.targets[0].id_ref, e.relationship)
            for m in mappings
            for e in m.maps
        }
        assert ("euaiact_art12", "iso42001_2023_A.6.2.8", "superset-of") in pairs


def test_single_control_form_is_unchanged() -> None:
    result = custos("catalog", "map", "custos:ai:model-signing", "--to", "iso27002", "-f", "json")
    assert result.code == 0, result.err
    hits = result.json()
    assert isinstance(hits, list)
    assert {"source", "target", "relationship", "rationale", "path", "direct"} == set(hits[0])
    assert any(h["target"] == "iso27002:2022:8.24" and h["direct"] for h in hits)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("euaiact:art9", "--from", "eu-ai-act", "--to", "iso27002"), "not both"),
        (("--from", "eu-ai-act"), "--from needs --to"),
        (("--from", "cobit", "--to", "iso27002"), "unknown framework 'cobit'"),
        (("--from", "eu-ai-act", "--to", "cobit"), "unknown framework 'cobit'"),
        (("--from", "iso27002", "--to", "iso27002:2022"), "same framework"),
        ((), "give a control id, or --from"),
        (("euaiact:art9", "--format", "csv"), "--format csv needs --from"),
        (("euaiact:art9", "--out", "x.json"), "--out needs --from"),
        (("--from", "eu-ai-act", "--to", "iso27002", "--out", "x.txt"), "--out needs --format"),
        (("--from", "eu-ai-act", "--to", "iso27002", "--format", "xml"), "'xml' is not one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], needle: str) -> None:
    result = custos("catalog", "map", *args)
    assert result.code == 2, (result.out, result.err)
    assert needle in result.err
    assert "Traceback" not in result.err + result.out
    if "is not one of" not in needle:  # typer's own usage box is several lines
        assert len(result.err.strip().splitlines()) == 1, result.err


def test_help_shows_both_forms() -> None:
    result = custos("catalog", "map", "--help")
    assert result.code == 0
    assert "--from" in result.out
    assert "Example:" in result.out

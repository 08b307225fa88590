"""OSCAL export: every shipped framework is written and re-read with compliance-trestle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from trestle.oscal import catalog as oscal

from custos.catalog.catalog import Catalog
from custos.catalog.oscal import export_oscal, oscal_id, read_oscal_catalog
from custos.errors import DataError
from tests.catalog.test_shipped_catalog import FRAMEWORKS


def _walk_controls(node: Any) -> list[oscal.Control]:
    found: list[oscal.Control] = []
    for control in getattr(node, "controls", None) or []:
        found.append(control)
        found.extend(_walk_controls(control))
    for group in getattr(node, "groups", None) or []:
        found.extend(_walk_controls(group))
    return found


def _custos_id(control: oscal.Control) -> str:
    return next(p.value for p in control.props or [] if p.name == "custos-id")


@pytest.mark.parametrize("fid", sorted(FRAMEWORKS))
def test_export_round_trips(shipped: Catalog, fid: str, tmp_path: Path) -> None:
    out = tmp_path / f"{fid}.json"
    model = export_oscal(shipped, fid, out)
    reread = read_oscal_catalog(out)
    assert reread.uuid == model.uuid
    controls = _walk_controls(reread)
    # Every control (not group) of the framework is in the OSCAL catalog exactly once.
    assert sorted(_custos_id(c) for c in controls) == sorted(
        c.id for c in shipped.framework_controls(fid)
    )
    assert reread.metadata.title == shipped.framework(fid).name
    assert reread.metadata.version == shipped.framework(fid).version


def test_requirement_parts_survive(shipped: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "ai.json"
    export_oscal(shipped, "custos-ai", out)
    controls = {_custos_id(c): c for c in _walk_controls(read_oscal_catalog(out))}
    signing = controls["custos:ai:model-signing"]
    assert signing.id == "custos_ai_model-signing"
    part_names = {p.name for p in signing.parts or []}
    assert {"statement", "guidance", "rationale"} <= part_names
    props = {(p.name, p.value) for p in signing.props or []}
    assert ("parent-control", "iso27002:2022:8.24") in props
    assert ("applicability-high", "required") in props


def test_sub_techniques_nest_under_their_technique(shipped: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "atlas.json"
    export_oscal(shipped, "mitre-atlas", out)
    data = json.loads(out.read_text())
    text = json.dumps(data)
    assert '"id": "atlas_AML.T0010.003"' in text
    controls = {_custos_id(c): c for c in _walk_controls(read_oscal_catalog(out))}
    parent = controls["atlas:AML.T0010"]
    assert "atlas:AML.T0010.003" in {_custos_id(c) for c in parent.controls or []}


def test_oscal_ids_are_tokens() -> None:
    assert oscal_id("iso27002:2022:8.24") == "iso27002_2022_8.24"
    assert oscal_id("owasp:LLM01:2025") == "owasp_LLM01_2025"
    assert oscal_id("9x:y") == "_9x_y"


def test_reading_a_broken_oscal_file_is_a_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"catalog": {"uuid": "not-a-uuid"}}')
    with pytest.raises(DataError, match=r"bad\.json: not a valid OSCAL catalog"):
        read_oscal_catalog(bad)

"""Broken framework and mapping files: one clear line per problem, naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.catalog.loader import load_catalog, parse_data_file
from custos.errors import DataError
from tests.catalog.samples import MY_FRAMEWORK, MY_MAPPINGS, write


def _problems(path: Path) -> list[str]:
    with pytest.raises(DataError) as info:
        parse_data_file(path)
    return info.value.lines()


def test_valid_user_framework_parses(tmp_path: Path) -> None:
    loaded = parse_data_file(write(tmp_path, "ok.yaml", MY_FRAMEWORK))
    assert [c.id for c in loaded.spec.controls] == ["acme:pol:ai", "acme:pol:ai-1", "acme:pol:ai-2"]


def test_missing_guidance_names_control_and_line(tmp_path: Path) -> None:
    text = MY_FRAMEWORK.replace(
        "    guidance: Every model promoted to production carries a verified signature.\n", ""
    )
    path = write(tmp_path, "f.yaml", text)
    assert _problems(path) == [
        f"{path}:23: controls[2] (acme:pol:ai-2): a control needs guidance (in Custos' own words)"
    ]


def test_wrong_type_and_unknown_key_are_both_reported(tmp_path: Path) -> None:
    text = MY_FRAMEWORK.replace('version: "2026"', "version: [1]").replace(
        "    ref: AI-1\n", "    ref: AI-1\n    colour: red\n"
    )
    path = write(tmp_path, "f.yaml", text)
    lines = _problems(path)
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:5: framework.version (acme-policies): Input should be")
    assert lines[1].startswith(f"{path}:19: controls[1].colour (acme:pol:ai-1): Extra inputs")


def test_id_outside_prefix_duplicate_and_missing_parent(tmp_path: Path) -> None:
    text = (
        MY_FRAMEWORK.replace('id: "acme:pol:ai-1"', 'id: "other:ai-1"')
        .replace('id: "acme:pol:ai-2"', 'id: "acme:pol:ai"')
        .replace(
            'parent: "acme:pol:ai"\n    title: Signed', 'parent: "acme:pol:zz"\n    title: Signed'
        )
    )
    path = write(tmp_path, "f.yaml", text)
    lines = _problems(path)
    assert any("'other:ai-1' does not start with the prefix 'acme:pol:'" in x for x in lines)
    assert any(x.startswith(f"{path}:23: duplicate control id 'acme:pol:ai'") for x in lines)
    assert any("parent 'acme:pol:zz'" in x and "not in this framework" in x for x in lines)


def test_bad_control_id_pattern(tmp_path: Path) -> None:
    path = write(tmp_path, "f.yaml", MY_FRAMEWORK.replace('"acme:pol:ai-1"', '"acme pol ai-1"'))
    lines = _problems(path)
    assert len(lines) == 1
    assert lines[0] == (
        f"{path}:17: controls[1].id (acme pol ai-1): 'acme pol ai-1' is not a control id "
        "(expected prefix:reference, e.g. iso27002:2022:8.24)"
    )


def test_unknown_format_and_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "f.yaml", "format: something/9\n")
    assert _problems(path) == [
        f"{path}:1: unknown format 'something/9'; expected 'custos-framework/1' or "
        "'custos-mappings/1'"
    ]
    path = write(tmp_path, "g.yaml", "- just\n- a list\n")
    assert _problems(path) == [f"{path}:1: expected a mapping with a 'format' key at the top"]


def test_mapping_relationship_rules(tmp_path: Path) -> None:
    text = MY_MAPPINGS.replace("relationship: equal", "relationship: no-relationship")
    path = write(tmp_path, "m.yaml", text)
    assert _problems(path) == [
        f"{path}:5: mappings[0] (acme:pol:ai-2): a no-relationship entry has target: null"
    ]
    path = write(tmp_path, "n.yaml", MY_MAPPINGS.replace("equal", "kind-of"))
    assert "relationship" in _problems(path)[0]


def test_requirement_needs_its_parts(tmp_path: Path) -> None:
    text = MY_FRAMEWORK.replace(
        '    kind: control\n    parent: "acme:pol:ai"\n    title: Signed',
        '    kind: requirement\n    parent: "acme:pol:ai"\n    title: Signed',
    )
    path = write(tmp_path, "r.yaml", text)
    (line,) = _problems(path)
    assert "a requirement needs statement, rationale, verification, applicability" in line


def test_dangling_cross_references_are_warnings(tmp_path: Path, custos_home: Path) -> None:
    user = custos_home / "catalog"
    (user / "mappings").mkdir(parents=True)
    write(user / "mappings", "m.yaml", MY_MAPPINGS)  # source acme:pol:ai-2 is unknown
    catalog = load_catalog()
    assert any("acme:pol:ai-2 is not in the catalog" in w for w in catalog.warnings)
    assert all(m.mapping_set != "acme-to-custos" for m in catalog.mappings)


def test_user_framework_cannot_redefine_shipped_control(tmp_path: Path, custos_home: Path) -> None:
    user = custos_home / "catalog" / "frameworks"
    user.mkdir(parents=True)
    text = MY_FRAMEWORK.replace("acme:pol", "iso27002:2022").replace("acme-policies", "clash")
    text = text.replace('"iso27002:2022:ai-1"', '"iso27002:2022:8.24"')
    write(user, "clash.yaml", text)
    with pytest.raises(DataError, match=r"control id 'iso27002:2022:8.24' is already defined"):
        load_catalog()

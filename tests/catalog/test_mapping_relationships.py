"""Mapping relationships are chosen pair by pair, and the shipped files stay honest about it.

NIST IR 8477 relationships are claims about each pair (`source <relationship> target`), so a file
where one relationship is used for nearly every pair is suspect: usually the relationship was set
"by construction" instead of judged. A file may still be mostly one relationship when that is the
honest answer, but then it says why, in a comment line of its own:

    # relationship-share: <why one relationship covers more than 80 % of the pairs>

The reason may continue on further comment lines. Every file in the shipped mappings folder is
checked, including files added later.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from custos._yaml import read_yaml
from custos.catalog.catalog import Catalog
from custos.catalog.loader import shipped_data_dir

MAX_SHARE = 0.8
SHARE_MARKER = re.compile(r"^#\s*relationship-share:\s*(?P<reason>\S.*)$")
MIN_REASON = 20  # characters on the marker line: a reason, not a token


def _mapping_files() -> list[Path]:
    return sorted((shipped_data_dir() / "mappings").glob("*.yaml"))


def _mappings(path: Path) -> list[dict[str, object]]:
    mappings: list[dict[str, object]] = read_yaml(path).data["mappings"]
    return mappings


def dominant_share(relationships: list[str]) -> tuple[str, float]:
    """The most used relationship and its share of all pairs (no-relationship entries count)."""
    name, count = Counter(relationships).most_common(1)[0]
    return name, count / len(relationships)


def share_reason(text: str) -> str | None:
    """The reason given on a `# relationship-share:` comment line, if the file has one."""
    for line in text.splitlines():
        found = SHARE_MARKER.match(line.strip())
        if found and len(found["reason"].strip()) >= MIN_REASON:
            return found["reason"].strip()
    return None


def _normalised(text: object) -> str:
    return " ".join(str(text or "").casefold().split())


# -- the rules themselves -------------------------------------------------------------------


def test_dominant_share_counts_every_pair() -> None:
    assert dominant_share(["intersect"] * 4 + ["subset"]) == ("intersect", 0.8)
    assert dominant_share(["intersect"] * 9 + ["no-relationship"])[1] == pytest.approx(0.9)


def test_share_reason_needs_the_marker_and_a_real_reason() -> None:
    reason = "almost every pair overlaps without containment, because the sources reach wider"
    assert share_reason(f"format: x\n# relationship-share: {reason}\nid: y\n") == reason
    assert share_reason("  # relationship-share: " + reason) == reason
    assert share_reason("# relationship-share:\n# " + reason) is None
    assert share_reason("# relationship-share: because") is None
    assert share_reason(f"description: relationship-share: {reason}") is None
    assert share_reason(f"# relationship share: {reason}") is None


# -- every shipped mapping file ---------------------------------------------------------------


def test_the_mappings_folder_is_checked() -> None:
    names = {p.name for p in _mapping_files()}
    assert {
        "custos-ai.yaml",
        "atlas-custos.yaml",
        "owasp-custos.yaml",
        "iso42001-iso27002.yaml",
    } <= names


@pytest.mark.parametrize("path", _mapping_files(), ids=lambda p: p.name)
def test_no_relationship_dominates_without_a_stated_reason(path: Path) -> None:
    relationships = [str(m["relationship"]) for m in _mappings(path)]
    name, share = dominant_share(relationships)
    if share > MAX_SHARE:
        assert share_reason(path.read_text(encoding="utf-8")), (
            f"{path.name}: {name} is {share:.0%} of {len(relationships)} pairs "
            f"({dict(Counter(relationships))}); judge each pair, or say why in a "
            "'# relationship-share: <reason>' comment line"
        )


@pytest.mark.parametrize("path", _mapping_files(), ids=lambda p: p.name)
def test_rationales_are_present_and_distinct(path: Path) -> None:
    seen: dict[str, tuple[object, object]] = {}
    for m in _mappings(path):
        pair = (m["source"], m["target"])
        rationale = _normalised(m.get("rationale"))
        assert rationale, f"{path.name}: {pair} has no rationale"
        assert rationale not in seen, (
            f"{path.name}: {pair} repeats the rationale of {seen[rationale]}"
        )
        seen[rationale] = pair


@pytest.mark.parametrize("path", _mapping_files(), ids=lambda p: p.name)
def test_no_description_claims_a_relationship_by_construction(path: Path) -> None:
    description = _normalised(read_yaml(path).data["description"])
    assert "by construction" not in description, path.name


# -- pairs a reviewer found wrong (issue 18) --------------------------------------------------


def _relationship(catalog: Catalog, source: str, target: str) -> str:
    found = [m.relationship for m in catalog.mappings_from(source) if m.target == target]
    assert len(found) == 1, f"expected one mapping {source} -> {target}, found {found}"
    return found[0]


def test_data_poisoning_is_not_a_kind_of_malware(shipped: Catalog) -> None:
    assert _relationship(shipped, "custos:ai:data-poisoning", "iso27002:2022:8.7") != "subset"


def test_model_validation_is_broader_than_security_testing(shipped: Catalog) -> None:
    relationship = _relationship(shipped, "custos:ai:model-validation", "iso27002:2022:8.29")
    assert relationship in {"superset", "intersect"}


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("custos:ai:explainability", "iso27002:2022:8.26"),
        ("custos:ai:behaviour-monitoring", "iso27002:2022:8.16"),
        ("custos:ai:human-oversight", "iso27002:2022:5.2"),
        ("custos:ai:periodic-review", "iso27002:2022:5.35"),
        ("custos:ai:model-documentation", "iso27002:2022:5.37"),
        ("custos:ai:decision-documentation", "iso27002:2022:5.37"),
        ("custos:ai:impact-assessment", "iso27002:2022:5.31"),
        ("custos:ai:security-training", "iso27002:2022:6.3"),
        ("iso42001:2023:A.6.2.8", "iso27002:2022:8.15"),
    ],
)
def test_overlapping_pairs_are_intersect(shipped: Catalog, source: str, target: str) -> None:
    assert _relationship(shipped, source, target) == "intersect"


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("custos:ai:data-poisoning", "iso27002:2022:8.25"),
        ("custos:ai:data-poisoning", "iso27002:2022:8.28"),
        ("custos:ai:data-poisoning", "iso27002:2022:5.21"),
        ("custos:ai:model-validation", "iso27002:2022:8.25"),
    ],
)
def test_requirements_also_map_to_their_other_homes(
    shipped: Catalog, source: str, target: str
) -> None:
    assert _relationship(shipped, source, target) != "no-relationship"


NEW_42001_PAIRS = [
    ("A.4.3", "5.12"),
    ("A.4.3", "5.34"),
    ("A.4.6", "6.3"),
    ("A.6.1.3", "8.28"),
    ("A.6.2.2", "8.25"),
    ("A.6.2.5", "8.31"),
    ("A.6.2.6", "8.32"),
    ("A.7.2", "5.12"),
    ("A.7.2", "8.10"),
    ("A.7.5", "5.33"),
    ("A.7.5", "8.32"),
    ("A.7.6", "8.33"),
    ("A.9.2", "8.16"),
    ("A.9.4", "5.15"),
    ("A.9.4", "8.16"),
    ("A.10.2", "5.19"),
    ("A.10.3", "5.20"),
    ("A.10.3", "5.23"),
]


@pytest.mark.parametrize(("source", "target"), NEW_42001_PAIRS)
def test_missing_42001_pairs_are_mapped(shipped: Catalog, source: str, target: str) -> None:
    relationship = _relationship(shipped, f"iso42001:2023:{source}", f"iso27002:2022:{target}")
    assert relationship != "no-relationship"


def test_42001_areas_reach_their_27002_counterparts(shipped: Catalog) -> None:
    def targets(prefix: str) -> set[str]:
        return {
            m.target.removeprefix("iso27002:2022:")
            for m in shipped.mappings
            if m.source.startswith(f"iso42001:2023:{prefix}")
            and m.target
            and m.target.startswith("iso27002:")
        }

    assert {"8.25", "8.28", "8.31", "8.32"} <= targets("A.6.")
    assert {"5.9", "5.12", "5.33", "5.34"} <= targets("A.4.") | targets("A.7.")
    assert {"5.33", "8.32"} <= targets("A.7.5")
    assert {"5.10", "5.15", "8.16"} <= targets("A.9.")
    assert {"5.19", "5.20", "5.21", "5.22", "5.23"} <= targets("A.10.")


def test_a_control_with_a_counterpart_does_not_also_claim_none(shipped: Catalog) -> None:
    for m in shipped.mappings:
        if m.relationship != "no-relationship":
            continue
        others = [o for o in shipped.mappings_from(m.source) if o.relationship != "no-relationship"]
        assert not others, f"{m.source} says it has no counterpart but maps to {others[0].target}"

from __future__ import annotations

import pytest

from custos.catalog.catalog import Catalog
from custos.catalog.crosswalk import compose, crosswalk
from custos.catalog.model import Control, ControlId, FrameworkId, Mapping, Relationship
from custos.errors import UnknownIdError


def _control(cid: str) -> Control:
    framework = cid.split(":")[0]
    return Control(
        id=ControlId(cid), framework=FrameworkId(framework), ref=cid, title=cid, kind="control"
    )


def _catalog(*links: tuple[str, Relationship, str | None]) -> Catalog:
    ids = sorted({end for s, _, t in links for end in (s, t) if end})  # a stable order
    controls = {ControlId(c): _control(c) for c in ids}
    from pathlib import Path

    from custos.catalog.model import Framework

    frameworks = {
        FrameworkId(fw): Framework(
            id=FrameworkId(fw),
            name=fw,
            version="1",
            prefix=fw,
            publisher="t",
            source_url="t",
            licence="t",
            attribution="t",
            description=None,
            notice=None,
            dates=(),
            control_ids=tuple(c for c in controls if c.startswith(fw + ":")),
            origin="shipped",
            path=Path("t"),
        )
        for fw in {c.split(":")[0] for c in ids}
    }
    mappings = tuple(
        Mapping(ControlId(s), ControlId(t) if t else None, r, f"{s}->{t}", "test")
        for s, r, t in links
    )
    return Catalog(frameworks, controls, mappings)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("equal", "subset", "subset"),
        ("superset", "equal", "superset"),
        ("subset", "subset", "subset"),
        ("superset", "superset", "superset"),
        ("superset", "subset", "intersect"),
        ("superset", "intersect", "intersect"),
        ("intersect", "subset", "intersect"),
        ("subset", "superset", None),
        ("subset", "intersect", None),
        ("intersect", "superset", None),
        ("intersect", "intersect", None),
    ],
)
def test_compose_follows_set_theory(
    first: Relationship, second: Relationship, expected: Relationship | None
) -> None:
    assert compose(first, second) == expected


def test_direct_and_inverse_mappings() -> None:
    cat = _catalog(("ai:req", "subset", "iso:8.24"), ("eu:art15", "superset", "ai:req"))
    hits = {h.target: h for h in crosswalk(cat, "ai:req")}
    assert hits["iso:8.24"].relationship == "subset"
    assert hits["iso:8.24"].direct
    # Stored as art15 superset req, so read from req it is subset of art15.
    assert hits["eu:art15"].relationship == "subset"
    assert hits["eu:art15"].path == ("ai:req", "eu:art15")


def test_transitive_hit_records_path_and_rationales() -> None:
    cat = _catalog(("a:1", "subset", "b:1"), ("b:1", "subset", "c:1"))
    hits = crosswalk(cat, "a:1", to_framework="c")
    assert len(hits) == 1
    hit = hits[0]
    assert hit.target == "c:1"
    assert hit.relationship == "subset"
    assert hit.path == ("a:1", "b:1", "c:1")
    assert not hit.direct
    assert "a:1 -> b:1: a:1->b:1" in hit.rationale
    assert "b:1 -> c:1: b:1->c:1" in hit.rationale


def test_siblings_under_a_common_parent_are_not_linked() -> None:
    # Two narrow requirements under one broad control say nothing about each other.
    cat = _catalog(("ai:x", "subset", "iso:p"), ("ai:y", "subset", "iso:p"))
    targets = {h.target for h in crosswalk(cat, "ai:x")}
    assert targets == {"iso:p"}


def test_depth_limit_stops_traversal() -> None:
    cat = _catalog(("a:1", "equal", "b:1"), ("b:1", "equal", "c:1"), ("c:1", "equal", "d:1"))
    assert {h.target for h in crosswalk(cat, "a:1", depth=1)} == {"b:1"}
    assert {h.target for h in crosswalk(cat, "a:1", depth=2)} == {"b:1", "c:1"}
    assert {h.target for h in crosswalk(cat, "a:1", depth=3)} == {"b:1", "c:1", "d:1"}


def test_shortest_path_wins_and_cycles_terminate() -> None:
    cat = _catalog(
        ("a:1", "equal", "b:1"),
        ("b:1", "equal", "c:1"),
        ("c:1", "equal", "a:1"),
        ("a:1", "intersect", "c:1"),
    )
    hits = crosswalk(cat, "a:1", depth=5)
    by_target = {h.target: h for h in hits}
    assert len(hits) == len(by_target) == 2
    assert by_target["c:1"].depth == 1


def test_no_counterpart_is_reported() -> None:
    cat = _catalog(("iso42001:x", "no-relationship", None), ("iso42001:y", "equal", "iso:z"))
    hits = crosswalk(cat, "iso42001:x")
    assert [(h.target, h.relationship) for h in hits] == [(None, "no-relationship")]


def test_unknown_ids_raise() -> None:
    cat = _catalog(("a:1", "equal", "b:1"))
    with pytest.raises(UnknownIdError, match="unknown control id 'a:2'"):
        crosswalk(cat, "a:2")
    with pytest.raises(UnknownIdError, match="unknown framework 'zz'"):
        crosswalk(cat, "a:1", to_framework="zz")

"""Pooled rows (one row about several systems) cut to a caller's systems (pure): nothing the
hidden systems brought in survives, and what the visible part implies is recomputed."""

from __future__ import annotations

from typing import Any

from custos.server.visibility import Visible, cut_document, everything

GAPS = [
    {"system": "b", "control": "c1", "status": "not_implemented", "risk_score": 20,
     "risks": ["r-b"]},
    {"system": "a", "control": "c1", "status": "partial", "risk_score": 16, "risks": ["r-a"]},
]  # fmt: skip
ITEM = {
    "rank": 1, "control": "c1", "systems": ["a", "b"], "risks": ["r-a", "r-b"],
    "risk_reduction": 38, "effort": 3, "owner": "owner-of-r-b", "phase": "0-30",
}  # fmt: skip


def _report(**more: Any) -> dict[str, Any]:
    return {
        "systems": [{"id": "a", "owner": "owner-of-a"}, {"id": "b", "owner": "owner-of-b"}],
        "gaps": GAPS,
        "roadmap": [ITEM],
        "risks": [
            {"id": "r-a", "systems": ["a"], "owner": None},
            {"id": "r-b", "systems": ["b"], "owner": "owner-of-r-b"},
            {"id": "r-ab", "systems": ["a", "b"], "owner": "shared", "assets": ["m-a", "m-b"],
             "controls": ["c1", "c2"], "open_controls": ["c1", "c2"]},
        ],
        "controls": [
            {"system": "a", "id": "c1", "status": "partial"},
            {"system": "a", "id": "c2", "status": "implemented"},
            {"system": "b", "id": "c2", "status": "not_implemented"},
        ],
        **more,
    }  # fmt: skip


def _mine(report: dict[str, Any]) -> Visible:
    return Visible(report, frozenset({"a"}), everything=False, asset_systems={"m-a": "a"})


def test_a_pooled_roadmap_item_is_recomputed_from_the_visible_gaps() -> None:
    (item,) = _mine(_report()).rows("roadmap")
    assert item["systems"] == ["a"]
    assert item["risks"] == ["r-a"]
    assert item["risk_reduction"] == 16 + 1
    assert item["effort"] == 1  # base 2, moved by a's partial (-1), not b's not_implemented (+1)
    assert item["owner"] == "owner-of-a"  # a's proposal: r-a has no owner, so a's owner
    assert (item["rank"], item["phase"]) == (1, "0-30")  # the organisation's plan stays


def test_a_decided_owner_stays_and_whole_views_are_untouched() -> None:
    decided = _report(roadmap=[{**ITEM, "owner": "decided@x"}])
    assert _mine(decided).rows("roadmap")[0]["owner"] == "decided@x"
    assert everything(_report()).rows("roadmap") == [ITEM]
    assert everything(_report()).rows("risks") == _report()["risks"]


def test_a_shared_risk_keeps_the_visible_assets_and_open_controls() -> None:
    risks = {r["id"]: r for r in _mine(_report()).rows("risks")}
    assert set(risks) == {"r-a", "r-ab"}
    shared = risks["r-ab"]
    assert (shared["systems"], shared["assets"]) == (["a"], ["m-a"])
    assert shared["open_controls"] == ["c1"]  # c2 is open on b only
    assert shared["owner"] == "shared"  # the risk's own owner: it is a's risk too
    unknown = Visible(_report(), frozenset({"a"}), everything=False)  # no asset owners known
    assert next(r for r in unknown.rows("risks") if r["id"] == "r-ab")["assets"] == []


def test_the_soa_recomputes_applicability_and_drops_the_pooled_exclusion() -> None:
    line = {
        "control": "x", "applicable": True, "status": "implemented", "owner": "o",
        "per_system": {"a": "not_applicable", "b": "implemented"},
        "justification": ["risk: r-b"], "exclusion": "a's reason; b's reason",
    }  # fmt: skip
    statuses = [
        {"system": s, "id": "x", "status": "not_applicable",
         "reasons": [{"kind": "exclusion", "text": f"excluded: {s}'s reason", "ref": "x"}]}
        for s in ("a", "b")
    ]  # fmt: skip
    (mine,) = _mine(_report(soa=[line], controls=statuses)).soa()
    assert (mine["applicable"], mine["justification"]) == (False, [])
    assert mine["exclusion"] == "a's reason"  # a's own exclusion, not the pooled text
    assert (mine["status"], mine["owner"], mine["per_system"]) == (
        None,
        None,
        {"a": "not_applicable"},
    )


def test_inventory_documents_are_cut_to_the_visible_systems() -> None:
    risk = {"id": "r", "systems": ["a", "b"], "assets": ["m-a", "m-b", "m-?"], "owner": "o"}
    cut = cut_document(risk, frozenset({"a"}), {"m-a": "a", "m-b": "b"})
    assert cut == {"id": "r", "systems": ["a"], "assets": ["m-a"], "owner": "o"}
    assert risk["systems"] == ["a", "b"]  # the stored body is shared: never changed
    attestation = {"id": "t", "systems": []}  # every system: nothing to cut
    assert cut_document(attestation, frozenset({"a"}), {}) == attestation


def test_the_pooled_score_is_for_those_who_see_every_system() -> None:
    report = _report(overall_score=40.0)
    report["systems"] = [{"id": "a", "score": 80.0}, {"id": "b", "score": 0.0}]
    assert everything(report).score == 40.0
    assert _mine(report).score == 80.0  # a's own, not the pooled one b pulls down
    assert Visible(report, frozenset(), everything=False).score is None

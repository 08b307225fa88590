"""What one caller may see of a report (pure): rows of their systems only, pooled figures only
for those who see everything, and SoA reasons cut to their own risks."""

from __future__ import annotations

from typing import Any

from custos.server.visibility import Visible

REPORT: dict[str, Any] = {
    "systems": [{"id": "a"}, {"id": "b"}],
    "risks": [
        {"id": "R-a", "systems": ["a"]},
        {"id": "R-b", "systems": ["b"]},
        {"id": "R-ab", "systems": ["a", "b"]},
    ],
    "findings": [{"system": "a", "rule": "x"}, {"system": "b", "rule": "y"}],
    "soa": [
        {
            "control": "iso27002:2022:5.1",
            "per_system": {"a": "implemented", "b": "not_implemented"},
            "status": "not_implemented",
            "owner": "owner-of-R-b@example.org",
            "justification": ["risk: R-a, R-ab, R-b", "EU AI Act art. 15"],
        },
        {
            "control": "iso27002:2022:5.2",
            "per_system": {"b": "implemented"},
            "status": "implemented",
            "owner": None,
            "justification": ["risk: R-b"],
        },
    ],
}


def test_a_scoped_caller_sees_only_their_systems_rows_and_risks() -> None:
    mine = Visible(REPORT, frozenset({"a"}), everything=False)
    assert mine.rows("findings") == [{"system": "a", "rule": "x"}]
    assert [r["id"] for r in mine.rows("risks")] == ["R-a", "R-ab"]
    first, second = mine.soa()
    assert first["per_system"] == {"a": "implemented"}
    assert first["status"] is None
    assert first["owner"] is None
    assert first["justification"] == ["risk: R-a, R-ab", "EU AI Act art. 15"]
    assert second["per_system"] == {}
    assert second["justification"] == []


def test_a_global_caller_sees_the_pooled_lines() -> None:
    everyone = Visible(REPORT, frozenset({"a", "b"}), everything=True)
    assert everyone.soa() == REPORT["soa"]

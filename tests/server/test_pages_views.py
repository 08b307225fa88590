"""The pages' pure helpers: pagination, expiry windows, what a caller may see of a report, and
chart geometry."""

from __future__ import annotations

import datetime as dt

import pytest

from custos.assess.model import TrendPoint
from custos.server.rbac import Binding, Principal, Role
from custos.server.web import charts, views

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def _principal(*bindings: Binding) -> Principal:
    return Principal(1, "u", bindings, "session")


def test_paginate_keeps_filters_and_clamps_the_page() -> None:
    items = list(range(120))
    paged = views.paginate(items, 3, {"system": "a", "status": None})
    assert list(paged.items) == list(range(100, 120))
    assert (paged.page, paged.pages, paged.total, paged.first_index) == (3, 3, 120, 101)
    assert paged.link(2) == "?system=a&page=2"
    assert views.paginate(items, 9, {}).page == 3
    empty = views.paginate([], 1, {})
    assert (empty.pages, empty.first_index) == (1, 0)


def test_expiry_windows() -> None:
    assert views.within_days("2026-06-01", NOW, 30)
    assert views.within_days("2026-07-01T00:00:00+00:00", NOW, 30)
    assert not views.within_days("2026-07-02", NOW, 30)
    assert not views.within_days("2026-05-31", NOW, 30)
    assert not views.within_days(None, NOW, 30)
    assert views.expired("2026-05-31", NOW)
    assert not views.expired("2026-06-01", NOW)  # a date is valid through its day
    assert views.expired("2026-06-01T08:59:59+00:00", NOW)
    assert not views.expired(None, NOW)


def test_visible_rows_leave_other_systems_out() -> None:
    report = {
        "systems": [{"id": "a"}, {"id": "b"}],
        "findings": [{"system": "a"}, {"system": "b"}],
        "risks": [{"id": "r1", "systems": ["a", "b"]}, {"id": "r2", "systems": ["b"]}],
        "attestations": [{"id": "all", "systems": []}],
        "soa": [{"control": "c", "status": "partial", "per_system": {"a": "x", "b": "y"}}],
    }
    shown = views.Visible(report, frozenset({"a"}), everything=False)
    assert shown.rows("findings") == [{"system": "a"}]
    assert shown.rows("risks") == [{"id": "r1", "systems": ["a"]}]
    assert shown.rows("attestations") == [{"id": "all", "systems": []}]
    assert shown.soa() == [
        {"control": "c", "status": None, "per_system": {"a": "x"}, "owner": None,
         "justification": [], "exclusion": None, "applicable": True}
    ]  # fmt: skip
    assert [s["id"] for s in shown.systems] == ["a"]


def test_bound_systems_and_navigation() -> None:
    engineer = _principal(Binding(Role.engineer, "a"))
    assert views.bound_systems(engineer) == ["a"]
    assert not views.sees_everything(engineer)
    labels = [i["label"] for i in views.nav(engineer, "/systems/a")]
    assert labels == [
        "Dashboard", "Systems", "Risks", "Controls", "SoA", "Findings", "Evidence", "Roadmap",
    ]  # fmt: skip
    current = [i["href"] for i in views.nav(engineer, "/systems/a") if i["current"]]
    assert current == ["/systems"]
    admin = [i["label"] for i in views.nav(_principal(Binding(Role.admin)), "/")]
    assert admin[-3:] == ["Ledger", "Activity", "Admin"]


def test_trend_lines_and_heat_map_cells() -> None:
    points = [
        TrendPoint(NOW - dt.timedelta(days=2), 0.0, {"a": 10.0}),
        TrendPoint(NOW, 100.0, {"a": 50.0, "b": 20.0}),
    ]
    pooled = charts.trend(points, None)
    assert pooled is not None
    (line,) = pooled.series
    assert line.points == "36.0,192.0 592.0,12.0"  # 0% at the bottom, 100% at the top
    per_system = charts.trend(points, ["a", "b"])
    assert per_system is not None
    assert [len(s.dots) for s in per_system.series] == [2, 1]  # b was not assessed before
    assert charts.trend([], None) is None
    levels = [{"name": "low", "max_score": 4}, {"name": "high", "max_score": 25}]
    grid = charts.heat_map([{"id": "r", "l": 5, "i": 1}], "l", "i", levels)
    assert grid[4][4].risks == ("r",)  # bottom row (impact 1), last column (likelihood 5)
    assert (grid[4][0].level, grid[0][4].level) == ("low", "high")


def test_gantt_bars_span_start_to_due() -> None:
    items = [
        {"control": "c1", "phase": "0-30", "start": "2026-06-01", "due": "2026-06-11"},
        {"control": "c2", "phase": "31-90", "start": "2026-06-11", "due": "2026-07-01"},
    ]
    chart = charts.gantt(items, NOW.date())
    assert chart is not None
    first, second = chart.bars
    assert first.x == chart.left
    assert second.x == first.x + first.width
    assert second.width == pytest.approx(2 * first.width, abs=0.1)
    assert chart.today == chart.left
    assert charts.gantt([], NOW.date()) is None

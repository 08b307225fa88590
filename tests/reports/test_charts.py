"""Chart geometry: pure numbers the HTML template draws."""

from __future__ import annotations

import dataclasses
import itertools

from custos.assess.model import AssessmentReport
from custos.reports import _charts


def test_heat_map_counts_and_levels(report: AssessmentReport) -> None:
    inherent = _charts.heat_map("i", report.risks, False, report.risk_levels, 9)
    residual = _charts.heat_map("r", report.risks, True, report.risk_levels, 9)
    assert len(inherent.cells) == 25
    assert inherent.total == residual.total == len(report.risks)
    cell = {(c.likelihood, c.impact): c for c in inherent.cells}
    assert cell[(4, 5)].count == 1
    assert cell[(4, 5)].level == "critical"
    assert cell[(4, 5)].above
    assert cell[(3, 3)].level == "medium"
    assert not cell[(3, 3)].above
    residual_cells = {(c.likelihood, c.impact): c.count for c in residual.cells}
    assert residual_cells[(2, 5)] == 1


def test_appetite_line_is_a_staircase() -> None:
    h = _charts.heat_map("x", [], False, (("low", 4), ("high", 25)), appetite=9, cell=10)
    # Column likelihood 1 keeps all five rows within appetite; likelihood 5 only impact 1.
    ys = [float(p.split()[1]) for p in h.appetite_path[2:].split(" L ")]
    assert ys[0] == h.origin_y  # top edge over likelihood 1
    assert ys[-1] == h.origin_y + 4 * 10  # above impact 1 at likelihood 5


def test_gantt_places_bars_by_date(report: AssessmentReport) -> None:
    today = report.generated_at.date()
    g = _charts.gantt(report.roadmap, today)
    assert len(g.bars) == len(report.roadmap)
    assert g.hidden == 0
    first, last = g.bars[0], g.bars[-1]
    assert first.x == g.left  # starts today
    assert last.x > first.x
    assert last.x + last.width <= g.left + 620 + 0.01
    assert [b[2] for b in g.bands] == ["0-30", "31-90", "91-180"]
    capped = _charts.gantt(report.roadmap, today, limit=2)
    assert len(capped.bars) == 2
    assert capped.hidden == 3


def test_trend_labels_do_not_overlap(report: AssessmentReport) -> None:
    t = _charts.trend(report.trend)
    assert [s.label for s in t.series] == ["Overall", "fraud-scoring", "support-chatbot"]
    ys = sorted(s.label_y for s in t.series)
    assert all(b - a >= 14 for a, b in itertools.pairwise(ys))
    assert len({s.dash for s in t.series}) == 3  # told apart by pattern, not only colour


def test_trend_with_many_systems_draws_only_the_overall_line(report: AssessmentReport) -> None:
    point = report.trend[-1]
    many = dataclasses.replace(point, system_scores={f"s{i}": 50.0 for i in range(10)})
    t = _charts.trend((report.trend[0], many))
    assert [s.label for s in t.series] == ["Overall"]


def test_bars_clamp_and_band() -> None:
    bars = _charts.bars({"a": 120.0, "b": 50.0, "c": 10.0}, track=100)
    assert [(b.width, b.band) for b in bars] == [(100.0, "good"), (50.0, "fair"), (10.0, "poor")]

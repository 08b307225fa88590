"""Chart geometry for the pages: inline SVG drawn from attributes (x, width, points), since
the CSP forbids inline styles and scripts. Pure functions from report values to coordinates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from custos.assess.model import TrendPoint

# The trend chart's drawing area, in SVG user units (the SVG scales to its container).
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 600, 220, 36, 28, 12


@dataclass(frozen=True)
class Series:
    name: str
    points: str  # "x,y x,y ..." for <polyline points>
    dots: tuple[tuple[float, float, float], ...]  # (x, y, score) for each point
    css: str  # series-0, series-1 ... colour class


@dataclass(frozen=True)
class TrendChart:
    series: tuple[Series, ...]
    ticks: tuple[tuple[float, str], ...]  # (x, label) along the time axis
    grid: tuple[tuple[float, int], ...]  # (y, percent) horizontal lines
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: float = HEIGHT - BOTTOM


def _y(score: float) -> float:
    return round(TOP + (HEIGHT - BOTTOM - TOP) * (1 - min(max(score, 0.0), 100.0) / 100), 1)


def trend(points: Sequence[TrendPoint], systems: Sequence[str] | None) -> TrendChart | None:
    """The overall score over runs (`systems` None), or one line per listed system."""
    if not points:
        return None
    span = max(len(points) - 1, 1)
    xs = [round(LEFT + (WIDTH - LEFT - 8) * i / span, 1) for i in range(len(points))]
    if len(points) == 1:
        xs = [LEFT + (WIDTH - LEFT) / 2]
    lines: list[tuple[str, list[float | None]]]
    if systems is None:
        lines = [("All systems", [p.score for p in points])]
    else:
        lines = [(s, [p.system_scores.get(s) for p in points]) for s in systems]
    series = []
    for number, (name, scores) in enumerate(lines):
        dots = tuple((x, _y(v), v) for x, v in zip(xs, scores, strict=True) if v is not None)
        if dots:
            path = " ".join(f"{x},{y}" for x, y, _v in dots)
            series.append(Series(name, path, dots, f"series-{number % 6}"))
    step = max(1, len(points) // 6)  # at most about six date labels
    ticks = tuple((xs[i], points[i].at.strftime("%d %b")) for i in range(0, len(points), step))
    grid = tuple((_y(p), p) for p in (0, 25, 50, 75, 100))
    return TrendChart(tuple(series), ticks, grid)


@dataclass(frozen=True)
class HeatCell:
    likelihood: int
    impact: int
    level: str
    risks: tuple[str, ...]


def heat_map(
    risks: Sequence[Mapping[str, Any]],
    likelihood_key: str,
    impact_key: str,
    levels: Sequence[Mapping[str, Any]],
) -> list[list[HeatCell]]:
    """A 5x5 grid, impact rows from 5 down to 1, likelihood columns 1 to 5; each cell holds the
    risks placed there and the level its score falls in (from the report's risk matrix)."""

    def level(score: int) -> str:
        for item in levels:
            if score <= int(item["max_score"]):
                return str(item["name"])
        return str(levels[-1]["name"]) if levels else ""

    grid = []
    for impact in range(5, 0, -1):
        row = []
        for likelihood in range(1, 6):
            here = tuple(
                str(r["id"])
                for r in risks
                if r.get(likelihood_key) == likelihood and r.get(impact_key) == impact
            )
            row.append(HeatCell(likelihood, impact, level(likelihood * impact), here))
        grid.append(row)
    return grid


@dataclass(frozen=True)
class GanttBar:
    label: str
    title: str
    phase: str
    y: float
    x: float
    width: float
    start: str
    due: str


@dataclass(frozen=True)
class Gantt:
    bars: tuple[GanttBar, ...]
    months: tuple[tuple[float, str], ...]  # (x, label) month starts
    today: float | None
    width: int
    height: float
    left: int
    row: int


def gantt(items: Sequence[Mapping[str, Any]], today: dt.date, width: int = 820) -> Gantt | None:
    """Bars from each item's start to its due date, on one time axis."""
    if not items:
        return None
    left, row = 262, 22
    starts = [dt.date.fromisoformat(str(i["start"])) for i in items]
    dues = [dt.date.fromisoformat(str(i["due"])) for i in items]
    first, last = min(starts), max(dues)
    days = max((last - first).days, 1)
    scale = (width - left - 10) / days

    def x(day: dt.date) -> float:
        return round(left + (day - first).days * scale, 1)

    bars = tuple(
        GanttBar(
            label=str(item["control"]),
            title=str(item.get("title") or ""),
            phase=str(item.get("phase") or ""),
            y=index * row + 24,
            x=x(start),
            width=max(round((due - start).days * scale, 1), 3.0),
            start=start.isoformat(),
            due=due.isoformat(),
        )
        for index, (item, start, due) in enumerate(zip(items, starts, dues, strict=True))
    )
    months = []
    cursor = dt.date(first.year, first.month, 1)
    while cursor <= last:
        if cursor >= first:
            months.append((x(cursor), cursor.strftime("%b %Y")))
        cursor = dt.date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    marker = x(today) if first <= today <= last else None
    return Gantt(bars, tuple(months), marker, width, len(items) * row + 30, left, row)

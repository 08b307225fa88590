"""Chart geometry for the HTML report: numbers only, drawn as inline SVG by the template.

Python computes positions; the Jinja macros in `templates/_charts.html.j2` draw them, so every
label goes through Jinja's autoescaping and no markup is built by string concatenation.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from custos.assess.model import RiskView, RoadmapItem, TrendPoint
from custos.reports._view import level_of, level_rank


@dataclass(frozen=True)
class Donut:
    value: float
    radius: float
    circumference: float
    dash: float  # length of the filled arc


def donut(value: float, radius: float = 52.0) -> Donut:
    circumference = 2 * 3.141592653589793 * radius
    clamped = max(0.0, min(100.0, value))
    return Donut(value, radius, round(circumference, 2), round(circumference * clamped / 100, 2))


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    width: float  # px of the bar, for a track of `track` px
    band: str  # css class: good / fair / poor


def band(value: float) -> str:
    return "good" if value >= 75 else "fair" if value >= 40 else "poor"


def bars(values: Mapping[str, float], track: float = 320.0) -> list[Bar]:
    return [
        Bar(label, value, round(track * max(0.0, min(100.0, value)) / 100, 1), band(value))
        for label, value in values.items()
    ]


@dataclass(frozen=True)
class HeatCell:
    likelihood: int
    impact: int
    x: float
    y: float
    count: int
    score: int
    level: str
    rank: int  # 0 = lowest level: picks the colour from a fixed ramp
    above: bool  # score above the risk appetite


@dataclass(frozen=True)
class HeatMap:
    title: str
    cells: tuple[HeatCell, ...]
    cell: float
    origin_x: float
    origin_y: float
    appetite_path: str  # staircase between cells within and above appetite
    total: int


def heat_map(
    title: str,
    risks: Sequence[RiskView],
    residual: bool,
    levels: tuple[tuple[str, int], ...],
    appetite: int,
    cell: float = 52.0,
) -> HeatMap:
    """Likelihood on x (1..5, left to right), impact on y (1..5, bottom to top)."""
    counts = Counter(
        (r.residual_likelihood, r.residual_impact) if residual else (r.likelihood, r.impact)
        for r in risks
    )
    ox, oy = 56.0, 12.0
    cells = []
    for impact in range(5, 0, -1):
        for likelihood in range(1, 6):
            score = likelihood * impact
            level = level_of(score, levels)
            cells.append(
                HeatCell(
                    likelihood, impact, ox + (likelihood - 1) * cell, oy + (5 - impact) * cell,
                    counts.get((likelihood, impact), 0), score, level,
                    level_rank(level, levels), score > appetite,
                )
            )  # fmt: skip
    # For each likelihood column, the top edge of the highest cell still within appetite.
    points = []
    for likelihood in range(1, 6):
        within = max((i for i in range(0, 6) if likelihood * i <= appetite), default=0)
        y = oy + (5 - within) * cell
        x0, x1 = ox + (likelihood - 1) * cell, ox + likelihood * cell
        points += [(x0, y), (x1, y)]
    path = "M " + " L ".join(f"{x:.0f} {y:.0f}" for x, y in points)
    return HeatMap(title, tuple(cells), cell, ox, oy, path, sum(counts.values()))


@dataclass(frozen=True)
class GanttBar:
    rank: int
    control: str
    title: str
    phase: str
    y: float
    x: float
    width: float
    due: str


@dataclass(frozen=True)
class Gantt:
    bars: tuple[GanttBar, ...]
    bands: tuple[tuple[float, float, str], ...]  # x, width, label
    ticks: tuple[tuple[float, str], ...]  # x, date label
    left: float
    width: float
    height: float
    hidden: int  # items not drawn (the table lists them all)


def gantt(
    items: Sequence[RoadmapItem], today: dt.date, limit: int = 40, plot: float = 620.0
) -> Gantt:
    days = max([180, *((i.due - today).days for i in items)])
    left, row, top = 230.0, 24.0, 30.0

    def x(days_ahead: int) -> float:
        return left + plot * max(0, days_ahead) / days

    def at(d: dt.date) -> float:
        return x((d - today).days)

    drawn = items[:limit]
    bars_ = tuple(
        GanttBar(
            i.rank, i.control, i.title, i.phase, top + n * row, at(i.start),
            max(4.0, at(i.due) - at(i.start)), i.due.isoformat(),
        )
        for n, i in enumerate(drawn)
    )  # fmt: skip
    # The roadmap's phases: days 0-30, 31-90 and 91-180 after the assessment.
    bands = tuple(
        (x(start), x(end) - x(start), label)
        for start, end, label in ((0, 30, "0-30"), (30, 90, "31-90"), (90, 180, "91-180"))
    )
    ticks = tuple(
        (x(d), (today + dt.timedelta(days=d)).strftime("%d %b")) for d in range(0, days + 1, 30)
    )
    height = top + row * max(1, len(drawn)) + 8  # the axis labels go below this
    return Gantt(bars_, bands, ticks, left, left + plot + 90, height, len(items) - len(drawn))


@dataclass(frozen=True)
class Series:
    label: str
    points: str  # "x,y x,y ..."
    dots: tuple[tuple[float, float, float], ...]  # x, y, value
    main: bool
    label_y: float  # end label position, moved apart so labels never overlap
    dash: str  # stroke pattern: lines differ by pattern, not colour only


@dataclass(frozen=True)
class Trend:
    series: tuple[Series, ...]
    xticks: tuple[tuple[float, str], ...]
    yticks: tuple[tuple[float, int], ...]
    left: float
    right: float
    top: float
    bottom: float
    width: float
    height: float


_DASHES = ("", "6 3", "2 3", "8 3 2 3", "12 4", "1 2")


def _spread(ys: list[float], gap: float = 14.0) -> list[float]:
    """Move label positions apart by at least `gap`, keeping their order."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    out = list(ys)
    for prev, cur in itertools.pairwise(order):
        out[cur] = max(out[cur], out[prev] + gap)
    return out


def trend(
    points: Sequence[TrendPoint],
    max_series: int = 6,
    width: float = 1000.0,
    height: float = 260.0,
) -> Trend:
    """Overall score and (for a few systems) each system's score across runs, on 0-100%."""
    left, right, top, bottom = 44.0, width - 190.0, 14.0, height - 30.0
    first, last = points[0].at, points[-1].at
    span = max((last - first).total_seconds(), 1.0)

    def xy(at: dt.datetime, value: float) -> tuple[float, float]:
        x = left + (right - left) * (at - first).total_seconds() / span
        return round(x, 1), round(bottom - (bottom - top) * value / 100, 1)

    raw: list[tuple[str, list[tuple[float, float, float]], bool]] = [
        ("Overall", [(*xy(p.at, p.score), p.score) for p in points], True)
    ]
    systems = sorted({s for p in points for s in p.system_scores})
    if len(systems) <= max_series:
        for system in systems:
            coords = [
                (*xy(p.at, p.system_scores[system]), p.system_scores[system])
                for p in points
                if system in p.system_scores
            ]
            if coords:
                raw.append((system, coords, False))
    label_ys = _spread([coords[-1][1] for _, coords, _ in raw])
    series = tuple(
        Series(
            label, " ".join(f"{x},{y}" for x, y, _ in coords), tuple(coords), main, label_y,
            _DASHES[n % len(_DASHES)] if not main else "",
        )
        for n, ((label, coords, main), label_y) in enumerate(zip(raw, label_ys, strict=True))
    )  # fmt: skip
    step = max(1, math.ceil(len(points) / 6))
    shown = list(points[::step])
    if shown[-1] is not points[-1]:
        shown.append(points[-1])
    xticks = tuple((xy(p.at, 0)[0], p.at.strftime("%d %b %Y")) for p in shown)
    yticks = tuple((xy(first, v)[1], v) for v in (0, 25, 50, 75, 100))
    return Trend(series, xticks, yticks, left, right, top, bottom, width, height)

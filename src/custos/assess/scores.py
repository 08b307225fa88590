"""Scores: the share of applicable controls that are met (a partial one counts half)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

from custos.assess.model import ControlStatus, Status
from custos.catalog.catalog import Catalog

WEIGHT: dict[Status, float] = {
    "implemented": 1.0,
    "partial": 0.5,
    "not_implemented": 0.0,
    "unknown": 0.0,
}


def score(statuses: Iterable[Status]) -> float:
    """Percent, one decimal; 0.0 when nothing applies."""
    weights = [WEIGHT[s] for s in statuses if s != "not_applicable"]
    return round(100.0 * sum(weights) / len(weights), 1) if weights else 0.0


def iso_themes(catalog: Catalog) -> dict[str, str]:
    """ISO 27002 control id -> the title of its theme (its parent node), "other" without one.
    Built once per assessment rather than looked up twice per status of every system."""
    return {
        c.id: catalog.control(c.parent).title if c.parent else "other"
        for c in catalog.framework_controls("iso27002")
    }


def system_scores(
    statuses: Sequence[ControlStatus], themes: Mapping[str, str]
) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    """Per framework, per ISO 27002 theme (`themes`: `iso_themes`), and status counts (AI
    requirements + ISO 27002)."""
    by_framework: dict[str, list[Status]] = defaultdict(list)
    by_theme: dict[str, list[Status]] = defaultdict(list)
    counts: Counter[str] = Counter()
    for s in statuses:
        by_framework[s.framework].append(s.status)
        if s.framework == "iso27002":
            by_theme[themes[s.control]].append(s.status)
        if s.framework in ("custos-ai", "iso27002"):
            counts[s.status] += 1
    return (
        {fw: score(values) for fw, values in sorted(by_framework.items())},
        {theme: score(values) for theme, values in by_theme.items()},
        dict(counts),
    )

"""Scores: the share of applicable controls that are met (a partial one counts half)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

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


def system_scores(
    statuses: Sequence[ControlStatus], catalog: Catalog
) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    """Per framework, per ISO 27002 theme, and status counts (AI requirements + ISO 27002)."""
    by_framework: dict[str, list[Status]] = defaultdict(list)
    by_theme: dict[str, list[Status]] = defaultdict(list)
    counts: Counter[str] = Counter()
    for s in statuses:
        by_framework[s.framework].append(s.status)
        if s.framework == "iso27002":
            parent = catalog.control(s.control).parent
            theme = catalog.control(parent).title if parent else "other"
            by_theme[theme].append(s.status)
        if s.framework in ("custos-ai", "iso27002"):
            counts[s.status] += 1
    return (
        {fw: score(values) for fw, values in sorted(by_framework.items())},
        {theme: score(values) for theme, values in by_theme.items()},
        dict(counts),
    )

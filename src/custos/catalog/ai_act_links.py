"""What evidences an EU AI Act obligation: the ISO/IEC 27002 and 42001 controls its article maps
to (direct pairs first, then those derived through the Custos requirements), the Custos
requirements that serve it, and the checks that verify those requirements. Read from the
catalog's mappings; no I/O here."""

from __future__ import annotations

from dataclasses import dataclass

from custos.catalog.ai_act import Obligation
from custos.catalog.catalog import Catalog
from custos.catalog.crosswalk import crosswalk

DEPTH = 2  # article -> requirement -> control: longer paths say too little


@dataclass(frozen=True)
class Links:
    iso27002: tuple[str, ...]
    iso42001: tuple[str, ...]
    requirements: tuple[str, ...]
    checks: tuple[str, ...]

    def to_json(self) -> dict[str, list[str]]:
        return {
            "iso27002": list(self.iso27002), "iso42001": list(self.iso42001),
            "requirements": list(self.requirements), "checks": list(self.checks),
        }  # fmt: skip


def links(catalog: Catalog, obligation: Obligation) -> Links:
    """The controls, requirements and checks that evidence the obligation's article."""
    if obligation.article not in catalog.controls:
        return Links((), (), (), ())
    hits = [h for h in crosswalk(catalog, obligation.article, depth=DEPTH) if h.target]
    hits.sort(key=lambda h: (not h.direct, h.target or ""))

    def of(framework: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(
            str(h.target) for h in hits
            if h.target and catalog.controls[h.target].framework == framework
        ))  # fmt: skip

    requirements = tuple(
        str(h.target) for h in hits
        if h.direct and h.target and catalog.controls[h.target].framework == "custos-ai"
    )  # fmt: skip
    checks: list[str] = []
    for req in requirements:
        verification = catalog.controls[req].verification  # type: ignore[index]
        checks.extend(verification.checks if verification else ())
    return Links(of("iso27002"), of("iso42001"), requirements, tuple(dict.fromkeys(checks)))

"""Risk scoring on the 5x5 matrix: inherent and residual scores, levels, appetite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping

from custos.assess.model import RiskView, Status
from custos.inventory.schema import Manifest, Risk, RiskMatrix


def level(score: int, matrix: RiskMatrix) -> str:
    for candidate in matrix.levels:
        if score <= candidate.max_score:
            return candidate.name
    return matrix.levels[-1].name


def residual_of(risk: Risk) -> tuple[int, int]:
    """Residual likelihood and impact; without an estimate, the inherent ones (nothing reduced)."""
    if risk.residual is not None:
        return risk.residual.likelihood, risk.residual.impact
    return risk.likelihood, risk.impact


def asset_owners(manifest: Manifest) -> dict[str, str]:
    """Asset id -> the id of the system it belongs to (the last one, should two share an id)."""
    return {a.id: s.id for s in manifest.systems for a in s.assets}


def systems_of(risk: Risk, owners: Mapping[str, str]) -> tuple[str, ...]:
    """The systems a risk affects: those it names plus those owning the assets it names.

    `owners` is `asset_owners(manifest)`, built once by the caller: rebuilding it per risk made
    every pass over the risks quadratic in the size of the organisation."""
    found = list(risk.systems)
    for asset in risk.assets:
        system = owners.get(asset)
        if system is not None and system not in found:
            found.append(system)
    return tuple(found)


def risk_views(
    manifest: Manifest,
    today: dt.date,
    status_of: Callable[[str, str], Status | None],
) -> tuple[RiskView, ...]:
    """One view per risk; `status_of(system, control)` tells which chosen controls are open."""
    matrix = manifest.organisation.risk_matrix
    owners = asset_owners(manifest)
    views = []
    for risk in manifest.risks:
        systems = systems_of(risk, owners)
        r_likelihood, r_impact = residual_of(risk)
        inherent = risk.likelihood * risk.impact
        residual = r_likelihood * r_impact
        open_controls = tuple(
            control
            for control in risk.controls
            if any(
                status_of(system, control) not in ("implemented", "not_applicable")
                for system in systems
            )
        )
        views.append(
            RiskView(
                id=risk.id,
                title=risk.title,
                systems=systems,
                assets=tuple(risk.assets),
                threats=tuple(risk.threats),
                likelihood=risk.likelihood,
                impact=risk.impact,
                inherent=inherent,
                inherent_level=level(inherent, matrix),
                residual_likelihood=r_likelihood,
                residual_impact=r_impact,
                residual=residual,
                residual_level=level(residual, matrix),
                above_appetite=residual > matrix.appetite,
                treatment=risk.treatment,
                controls=tuple(risk.controls),
                open_controls=open_controls,
                owner=risk.owner,
                review_date=risk.review_date,
                overdue=risk.review_date is not None and risk.review_date < today,
            )
        )
    return tuple(views)


def exposure(risks: Iterable[Risk]) -> int:
    """The risk a set of risks leaves open: the sum of their inherent scores.

    A gap in a control a risk relies on means the planned reduction has not happened, so the
    risk is still at its inherent level.
    """
    return sum(r.likelihood * r.impact for r in risks)

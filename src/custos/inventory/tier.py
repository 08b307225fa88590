"""A system's EU AI Act scoping from its manifest entry: the questionnaire's answers go through
custos.catalog.ai_act (regimes that stack, roles, obligations cited to the point); a declared
tier stands for the regimes it names, with the reasons saying what is assumed.

`tier` stays as the one-word summary (the most demanding regime) that tables and filters use.
"""

from __future__ import annotations

from dataclasses import dataclass

from custos.catalog.ai_act import Answers, Obligation, Regime, Scoping, scope
from custos.inventory.schema import EuAiAct, Questionnaire, Tier

# What a declared tier stands for when no questionnaire says more.
DECLARED: dict[str, tuple[Regime, ...]] = {
    "prohibited": ("prohibited",),
    "high": ("high-risk-annex-iii", "baseline"),
    "limited": ("transparency", "baseline"),
    "gpai": ("gpai", "baseline"),
    "gpai-systemic": ("gpai", "gpai-systemic", "baseline"),
    "minimal": ("baseline",),
}


@dataclass(frozen=True)
class TierDecision:
    tier: Tier
    derived: bool
    reasons: tuple[str, ...]
    scoping: Scoping


def answers_of(role: str, q: Questionnaire) -> Answers:
    return Answers(
        role=role,  # type: ignore[arg-type]  # a str here; the schema checked it
        prohibited_practices=tuple(q.prohibited_practices), annex_i_product=q.annex_i_product,
        annex_iii=tuple(q.annex_iii), annex_iii_exception=q.annex_iii_exception,
        profiling=q.profiling, transparency=tuple(q.transparency), gpai=q.gpai,
        gpai_systemic=q.gpai_systemic, own_name_or_trademark=q.own_name_or_trademark,
        substantial_modification=q.substantial_modification,
        changed_intended_purpose=q.changed_intended_purpose, public_service=q.public_service,
    )  # fmt: skip


def derive_tier(answers: Questionnaire, role: str = "provider") -> TierDecision:
    """The scoping the answers imply, and each answer that decided it."""
    found = scope(answers_of(role, answers))
    return TierDecision(found.tier, True, found.reasons, found)


def system_tier(act: EuAiAct) -> TierDecision:
    """A declared tier wins (noted as declared, with what it is taken to mean); otherwise the
    questionnaire decides."""
    if act.tier is not None:
        regimes = DECLARED[act.tier]
        reasons = ["declared in custos.yaml"]
        if act.tier == "high":
            reasons.append("taken as Annex III (dates from 2026-08-02); answer the questionnaire "
                           "for Annex I products, Art. 50 duties and Art. 25 roles")  # fmt: skip
        if act.tier == "limited":
            reasons.append("the Art. 50 cases are not declared: answer the questionnaire's "
                           "transparency list to get the duties cited")  # fmt: skip
        base = scope(Answers(role=act.role))
        declared = Scoping(
            regimes, base.roles, act.tier, tuple(reasons),
            _declared_duties(act, regimes),
        )  # fmt: skip
        return TierDecision(act.tier, False, tuple(reasons), declared)
    assert act.questionnaire is not None  # guaranteed by the schema
    return derive_tier(act.questionnaire, act.role)


def _declared_duties(act: EuAiAct, regimes: tuple[Regime, ...]) -> tuple[Obligation, ...]:
    """The obligations of the declared regimes for the role, as answers would give them."""
    answers = Answers(
        role=act.role,
        prohibited_practices=("declared",) if "prohibited" in regimes else (),
        annex_iii=("1",) if "high-risk-annex-iii" in regimes else (),
        gpai="gpai" in regimes,
        gpai_systemic="gpai-systemic" in regimes,
    )
    found = scope(answers)
    # Annex III point 1 stands in for "some point": drop duties that depend on the point.
    return tuple(o for o in found.obligations if o.citation != "Art. 27(1)")

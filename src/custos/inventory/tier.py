"""EU AI Act risk tier from a system's questionnaire answers, with the reasons why.

The order of the tests is the Act's order of precedence: a prohibited practice (Art. 5) makes
everything else moot; a safety component of an Annex I product (Art. 6(1)) or an Annex III use
without the Art. 6(3) exception is high-risk; then general-purpose AI obligations (Art. 51-55);
then the Art. 50 transparency cases; anything else is minimal risk.
"""

from __future__ import annotations

from dataclasses import dataclass

from custos.inventory.schema import EuAiAct, Questionnaire, Tier


@dataclass(frozen=True)
class TierDecision:
    tier: Tier
    derived: bool
    reasons: tuple[str, ...]


def derive_tier(answers: Questionnaire) -> TierDecision:
    """The tier the answers imply, and each answer that decided it."""
    if answers.prohibited_practices:
        practices = ", ".join(answers.prohibited_practices)
        return TierDecision("prohibited", True, (f"Art. 5 prohibited practice(s): {practices}",))
    reasons: list[str] = []
    if answers.annex_i_product:
        reasons.append("Art. 6(1): safety component of, or itself, an Annex I product")
    if answers.annex_iii and not answers.annex_iii_exception:
        reasons.append(f"Art. 6(2): Annex III area(s): {', '.join(answers.annex_iii)}")
    if reasons:
        return TierDecision("high", True, tuple(reasons))
    if answers.annex_iii:
        reasons.append(
            "Annex III area(s) listed but the Art. 6(3) exception applies "
            "(record the assessment, Art. 6(4))"
        )
    if answers.gpai:
        return TierDecision("gpai", True, (*reasons, "Art. 51-55: general-purpose AI model"))
    if answers.transparency:
        cases = ", ".join(answers.transparency)
        return TierDecision("limited", True, (*reasons, f"Art. 50 transparency case(s): {cases}"))
    return TierDecision(
        "minimal", True, (*reasons, "no prohibited, high-risk, GPAI or transparency answer")
    )


def system_tier(act: EuAiAct) -> TierDecision:
    """A declared tier wins (noted as declared); otherwise derive it from the questionnaire."""
    if act.tier is not None:
        return TierDecision(act.tier, False, ("declared in custos.yaml",))
    assert act.questionnaire is not None  # guaranteed by the schema
    return derive_tier(act.questionnaire)

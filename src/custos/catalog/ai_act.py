"""EU AI Act scoping: which regimes a system falls under, which role(s) its operator holds, and
the obligations that follow, each cited to the point ("Art. 26(5)", "Annex III point 5(b)")
with the date it applies. One module for the data model and the cases; no I/O.

Regimes stack: a high-risk chatbot is under Art. 8-15 and under Art. 50; a general-purpose
model with systemic risk is under Art. 53 and Art. 55; a prohibited practice overrides the
rest. Roles decide obligations, and Art. 25 turns a deployer, importer or distributor into the
provider of a high-risk system in three cases. The duties are summarised in our own words;
the Act's text is authoritative (Regulation (EU) 2024/1689).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

Regime = Literal[
    "prohibited", "high-risk-annex-i", "high-risk-annex-iii", "transparency", "gpai",
    "gpai-systemic", "baseline",
]  # fmt: skip
ActRole = Literal[
    "provider", "deployer", "importer", "distributor", "authorised-representative",
    "product-manufacturer",
]  # fmt: skip
Add = Callable[[str, "Regime", "ActRole", dt.date, str], None]
HeadlineTier = Literal["prohibited", "high", "gpai-systemic", "gpai", "limited", "minimal"]

OPERATORS: tuple[ActRole, ...] = ("provider", "deployer", "importer", "distributor")
LITERATE: tuple[ActRole, ...] = ("provider", "deployer")
PROHIBITIONS = dt.date(2025, 2, 2)
GPAI_DATE = dt.date(2025, 8, 2)
GENERAL = dt.date(2026, 8, 2)  # Annex III high-risk, Art. 50, most of the Act
ANNEX_I_DATE = dt.date(2027, 8, 2)  # Art. 6(1): high-risk through Annex I products

# Annex III points by area (the manifest's area names), for citations.
ANNEX_III_POINTS = {
    "biometrics": "1", "critical-infrastructure": "2", "education": "3", "employment": "4",
    "essential-services": "5", "law-enforcement": "6", "migration": "7",
    "justice-democracy": "8",
}  # fmt: skip
AREA_OF_POINT = {number: area for area, number in ANNEX_III_POINTS.items()}
# Art. 27(1): deployers of these points carry out a fundamental-rights impact assessment
# whatever they are (creditworthiness and credit scoring; life and health insurance pricing).
FRIA_POINTS = frozenset({"5(b)", "5(c)"})
TRANSPARENCY_POINTS: dict[str, tuple[str, ActRole]] = {
    "interacts-with-people": ("Art. 50(1)", "provider"),
    "synthetic-content": ("Art. 50(2)", "provider"),
    "emotion-recognition": ("Art. 50(3)", "deployer"),
    "biometric-categorisation": ("Art. 50(3)", "deployer"),
    "deepfake": ("Art. 50(4)", "deployer"),
}
# Which catalog article attribute tiers each regime makes applicable (eu-ai-act.yaml `tier`).
REGIME_ACT_TIERS: dict[Regime, frozenset[str]] = {
    "prohibited": frozenset({"prohibited"}),
    "high-risk-annex-i": frozenset({"high-risk"}),
    "high-risk-annex-iii": frozenset({"high-risk"}),
    "transparency": frozenset({"limited-risk"}),
    "gpai": frozenset({"gpai"}),
    "gpai-systemic": frozenset({"gpai", "gpai-systemic"}),
    "baseline": frozenset({"all"}),
}
# The column of the Custos requirements' `applicability` each regime reads.
REGIME_TIER: dict[Regime, str] = {
    "prohibited": "prohibited", "high-risk-annex-i": "high", "high-risk-annex-iii": "high",
    "transparency": "limited", "gpai": "gpai", "gpai-systemic": "gpai", "baseline": "minimal",
}  # fmt: skip


@dataclass(frozen=True)
class Obligation:
    citation: str  # the point: "Art. 26(5)"
    article: str  # the catalog control: "euaiact:art26"
    regime: Regime
    role: ActRole
    applies_from: dt.date
    duty: str  # our own summary

    def to_json(self) -> dict[str, str]:
        return {
            "citation": self.citation, "article": self.article, "regime": self.regime,
            "role": self.role, "applies_from": self.applies_from.isoformat(), "duty": self.duty,
        }  # fmt: skip


@dataclass(frozen=True)
class Answers:
    """What scoping needs to know (the manifest's questionnaire, plain)."""

    role: ActRole
    prohibited_practices: tuple[str, ...] = ()
    annex_i_product: bool = False
    annex_iii: tuple[str, ...] = ()  # areas (employment) or points ("5(b)")
    annex_iii_exception: bool = False  # Art. 6(3): no significant risk of harm
    profiling: bool = False  # profiles natural persons: never the Art. 6(3) exception
    transparency: tuple[str, ...] = ()
    gpai: bool = False
    gpai_systemic: bool = False
    own_name_or_trademark: bool = False  # Art. 25(1)(a)
    substantial_modification: bool = False  # Art. 25(1)(b)
    changed_intended_purpose: bool = False  # Art. 25(1)(c)
    public_service: bool = False  # a public body or a private entity providing public services


@dataclass(frozen=True)
class Scoping:
    regimes: tuple[Regime, ...]
    roles: tuple[ActRole, ...]  # the declared role and those Art. 25 adds
    tier: HeadlineTier  # the most demanding regime, for one-word summaries
    reasons: tuple[str, ...]  # each names its point of the Act
    obligations: tuple[Obligation, ...]

    def act_tiers(self) -> frozenset[str]:
        return frozenset({"all"}).union(*(REGIME_ACT_TIERS[r] for r in self.regimes))

    def requirement_tiers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(REGIME_TIER[r] for r in self.regimes))


def _points(values: Iterable[str]) -> tuple[list[str], list[str]]:
    """(areas, cited points) from the answers: "employment" -> point 4, "5(b)" -> area 5."""
    areas: list[str] = []
    cited: list[str] = []
    for value in values:
        number = ANNEX_III_POINTS.get(value) or value[:1]
        areas.append(AREA_OF_POINT.get(number, value))
        cited.append(value if value[:1].isdigit() else number)
    return list(dict.fromkeys(areas)), list(dict.fromkeys(cited))


def scope(answers: Answers) -> Scoping:
    """The regimes, roles, reasons and obligations the answers imply."""
    if answers.prohibited_practices:
        practices = ", ".join(answers.prohibited_practices)
        why = (f"Art. 5(1): prohibited practice(s): {practices}; nothing else matters until the "
               "practice stops",)  # fmt: skip
        return _scoping(("prohibited",), (answers.role,), why, answers, [])
    regimes: list[Regime] = []
    reasons: list[str] = []
    _areas, cited = _points(answers.annex_iii)
    if answers.annex_i_product:
        regimes.append("high-risk-annex-i")
        reasons.append("Art. 6(1): a safety component of, or itself, a product under the Annex I "
                       f"legislation (applies from {ANNEX_I_DATE.isoformat()})")  # fmt: skip
    if cited:
        where = ", ".join(f"Annex III point {p}" for p in cited)
        if answers.annex_iii_exception and not answers.profiling:
            reasons.append(f"{where}, but the Art. 6(3) exception is claimed: not high-risk; "
                           "document it (Art. 6(4)) and register (Art. 49(2))")  # fmt: skip
        else:
            regimes.append("high-risk-annex-iii")
            high_why = f"Art. 6(2): {where}"
            if answers.annex_iii_exception:
                high_why += ("; the Art. 6(3) exception cannot apply: the system profiles "
                             "natural persons (Art. 6(3), last subparagraph)")  # fmt: skip
            reasons.append(high_why)
    if answers.gpai_systemic:
        regimes += ["gpai", "gpai-systemic"]
        reasons.append("Art. 51(1): general-purpose AI model with systemic risk (Art. 53 and 55)")
    elif answers.gpai:
        regimes.append("gpai")
        reasons.append("Art. 53: general-purpose AI model")
    if answers.transparency:
        regimes.append("transparency")
        cases = ", ".join(f"{c} ({TRANSPARENCY_POINTS[c][0]})" for c in answers.transparency
                          if c in TRANSPARENCY_POINTS)  # fmt: skip
        reasons.append(f"Art. 50: transparency case(s): {cases}")
    roles: list[ActRole] = [answers.role]
    high = any(r.startswith("high-risk") for r in regimes)
    becomes = [
        point for point, flag in (
            ("Art. 25(1)(a)", answers.own_name_or_trademark),
            ("Art. 25(1)(b)", answers.substantial_modification),
            ("Art. 25(1)(c)", answers.changed_intended_purpose),
        ) if flag
    ]  # fmt: skip
    if becomes and high and answers.role != "provider":
        roles.append("provider")
        reasons.append(f"{', '.join(becomes)}: the {answers.role} is considered the provider of "
                       "the high-risk system, with the provider's obligations")  # fmt: skip
    if answers.role == "product-manufacturer" and "high-risk-annex-i" in regimes:
        roles.append("provider")
        reasons.append("Art. 25(3): the product manufacturer placing the system on the market "
                       "with the product under its name is its provider")  # fmt: skip
    if not regimes:
        reasons.append("no prohibited, high-risk, general-purpose or transparency answer: "
                       "only the duties every operator has (Art. 4)")  # fmt: skip
    return _scoping((*regimes, "baseline"), tuple(dict.fromkeys(roles)), tuple(reasons),
                    answers, cited)  # fmt: skip


def _scoping(
    regimes: tuple[Regime, ...],
    roles: tuple[ActRole, ...],
    reasons: tuple[str, ...],
    answers: Answers,
    cited: list[str],
) -> Scoping:
    duties = [
        o for o in _catalogue(regimes, answers, cited)
        if o.regime in regimes and o.role in roles
    ]  # fmt: skip
    return Scoping(regimes, roles, _headline(regimes), reasons, tuple(duties))


def _headline(regimes: Iterable[Regime]) -> HeadlineTier:
    found = set(regimes)
    if "prohibited" in found:
        return "prohibited"
    if found & {"high-risk-annex-i", "high-risk-annex-iii"}:
        return "high"
    if "gpai-systemic" in found:
        return "gpai-systemic"
    if "gpai" in found:
        return "gpai"
    return "limited" if "transparency" in found else "minimal"


def _catalogue(regimes: tuple[Regime, ...], a: Answers, cited: list[str]) -> list[Obligation]:
    """Every obligation the regimes carry, for every role; the caller keeps the system's."""
    out: list[Obligation] = []

    def add(citation: str, regime: Regime, role: ActRole, when: dt.date, duty: str) -> None:
        number = citation.split()[1].split("(")[0]
        out.append(Obligation(citation, f"euaiact:art{number}", regime, role, when, duty))

    if "prohibited" in regimes:
        for role in OPERATORS:
            add("Art. 5(1)", "prohibited", role, PROHIBITIONS,
                "stop placing on the market, putting into service or using it")  # fmt: skip
        return out
    for role in LITERATE:
        add("Art. 4", "baseline", role, PROHIBITIONS,
            "ensure sufficient AI literacy of the staff who operate or use the system")  # fmt: skip
    for regime, when in (("high-risk-annex-i", ANNEX_I_DATE), ("high-risk-annex-iii", GENERAL)):
        if regime in regimes:
            _high_risk(add, regime, when, a, cited)
    for case in a.transparency:
        if case in TRANSPARENCY_POINTS:
            citation, role = TRANSPARENCY_POINTS[case]
            add(citation, "transparency", role, GENERAL, _TRANSPARENCY_DUTY[case])
    for citation, regime, duty in _GPAI:
        add(citation, regime, "provider", GPAI_DATE, duty)
    return out


_TRANSPARENCY_DUTY = {
    "interacts-with-people": "tell people they are interacting with an AI system",
    "synthetic-content": "mark generated audio, image, video or text as AI-generated, "
                         "machine-readably",
    "emotion-recognition": "inform the people exposed to emotion recognition",
    "biometric-categorisation": "inform the people exposed to biometric categorisation",
    "deepfake": "disclose that the content was artificially generated or manipulated",
}  # fmt: skip

_GPAI: tuple[tuple[str, Regime, str], ...] = (
    ("Art. 53(1)(a)", "gpai",
     "keep the model's technical documentation for the AI Office and authorities"),
    ("Art. 53(1)(b)", "gpai", "give providers who integrate the model the information they need"),
    ("Art. 53(1)(c)", "gpai", "have a policy to comply with Union copyright law"),
    ("Art. 53(1)(d)", "gpai", "publish a summary of the content used for training"),
    ("Art. 55(1)(a)", "gpai-systemic", "evaluate the model, including adversarial testing"),
    ("Art. 55(1)(b)", "gpai-systemic", "assess and mitigate systemic risks at Union level"),
    ("Art. 55(1)(c)", "gpai-systemic",
     "track and report serious incidents to the AI Office without undue delay"),
    ("Art. 55(1)(d)", "gpai-systemic",
     "ensure adequate cybersecurity of the model and its infrastructure"),
)  # fmt: skip

_PROVIDER_HIGH_RISK = (
    ("Art. 9", "run a risk management system over the whole life cycle"),
    ("Art. 10", "govern training, validation and test data (quality, relevance, bias)"),
    ("Art. 11", "draw up technical documentation (Annex IV) before market placement"),
    ("Art. 12", "log events automatically over the system's lifetime"),
    ("Art. 13", "give deployers instructions for use that make the system understandable"),
    ("Art. 14", "design for effective human oversight"),
    ("Art. 15", "achieve appropriate accuracy, robustness and cybersecurity"),
    ("Art. 17", "operate a quality management system"),
    ("Art. 18", "keep the documentation for ten years"),
    ("Art. 19", "keep the automatically generated logs under its control"),
    ("Art. 20", "take corrective action and inform when the system does not conform"),
    ("Art. 43", "complete the conformity assessment"),
    ("Art. 47", "draw up the EU declaration of conformity"),
    ("Art. 48", "affix the CE marking"),
    ("Art. 72", "run post-market monitoring"),
    ("Art. 73(1)", "report serious incidents to the market surveillance authority"),
)
_DEPLOYER_HIGH_RISK = (
    ("Art. 26(1)", "use the system according to its instructions for use"),
    ("Art. 26(2)", "assign human oversight to competent, trained people"),
    ("Art. 26(4)", "keep input data relevant and representative, where it controls it"),
    ("Art. 26(5)", "monitor operation; on a serious incident, inform the provider and then the "
                   "authorities (reported under Art. 73)"),
    ("Art. 26(6)", "keep the logs under its control for at least six months"),
    ("Art. 26(7)", "inform workers' representatives and workers before use at work"),
    ("Art. 86", "explain individual decisions to affected persons on request"),
)  # fmt: skip


def _high_risk(emit: Add, regime: Regime, when: dt.date, a: Answers, cited: list[str]) -> None:
    for citation, duty in _PROVIDER_HIGH_RISK:
        emit(citation, regime, "provider", when, duty)
    if regime == "high-risk-annex-iii":
        emit("Art. 49(1)", regime, "provider", when, "register the system in the EU database")
    for citation, duty in _DEPLOYER_HIGH_RISK:
        emit(citation, regime, "deployer", when, duty)
    if regime == "high-risk-annex-iii":
        emit("Art. 26(11)", regime, "deployer", when,
             "inform the people the system decides about, or helps decide about")  # fmt: skip
        listed = sorted(FRIA_POINTS & set(cited))
        public = a.public_service and any(not p.startswith("2") for p in cited)
        if listed or public:
            why = ("as a public body or provider of public services" if public else
                   f"as a deployer of Annex III point {', '.join(listed)}")  # fmt: skip
            emit("Art. 27(1)", regime, "deployer", when,
                 f"assess the impact on fundamental rights before first use ({why})")  # fmt: skip
    emit("Art. 23", regime, "importer", when,
         "check conformity, documentation and marking before placing it on the market")  # fmt: skip
    emit("Art. 24", regime, "distributor", when,
         "check the CE marking, declaration and instructions before supplying it")  # fmt: skip
    emit("Art. 22", regime, "authorised-representative", when,
         "hold the mandate, the documentation and cooperate with authorities")  # fmt: skip


def applies_on(obligation: Obligation, day: dt.date) -> bool:
    return day >= obligation.applies_from

"""Which controls apply to an AI system, and why: tier defaults, risks, the AI Act's addressees."""

from __future__ import annotations

from collections.abc import Sequence

from custos.catalog.model import Control

# EU AI Act tier names used by the catalog's article attributes, per manifest tier (a declared
# tier without a questionnaire; custos.inventory.tier maps it to regimes).
ACT_TIERS: dict[str, frozenset[str]] = {
    "prohibited": frozenset({"prohibited", "all"}),
    "high": frozenset({"high-risk", "all"}),
    "limited": frozenset({"limited-risk", "all"}),
    "minimal": frozenset({"all"}),
    "gpai": frozenset({"gpai", "all"}),
    "gpai-systemic": frozenset({"gpai", "gpai-systemic", "all"}),
}
ROLE_ADDRESSEES: dict[str, frozenset[str]] = {
    "provider": frozenset({"provider", "operator"}),
    "deployer": frozenset({"deployer", "operator"}),
    "importer": frozenset({"importer", "operator"}),
    "distributor": frozenset({"distributor", "operator"}),
    "authorised-representative": frozenset({"authorised-representative", "operator"}),
    "product-manufacturer": frozenset({"product-manufacturer", "operator"}),
}
# How demanding each default is, to take the strictest when regimes stack.
_NEED_ORDER = {"not-applicable": 0, "optional": 1, "recommended": 2, "required": 3}


def requirement_applies(
    req: Control, tiers: Sequence[str], chosen_by: list[str]
) -> tuple[bool, str]:
    """A Custos AI requirement applies by its default for the system's regimes (the strictest
    when they stack: a high-risk chatbot reads the high and the limited column), or because a
    risk chose it."""
    needs = [(req.applicability.get(t, "recommended"), t) for t in tiers] or [
        ("recommended", "minimal")
    ]
    need, tier = max(needs, key=lambda nt: _NEED_ORDER.get(nt[0], 2))
    if chosen_by:
        return True, f"chosen to treat risk(s) {', '.join(chosen_by)}"
    if need in ("required", "recommended"):
        return True, f"{need} by default for {tier}-tier AI systems"
    label = "/".join(tiers) or "minimal"
    if need == "optional":
        return False, f"optional for {label}-tier AI systems and no risk chose it"
    return False, f"not applicable to {label}-tier AI systems"


def article_applies(
    article: Control, roles: Sequence[str], act_tiers: frozenset[str], label: str
) -> tuple[bool, str]:
    """An AI Act article applies when it addresses one of the operator's roles (Art. 25 may
    add provider) and one of the system's regimes (`act_tiers`: the catalog's tier names;
    `label` names them for the reason)."""
    addressees = set(article.attributes.get("addressee", ()))
    tiers = set(article.attributes.get("tier", ()))
    who: set[str] = set()
    for role in roles:
        who |= ROLE_ADDRESSEES.get(role, {role})
    if "provider" in roles and "gpai" in act_tiers:
        who.add("gpai-provider")
    named = " and ".join(roles)
    if not addressees & who:
        return False, f"{article.ref} addresses {', '.join(sorted(addressees))}, not a {named}"
    if not tiers & act_tiers:
        return False, f"{article.ref} applies to {', '.join(sorted(tiers))} AI, not {label}"
    return True, f"{article.ref} applies to a {named} of a {label} AI system"

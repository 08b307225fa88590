"""Which controls apply to an AI system, and why: tier defaults, risks, the AI Act's addressees."""

from __future__ import annotations

from custos.catalog.model import Control

# EU AI Act tier names used by the catalog's article attributes, per manifest tier.
ACT_TIERS: dict[str, frozenset[str]] = {
    "prohibited": frozenset({"prohibited", "all"}),
    "high": frozenset({"high-risk", "all"}),
    "limited": frozenset({"limited-risk", "all"}),
    "minimal": frozenset({"all"}),
    "gpai": frozenset({"gpai", "all"}),
}
ROLE_ADDRESSEES: dict[str, frozenset[str]] = {
    "provider": frozenset({"provider", "operator"}),
    "deployer": frozenset({"deployer", "operator"}),
    "importer": frozenset({"importer", "operator"}),
    "distributor": frozenset({"distributor", "operator"}),
}


def requirement_applies(req: Control, tier: str, chosen_by: list[str]) -> tuple[bool, str]:
    """A Custos AI requirement applies by its tier default, or because a risk chose it."""
    need = req.applicability.get(tier, "recommended")
    if chosen_by:
        return True, f"chosen to treat risk(s) {', '.join(chosen_by)}"
    if need in ("required", "recommended"):
        return True, f"{need} by default for {tier}-tier AI systems"
    if need == "optional":
        return False, f"optional for {tier}-tier AI systems and no risk chose it"
    return False, f"not applicable to {tier}-tier AI systems"


def article_applies(article: Control, role: str, tier: str) -> tuple[bool, str]:
    """An AI Act article applies when it addresses the system's role and tier."""
    addressees = set(article.attributes.get("addressee", ()))
    tiers = set(article.attributes.get("tier", ()))
    who = set(ROLE_ADDRESSEES.get(role, {role}))
    if tier == "gpai" and role == "provider":
        who.add("gpai-provider")
    if not addressees & who:
        return False, f"{article.ref} addresses {', '.join(sorted(addressees))}, not a {role}"
    if not tiers & ACT_TIERS.get(tier, frozenset({"all"})):
        return False, f"{article.ref} applies to {', '.join(sorted(tiers))} AI, not {tier}"
    return True, f"{article.ref} applies to a {role} of a {tier}-tier AI system"

"""EU AI Act scoping (custos.catalog.ai_act): regimes that stack, prohibited overriding the
rest, the Art. 6(3) exception and its profiling carve-out, Art. 6(1) from 2027, roles and the
Art. 25 cases, the deployer's duties (Art. 26(5) serious incidents, Art. 27 impact assessment
for the listed deployers), citations that name the point, and the catalog's articles that
every obligation names."""

from __future__ import annotations

import datetime as dt

from custos.catalog.ai_act import Answers, Scoping, scope
from custos.catalog.catalog import Catalog
from custos.inventory.schema import EuAiAct
from custos.inventory.tier import system_tier


def cited(s: Scoping, role: str | None = None) -> set[str]:
    return {o.citation for o in s.obligations if role is None or o.role == role}


def test_a_high_risk_chatbot_carries_both_regimes() -> None:
    s = scope(Answers("provider", annex_iii=("4(a)",), transparency=("interacts-with-people",)))
    assert s.regimes == ("high-risk-annex-iii", "transparency", "baseline")
    assert s.tier == "high"
    assert {"Art. 9", "Art. 15", "Art. 50(1)", "Art. 49(1)", "Art. 4"} <= cited(s)
    assert any("Annex III point 4(a)" in r for r in s.reasons)
    assert s.act_tiers() == {"high-risk", "limited-risk", "all"}
    assert s.requirement_tiers() == ("high", "limited", "minimal")


def test_prohibited_overrides_everything_else() -> None:
    s = scope(Answers("deployer", prohibited_practices=("social-scoring",),
                      annex_iii=("employment",), gpai=True))  # fmt: skip
    assert (s.regimes, s.tier) == (("prohibited",), "prohibited")
    assert cited(s) == {"Art. 5(1)"}


def test_gpai_with_systemic_risk_is_under_53_and_55() -> None:
    s = scope(Answers("provider", gpai_systemic=True))
    assert s.regimes == ("gpai", "gpai-systemic", "baseline")
    assert s.tier == "gpai-systemic"
    assert {"Art. 53(1)(a)", "Art. 53(1)(d)", "Art. 55(1)(a)", "Art. 55(1)(c)"} <= cited(s)
    plain = scope(Answers("provider", gpai=True))
    assert not {c for c in cited(plain) if c.startswith("Art. 55")}


def test_a_system_embedding_a_gpai_model_keeps_both_duties() -> None:
    s = scope(Answers("provider", gpai=True, transparency=("synthetic-content",),
                      annex_iii=("3(b)",)))  # fmt: skip
    assert {"high-risk-annex-iii", "gpai", "transparency"} <= set(s.regimes)
    assert {"Art. 53(1)(b)", "Art. 50(2)", "Art. 14"} <= cited(s)


def test_the_art_6_3_exception_and_its_profiling_carve_out() -> None:
    excepted = scope(Answers("provider", annex_iii=("employment",), annex_iii_exception=True))
    assert excepted.tier == "minimal"
    assert any("Art. 6(4)" in r for r in excepted.reasons)
    profiling = scope(Answers("provider", annex_iii=("employment",), annex_iii_exception=True,
                              profiling=True))  # fmt: skip
    assert profiling.tier == "high"
    assert any("last subparagraph" in r for r in profiling.reasons)


def test_annex_i_products_are_high_risk_from_august_2027() -> None:
    s = scope(Answers("provider", annex_i_product=True))
    dates = {o.applies_from for o in s.obligations if o.regime == "high-risk-annex-i"}
    assert dates == {dt.date(2027, 8, 2)}
    annex_iii = scope(Answers("provider", annex_iii=("1",)))
    assert {o.applies_from for o in annex_iii.obligations
            if o.regime == "high-risk-annex-iii"} == {dt.date(2026, 8, 2)}  # fmt: skip
    maker = scope(Answers("product-manufacturer", annex_i_product=True))
    assert maker.roles == ("product-manufacturer", "provider")
    assert "Art. 9" in cited(maker, "provider")


def test_a_deployer_of_credit_scoring() -> None:
    s = scope(Answers("deployer", annex_iii=("5(b)",)))
    deployer = cited(s, "deployer")
    assert {"Art. 26(1)", "Art. 26(5)", "Art. 26(6)", "Art. 26(11)", "Art. 27(1)",
            "Art. 86"} <= deployer  # fmt: skip
    assert "Art. 9" not in cited(s)  # the provider's duties are not the deployer's
    incident = next(o for o in s.obligations if o.citation == "Art. 26(5)")
    assert "Art. 73" in incident.duty
    # an employment system's private deployer has no impact assessment to do; a public one has
    private = scope(Answers("deployer", annex_iii=("4(a)",)))
    assert "Art. 27(1)" not in cited(private)
    public = scope(Answers("deployer", annex_iii=("4(a)",), public_service=True))
    assert "Art. 27(1)" in cited(public)


def test_importers_distributors_and_representatives() -> None:
    assert cited(scope(Answers("importer", annex_iii=("2",)))) == {"Art. 23"}
    assert cited(scope(Answers("distributor", annex_iii=("2",)))) == {"Art. 24"}
    assert cited(scope(Answers("authorised-representative", annex_iii=("2",)))) == {"Art. 22"}


def test_art_25_makes_the_deployer_a_provider() -> None:
    modified = scope(Answers("deployer", annex_iii=("5(b)",), substantial_modification=True))
    assert modified.roles == ("deployer", "provider")
    assert any("Art. 25(1)(b)" in r for r in modified.reasons)
    assert {"Art. 9", "Art. 43", "Art. 26(5)"} <= cited(modified)
    # Art. 25 is about high-risk systems: a minimal-risk system stays the deployer's
    assert scope(Answers("deployer", own_name_or_trademark=True)).roles == ("deployer",)


def test_every_obligation_names_an_article_in_the_catalog(shipped: Catalog) -> None:
    cases = [
        Answers("provider", annex_i_product=True, annex_iii=("5(b)",), gpai_systemic=True,
                transparency=("interacts-with-people", "synthetic-content", "deepfake",
                              "emotion-recognition")),
        Answers("deployer", annex_iii=("5(c)",), public_service=True,
                transparency=("deepfake",)),
        Answers("importer", annex_iii=("1",)), Answers("distributor", annex_iii=("1",)),
        Answers("authorised-representative", annex_iii=("1",)),
        Answers("provider", prohibited_practices=("social-scoring",)),
    ]  # fmt: skip
    for answers in cases:
        for o in scope(answers).obligations:
            assert shipped.control(o.article).framework == "eu-ai-act", o


def test_a_declared_tier_stands_for_its_regimes() -> None:
    high = system_tier(EuAiAct(role="deployer", tier="high"))
    assert high.scoping.regimes == ("high-risk-annex-iii", "baseline")
    assert "Art. 26(5)" in cited(high.scoping)
    assert "Art. 27(1)" not in cited(high.scoping)  # depends on the point: not assumed
    systemic = system_tier(EuAiAct(role="provider", tier="gpai-systemic"))
    assert "Art. 55(1)(b)" in cited(systemic.scoping)


def test_the_catalog_dates_art_6_by_point_and_gives_deployers_art_73(shipped: Catalog) -> None:
    from custos.catalog.ai_act import ANNEX_I_DATE, GENERAL

    art6 = shipped.control("euaiact:art6").attributes["point-dates"]
    assert set(art6) == {f"6(1): {ANNEX_I_DATE.isoformat()}", f"6(2): {GENERAL.isoformat()}"}
    assert "deployer" in shipped.control("euaiact:art73").attributes["addressee"]

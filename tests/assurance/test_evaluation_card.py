"""The model card against the measurements (custos.assurance.evaluation_card): a card that
names the wrong decisive features is flagged, a correct one is not; the ways a card names
features (lists, code spans, tables, prose; heading synonyms); completeness with owners; the
Markdown snippet."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.assurance.evaluation import Explanation, Group, Importance, Measured, Policy, Subgroups
from custos.assurance.evaluation_card import card_fields, review, snippet
from custos.assurance.evaluation_report import evaluate
from custos.assurance.model_cards import SECTIONS
from tests.assurance.test_evaluation_planted import CARD, card, classifier, planted, write_csv

FIELDS = card_fields(SECTIONS)
MEASURED = Explanation(
    "accuracy", 5, 1000, 0,
    (
        Importance("signal", 0.30, 0.01, 0.75),
        Importance("account_age", 0.06, 0.01, 0.15),
        Importance("amount", 0.03, 0.01, 0.075),
        Importance("noise_a", 0.01, 0.01, 0.025),
        Importance("noise_b", 0.0, 0.002, 0.0),
        Importance("noise_c", -0.001, 0.002, 0.0),
    ),
)  # fmt: skip


def findings(decisive: str, heading: str = "Decisive features") -> list[str]:
    text = CARD.replace("## Decisive features", f"## {heading}").format(features=decisive)
    return [f.rule for f in review(text, FIELDS, MEASURED, "model.md", "0" * 64).findings]


def test_the_right_features_pass_and_the_wrong_ones_are_flagged() -> None:
    assert findings("- `signal`: the transaction pattern\n- account_age\n") == []
    wrong = findings("- noise_b\n- noise_c\n")
    assert wrong.count("evaluation/card-feature-not-decisive") == 2
    assert "evaluation/card-feature-undocumented" in wrong  # signal, 75% of the importance


def test_a_large_measured_feature_left_out_is_flagged() -> None:
    assert findings("- account_age\n") == ["evaluation/card-feature-undocumented"]
    assert findings("- signal\n") == []  # account_age is 15%: under the large share


def test_a_feature_the_model_does_not_have() -> None:
    text = CARD.format(features="- signal\n- zip code\n")
    (found,) = review(text, FIELDS, MEASURED, "model.md", "0" * 64).findings
    assert found.rule == "evaluation/card-feature-not-decisive"
    assert "'zip code'" in found.message
    assert "not one of the model's features" in found.message
    assert found.severity.name == "medium"
    assert "custos:ai:explainability" in found.controls


@pytest.mark.parametrize(
    ("heading", "body"),
    [
        ("Key features", "1. **signal** - how the pattern looks\n2. Account age (days)\n"),
        ("Feature importance", "| Feature | Why |\n| --- | --- |\n| signal | x |\n"
                               "| account-age | y |\n"),
        ("Important features", "The model leans on signal and on account_age.\n"),
        ("Most important features", "* `signal`\n* Account_Age: older accounts\n"),
    ],
)  # fmt: skip
def test_the_ways_a_card_names_features(heading: str, body: str) -> None:
    text = CARD.replace("## Decisive features", f"## {heading}").format(features=body)
    reviewed = review(text, FIELDS, MEASURED, "model.md", "0" * 64)
    assert reviewed.heading == heading
    assert set(reviewed.documented) == {"signal", "account_age"}
    assert reviewed.findings == ()


def test_k_grows_with_the_documented_count() -> None:
    body = "- signal\n- account_age\n- amount\n- noise_a\n- noise_b\n- noise_c\n"
    reviewed = review(CARD.format(features=body), FIELDS, MEASURED, "model.md", "0" * 64)
    assert reviewed.k == 6
    # noise_b and noise_c are in the top 6 but change nothing when permuted: not decisive
    flagged = {f.message.split("'")[1] for f in reviewed.findings}
    assert flagged == {"noise_b", "noise_c"}


def test_the_section_ends_at_the_next_heading_and_fences_do_not_count() -> None:
    text = CARD.format(features="- signal\n\n## Appendix\n- noise_b\n```\n# Owners\n```\n")
    text = text.replace("## Owners\nML Platform team.\n", "")
    reviewed = review(text, FIELDS, MEASURED, "model.md", "0" * 64)
    assert reviewed.documented == ("signal",)
    assert reviewed.missing == ("owners",)


def test_completeness_and_no_decisive_section() -> None:
    reviewed = review("# Model\n## Uses\n## Owner\n", FIELDS, MEASURED, "card.md", "0" * 64)
    assert reviewed.missing == ("limitations", "training data", "evaluation",
                                "ethical considerations")  # fmt: skip
    assert {f.rule for f in reviewed.findings} == {"evaluation/card-missing-field"}
    assert reviewed.heading is None
    assert reviewed.to_json()["documented_features"] is None
    assert list(FIELDS)[-1] == "owners"
    assert set(SECTIONS) < set(FIELDS)


def test_the_snippet_has_the_measured_figures() -> None:
    groups = (Group("north", 500, 0.97, True), Group("sou|th", 10, 0.7, False))
    region = Subgroups("region", "accuracy", groups, None, False)
    measured = Measured("classification", 510, {"accuracy": 0.91, "f1": 0.9, "auc": None},
                        ("auc: the model gives no probabilities",), ("0", "1"), (region,),
                        MEASURED)  # fmt: skip
    text = snippet(measured, Policy({"accuracy": 0.9}, max_gap=0.05), ("m.joblib", "a" * 64),
                   ("holdout.csv", "b" * 64), {"scikit-learn": "1.9"})  # fmt: skip
    assert "| Accuracy | 0.9100 | >= 0.9000 |" in text
    assert "| ROC AUC | n/a |  |" in text
    assert "| sou\\|th | 10 | 0.7000 (not judged) |" in text
    assert "fairness gap not judged (allowed 0.0500)" in text
    assert "| signal | 75.0% | 0.3000 |" in text
    assert "noise_b" not in text  # no share
    assert "`holdout.csv` (510 rows, sha256 `bbbbbbbbbbbbbbbb`)" in text


def test_a_real_model_against_right_and_wrong_cards(tmp_path: Path) -> None:
    model = classifier(tmp_path / "model.joblib")
    data = write_csv(tmp_path / "holdout.csv", planted(1500, 2))

    def rules(decisive: str) -> list[str]:
        found = card(tmp_path / "model.md", decisive)
        report = evaluate(model, data, "y", trusted=True, subgroups=["region"],
                          policy=Policy(), card=found, expected_card="model.md",
                          fields=FIELDS)  # fmt: skip
        return [f.rule for f in report.findings]

    assert rules("- `signal`: the transaction pattern\n- `weak`\n") == []
    wrong = rules("- noise_a\n- noise_b\n")
    assert wrong.count("evaluation/card-feature-not-decisive") == 2
    assert wrong.count("evaluation/card-feature-undocumented") == 1

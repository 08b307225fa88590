"""Model card Markdown -> the facts of a CycloneDX modelCard (pure; no cyclonedx needed)."""

from __future__ import annotations

from custos.bom.card import CardFacts, Metric, mentions, model_card_json, read_card


def test_sections_by_heading_synonyms_with_sub_headings_and_code() -> None:
    facts = read_card(
        "# Model\n\n"
        "## Uses\n\nFirst paragraph\nwrapped.\n\nSecond paragraph.\n\n"
        "### Users\n\n1. Analysts\n2) Auditors\n\n"
        "## Known limitations\n\n- one\n  continued\n- two\n\n---\n\n"
        "```text\n## Ethics\n- hidden\n```\n\n"
        "## Bias\n\n+ uneven burden\n"
    )
    assert facts.use_cases == ("First paragraph wrapped.", "Second paragraph.", "Analysts",
                               "Auditors")  # fmt: skip
    assert facts.limitations == ("one continued", "two")
    assert facts.ethical == ("uneven burden",)
    assert facts.task is None


def test_metrics_need_metric_and_value_columns() -> None:
    facts = read_card(
        "## Performance\n\n"
        "| split | size |\n|---|---|\n| test | 100 |\n\n"
        "| **Metric** | Score |\n|:--|--:|\n| F1 | 0.8 |\n| empty | |\n"
    )
    assert facts.metrics == (Metric("F1", "0.8"),)


def test_front_matter() -> None:
    facts = read_card("---\ntask: regression\ndatasets: [sales-2026]\n---\n## Intended use\n\nX\n")
    assert (facts.task, facts.datasets, facts.use_cases) == ("regression", ("sales-2026",), ("X",))
    broken = read_card("---\n: [unclosed\n---\n## Intended use\n\nY\n")
    assert broken.use_cases == ("Y",)
    assert broken.task is None
    assert read_card("---\npipeline_tag: true\n---\n").task is None  # not a task name


def test_mentions_are_whole_tokens() -> None:
    text = "Trained on `data/x.csv`, x.csv. Not on my-y.csv or z.csv.gz."
    assert mentions(text, "data/x.csv")
    assert mentions(text, "x.csv")
    assert not mentions(text, "y.csv")
    assert not mentions(text, "z.csv")
    assert not mentions(text, "")


def test_model_card_json_only_what_is_known() -> None:
    assert model_card_json(None) is None
    assert model_card_json(CardFacts()) is None
    assert model_card_json(None, ["asset:d"]) == {
        "modelParameters": {"datasets": [{"ref": "asset:d"}]}
    }
    card = model_card_json(CardFacts(ethical=("e",), metrics=(Metric("AUC", "0.9", "all"),)))
    assert card == {
        "quantitativeAnalysis": {
            "performanceMetrics": [{"type": "AUC", "value": "0.9", "slice": "all"}]
        },
        "considerations": {"ethicalConsiderations": [{"name": "e"}]},
    }

"""`--format json` is exactly the documented schema, pretty-printed."""

from __future__ import annotations

import json

from custos.assess.model import AssessmentReport
from custos.reports.json_report import JsonRenderer
from custos.reports.json_schema import SCHEMA, report_to_dict


def test_json_is_report_to_dict(report: AssessmentReport) -> None:
    data = json.loads(JsonRenderer().render(report))
    assert data == json.loads(json.dumps(report_to_dict(report)))
    assert data["schema"] == SCHEMA
    assert [s["id"] for s in data["systems"]] == ["fraud-scoring", "support-chatbot"]
    assert len(data["controls"]) == len(report.statuses)
    inferred = {c["id"] for c in data["controls"] if c["inferred"]}
    assert inferred == {"iso42001:2023:A.6.2.8", "euaiact:art15", "nistairmf:MEASURE-2.7"}


def test_json_is_pretty_and_keeps_unicode(report: AssessmentReport) -> None:
    text = JsonRenderer().render(report).decode("utf-8")
    assert text.startswith('{\n  "schema"')
    assert text.endswith("}\n")
    assert "Acme Payments <Ltd>" in text

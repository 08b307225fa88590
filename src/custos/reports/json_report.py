"""`--format json`: the documented assessment schema (see `json_schema.py`), pretty-printed."""

from __future__ import annotations

import json

from custos.assess.model import AssessmentReport
from custos.reports.json_schema import report_to_dict
from custos.reports.renderer import Renderer


class JsonRenderer(Renderer):
    media_type = "application/json"
    suffix = ".json"

    def render(self, report: AssessmentReport) -> bytes:
        text = json.dumps(report_to_dict(report), indent=2, ensure_ascii=False)
        return (text + "\n").encode("utf-8")

"""`--format junit`: one test suite per AI system, one test case per applicable control.

CI systems already know how to show JUnit XML, so a failing control shows up next to failing
tests. Only statuses shown directly or rolled up from AI requirements become test cases:
inferred (mapping) statuses are not a measurement and would double-count the same evidence.
- implemented: the test passes;
- not_implemented: `<failure type="not_implemented">`;
- partial: `<failure type="partial">`;
- unknown: `<failure type="unknown" message="no current evidence">`; unknown is not a pass;
- not_applicable: no test case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # we only build XML here, never parse input

from custos.assess.model import AssessmentReport, ControlStatus
from custos.reports.renderer import Renderer

_MESSAGES = {
    "not_implemented": "not implemented",
    "partial": "partially implemented",
    "unknown": "no current evidence",
}


def _testcase(status: ControlStatus) -> ET.Element:
    case = ET.Element("testcase", name=status.control, classname=status.system, time="0")
    reasons = "\n".join(f"- [{r.kind}] {r.text}" for r in status.reasons)
    if status.status in _MESSAGES:
        failure = ET.SubElement(
            case,
            "failure",
            message=f"{status.control} ({status.title}): {_MESSAGES[status.status]}"
            if status.status != "unknown"
            else _MESSAGES["unknown"],
            type=status.status,
        )
        failure.text = reasons
    elif reasons:
        ET.SubElement(case, "system-out").text = reasons
    return case


def build_junit(report: AssessmentReport) -> ET.Element:
    stamp = report.generated_at.replace(microsecond=0).isoformat()
    root = ET.Element("testsuites", name=f"custos: {report.organisation}")
    total = failed = 0
    for system in report.systems:
        cases = [
            _testcase(s)
            for s in report.statuses
            if s.system == system.id and s.basis != "mapping" and s.status != "not_applicable"
        ]
        failures = sum(1 for c in cases if c.find("failure") is not None)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=system.id,
            tests=str(len(cases)),
            failures=str(failures),
            errors="0",
            skipped="0",
            time="0",
            timestamp=stamp,
        )
        props = ET.SubElement(suite, "properties")
        for key, value in (
            ("name", system.name),
            ("tier", system.tier),
            ("role", system.role),
            ("score", f"{system.score:.1f}"),
        ):
            ET.SubElement(props, "property", name=key, value=value)
        suite.extend(cases)
        total += len(cases)
        failed += failures
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", "0")
    return root


class JunitRenderer(Renderer):
    media_type = "application/xml"
    suffix = ".xml"

    def render(self, report: AssessmentReport) -> bytes:
        root = build_junit(report)
        ET.indent(root)
        data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return data + b"\n"

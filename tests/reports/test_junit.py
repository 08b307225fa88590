"""`--format junit`: one suite per system, one case per applicable direct/rollup control."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from custos.assess.model import AssessmentReport
from custos.reports.junit import JunitRenderer
from tests.reports.conftest import CONTROLS, S1, S2


@pytest.fixture
def root(report: AssessmentReport) -> ET.Element:
    return ET.fromstring(JunitRenderer().render(report))  # noqa: S314  # our own output


def _suite(root: ET.Element, name: str) -> ET.Element:
    found = root.find(f"testsuite[@name='{name}']")
    assert found is not None
    return found


def test_one_suite_per_system(root: ET.Element) -> None:
    assert root.tag == "testsuites"
    assert [s.get("name") for s in root.findall("testsuite")] == [S1, S2]
    assert root.get("tests") == "16"
    assert root.get("failures") == "11"


@pytest.mark.parametrize(("system", "column"), [(S1, 3), (S2, 4)])
def test_cases_are_applicable_direct_and_rollup_controls(
    root: ET.Element, system: str, column: int
) -> None:
    expected = [
        control
        for control, row in CONTROLS.items()
        if row[2] != "mapping" and row[column] != "not_applicable"
    ]
    suite = _suite(root, system)
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == expected
    assert {c.get("classname") for c in cases} == {system}
    failing = [c for c in cases if c.find("failure") is not None]
    assert suite.get("tests") == str(len(expected))
    assert suite.get("failures") == str(len(failing))


def test_failure_types_and_messages(root: ET.Element) -> None:
    def failure(system: str, control: str) -> ET.Element | None:
        case = _suite(root, system).find(f"testcase[@name='{control}']")
        assert case is not None
        return case.find("failure")

    assert failure(S1, "custos:ai:model-signing") is None  # implemented passes
    partial = failure(S1, "custos:ai:asset-ownership")
    assert partial is not None
    assert partial.get("type") == "partial"
    unknown = failure(S1, "custos:ai:dataset-pii")
    assert unknown is not None
    assert unknown.get("message") == "no current evidence"
    missing = failure(S1, "custos:ai:access-logging")
    assert missing is not None
    assert missing.get("type") == "not_implemented"
    assert "access log lacks caller identity" in (missing.text or "")


def test_inferred_and_not_applicable_are_not_test_cases(root: ET.Element) -> None:
    names = {c.get("name") for c in root.iter("testcase")}
    assert "iso42001:2023:A.6.2.8" not in names
    assert "euaiact:art15" not in names
    assert "iso27002:2022:7.1" not in names  # excluded on both systems
    s2 = {c.get("name") for c in _suite(root, S2).findall("testcase")}
    assert "custos:ai:dataset-pii" not in s2  # not applicable on the chatbot only

"""Each status rule, one by one (custos.assess.status)."""

from __future__ import annotations

import datetime as dt

import pytest

from custos.assess.evidence import Judged, judge_evidence
from custos.assess.model import Status
from custos.assess.status import Inputs, combine, derive_status, worst
from custos.catalog.catalog import Catalog
from custos.checks.model import Evidence, Examined, Result
from custos.inventory.attestations import Judgement
from custos.inventory.schema import Attestation, Exclusion

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


def ev(check: str, result: Result, *, valid: bool = True) -> Judged:
    e = Evidence(
        check=check, check_version=1, system="s", asset="m", result=result, summary=result,
        controls=(), collected_at=NOW, expires_at=NOW + dt.timedelta(days=1),
    )  # fmt: skip
    return Judged(e, valid, None if valid else "expired")


def att(valid: bool) -> tuple[Attestation, Judgement]:
    a = Attestation(
        id="A1", control="custos:ai:model-signing", statement="We sign.", author="alice",
        date=dt.date(2026, 1, 1),
    )  # fmt: skip
    return a, Judgement(valid, "ok" if valid else "expired", ())


def run(
    shipped: Catalog,
    *,
    expected: set[str] = frozenset(),  # type: ignore[assignment]
    evidence: list[Judged] | None = None,
    attestations: list[tuple[Attestation, Judgement]] | None = None,
    applicable: bool = True,
    exclusion: Exclusion | None = None,
) -> Status:
    inputs = Inputs(
        system="s",
        control=shipped.control("custos:ai:model-signing"),
        applicable=applicable,
        applicability_reason="required by default",
        expected_checks=frozenset(expected),
        evidence=evidence or [],
        attestations=attestations or [],
        exclusion=exclusion,
    )
    return derive_status(inputs).status


def test_exclusion_wins(shipped: Catalog) -> None:
    exclusion = Exclusion(control="custos:ai:model-signing", justification="no models deployed")
    assert run(shipped, expected={"a"}, evidence=[ev("a", "fail")], exclusion=exclusion) == (
        "not_applicable"
    )


def test_not_applicable_by_default(shipped: Catalog) -> None:
    assert run(shipped, applicable=False, evidence=[ev("a", "pass")]) == "not_applicable"


@pytest.mark.parametrize(
    ("expected", "evidence", "attestations", "status"),
    [
        ({"a"}, [("a", "fail")], [], "not_implemented"),
        ({"a", "b"}, [("a", "fail"), ("b", "pass")], [], "partial"),
        ({"a"}, [("a", "fail")], [True], "partial"),
        ({"a"}, [("a", "pass")], [], "implemented"),
        ({"a", "b"}, [("a", "pass"), ("b", "pass")], [], "implemented"),
        ({"a", "b"}, [("a", "pass")], [], "partial"),
        (set(), [], [True], "implemented"),
        ({"a"}, [], [True], "partial"),
        (set(), [], [False], "unknown"),
        ({"a"}, [], [], "unknown"),
        (set(), [], [], "unknown"),
    ],
)
def test_rules(
    shipped: Catalog,
    expected: set[str],
    evidence: list[tuple[str, Result]],
    attestations: list[bool],
    status: Status,
) -> None:
    judged = [ev(c, r) for c, r in evidence]
    atts = [att(v) for v in attestations]
    assert run(shipped, expected=expected, evidence=judged, attestations=atts) == status


def test_a_check_with_nothing_to_judge_is_not_expected(shipped: Catalog) -> None:
    """All of a check's evidence not_applicable (no gateway config, no retired asset): the
    control rests on the other checks and attestations. Any pass or fail of that check, or an
    error, keeps it expected."""
    idle = [ev("gw", "not_applicable"), ev("gw", "not_applicable")]
    assert run(shipped, expected={"gw"}, evidence=idle, attestations=[att(True)]) == ("implemented")
    assert run(shipped, expected={"gw", "a"}, evidence=[*idle, ev("a", "pass")]) == "implemented"
    assert run(shipped, expected={"gw"}, evidence=idle) == "unknown"
    mixed = [*idle, ev("gw", "fail")]
    assert run(shipped, expected={"gw"}, evidence=mixed, attestations=[att(True)]) == "partial"
    errored = [ev("gw", "error")]
    assert run(shipped, expected={"gw"}, evidence=errored, attestations=[att(True)]) == "partial"
    stale = [ev("gw", "not_applicable", valid=False)]
    assert run(shipped, expected={"gw"}, evidence=stale, attestations=[att(True)]) == "partial"


def test_an_error_is_never_a_pass(shipped: Catalog) -> None:
    assert run(shipped, expected={"a"}, evidence=[ev("a", "error")]) == "unknown"
    assert run(shipped, expected={"a"}, evidence=[ev("a", "error")], attestations=[att(True)]) == (
        "partial"
    )


def test_stale_evidence_does_not_count_but_is_listed(shipped: Catalog) -> None:
    inputs = Inputs(
        system="s", control=shipped.control("custos:ai:model-signing"), applicable=True,
        applicability_reason="r", expected_checks=frozenset({"a"}),
        evidence=[ev("a", "pass", valid=False)], attestations=[], exclusion=None,
    )  # fmt: skip
    result = derive_status(inputs)
    assert result.status == "unknown"
    assert any("not counted (expired)" in r.text for r in result.reasons)
    assert any(r.kind == "missing" and r.ref == "a" for r in result.reasons)


def test_evidence_expires_when_the_artifact_changes() -> None:
    e = Evidence(
        check="model-file", check_version=1, system="s", asset="m", result="pass", summary="ok",
        controls=(), collected_at=NOW, expires_at=NOW + dt.timedelta(days=90),
        examined=(Examined("models/m.pkl", "a" * 64, 10),),
    )  # fmt: skip
    assert judge_evidence(e, NOW, {"models/m.pkl": "a" * 64}).valid
    changed = judge_evidence(e, NOW, {"models/m.pkl": "b" * 64})
    assert not changed.valid
    assert "changed since it was checked" in (changed.why_not or "")
    gone = judge_evidence(e, NOW, {"models/m.pkl": None})
    assert not gone.valid
    assert "no longer exists" in (gone.why_not or "")
    expired = judge_evidence(e, NOW + dt.timedelta(days=91), {"models/m.pkl": "a" * 64})
    assert not expired.valid
    assert "expired" in (expired.why_not or "")


@pytest.mark.parametrize(
    ("parts", "combined", "weakest"),
    [
        (["implemented", "implemented"], "implemented", "implemented"),
        (["implemented", "not_implemented"], "partial", "not_implemented"),
        (["partial", "unknown"], "partial", "unknown"),
        (["not_implemented", "unknown"], "not_implemented", "not_implemented"),
        (["unknown"], "unknown", "unknown"),
        (["not_applicable", "implemented"], "implemented", "implemented"),
        (["not_applicable"], "not_applicable", "not_applicable"),
    ],
)
def test_combine_and_worst(parts: list[Status], combined: Status, weakest: Status) -> None:
    assert combine(parts) == combined
    assert worst(p for p in parts if p != "not_applicable" or len(parts) == 1) == weakest

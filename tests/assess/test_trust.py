"""Claimed evidence never counts as a pass (custos.assess.trust), through to control status."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from custos.assess.evidence import judge_evidence, latest
from custos.assess.status import Inputs, derive_status
from custos.assess.trust import distrust
from custos.catalog.catalog import Catalog
from custos.checks.model import Evidence, Result
from custos.provenance import LOCAL, Provenance

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
CLAIMED = Provenance("claimed", reason="no-key", message="no ledger key is registered")
VERIFIED = Provenance("verified", key_id=1, key_name="ci+abcd0123", origin="ci", size=3)


def ev(result: Result, provenance: Provenance = LOCAL) -> Evidence:
    return Evidence(
        check="a", check_version=1, system="s", asset="m", result=result, summary=result,
        controls=(), collected_at=NOW, expires_at=None, provenance=provenance,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("result", "provenance", "counts"),
    [
        ("pass", LOCAL, True),
        ("pass", VERIFIED, True),
        ("pass", CLAIMED, False),
        ("not_applicable", CLAIMED, False),
        ("error", CLAIMED, False),
        ("fail", CLAIMED, True),  # a claimed failure is no less trustworthy
        ("fail", VERIFIED, True),
    ],
)
def test_only_a_claimed_result_other_than_fail_is_distrusted(
    result: Result, provenance: Provenance, counts: bool
) -> None:
    assert (distrust(ev(result, provenance)) is None) is counts
    assert judge_evidence(ev(result, provenance), NOW, {}).valid is counts


def test_the_reason_names_the_claim() -> None:
    judged = judge_evidence(ev("pass", CLAIMED), NOW, {})
    assert judged.why_not == "claimed by an unverified push (no-key: no ledger key is registered)"


def _status(shipped: Catalog, *evidence: Evidence) -> str:
    inputs = Inputs(
        system="s", control=shipped.control("custos:ai:model-signing"), applicable=True,
        applicability_reason="required by default", expected_checks=frozenset({"a"}),
        evidence=[judge_evidence(e, NOW, {}) for e in evidence], attestations=[], exclusion=None,
    )  # fmt: skip
    return derive_status(inputs).status


def test_a_claimed_pass_never_implements_a_control(shipped: Catalog) -> None:
    assert _status(shipped, ev("pass")) == "implemented"
    assert _status(shipped, ev("pass", VERIFIED)) == "implemented"
    assert _status(shipped, ev("pass", CLAIMED)) == "unknown"
    assert _status(shipped, ev("fail", CLAIMED)) == "not_implemented"


def test_provenance_survives_its_dict() -> None:
    assert Provenance.from_dict(CLAIMED.to_dict()) == CLAIMED
    assert Provenance.from_dict(VERIFIED.to_dict()) == VERIFIED
    assert Provenance.from_dict(None) is LOCAL
    assert LOCAL.to_dict() == {"kind": "local"}


def test_a_counted_claimed_failure_is_marked_in_its_reason(shipped: Catalog) -> None:
    inputs = Inputs(
        system="s", control=shipped.control("custos:ai:model-signing"), applicable=True,
        applicability_reason="required by default", expected_checks=frozenset({"a"}),
        evidence=[judge_evidence(ev("fail", CLAIMED), NOW, {})], attestations=[], exclusion=None,
    )  # fmt: skip
    texts = [r.text for r in derive_status(inputs).reasons if r.kind == "evidence"]
    assert texts == ["a v1 on s/m: fail (fail) [claimed: no-key]"]


def test_a_claim_supersedes_nothing() -> None:
    later = NOW + dt.timedelta(hours=1)
    trusted_fail = ev("fail", VERIFIED)
    claimed_pass = dataclasses.replace(ev("pass", CLAIMED), collected_at=later)
    # The newer claimed pass is kept beside the failure it cannot replace.
    assert latest([trusted_fail, claimed_pass]) == [trusted_fail, claimed_pass]
    # A claim no newer than the trusted record adds nothing.
    assert latest([dataclasses.replace(claimed_pass, collected_at=NOW), trusted_fail]) == [
        trusted_fail
    ]
    # A newer trusted record, or a claimed failure, supersedes as always.
    newer_pass = dataclasses.replace(ev("pass"), collected_at=later)
    assert latest([trusted_fail, newer_pass]) == [newer_pass]
    claimed_fail = dataclasses.replace(ev("fail", CLAIMED), collected_at=later)
    assert latest([ev("pass", VERIFIED), claimed_fail]) == [claimed_fail]
    # With nothing trusted, the claim is the record shown (and counts as nothing).
    assert latest([claimed_pass]) == [claimed_pass]

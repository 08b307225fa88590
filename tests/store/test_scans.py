"""Scans: evidence round trips, the newest per target wins, and failed saves change nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from custos.checks.model import Evidence
from custos.store import Store, StoreError
from tests.store import samples
from tests.store.samples import T0


def _save(store: Store, evidence: list[Any], at: dt.datetime = T0) -> int:
    return store.save_scan(
        evidence,
        started_at=at,
        finished_at=at + dt.timedelta(seconds=3),
        manifest_path="/srv/fraud/custos.yaml",
        manifest_sha256=samples.SHA,
    )


def test_evidence_round_trips_exactly(store: Store) -> None:
    saved = [
        samples.evidence(),
        samples.evidence("risk-review", "fraud-scoring", None),
        samples.passing("asset-ownership", "chargeback-bot", "tickets", T0),
    ]
    _save(store, saved)

    loaded = store.latest_evidence()

    assert loaded == sorted(saved, key=lambda e: (e.system, e.check, e.asset or ""))
    card = next(e for e in loaded if e.check == "model-card")
    assert [f.message for f in card.findings] == [
        "no 'limitations' section",
        "no 'ethical considerations' section",
    ]
    assert card.collected_at.tzinfo is not None
    assert card.collected_at.utcoffset() == dt.timedelta(0)
    assert card.examined[1].sha256 is None


def test_times_in_other_zones_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    cest = dt.timezone(dt.timedelta(hours=2))
    local = dt.datetime(2026, 6, 1, 14, 30, 15, 123456, tzinfo=cest)
    _save(store, [samples.evidence(at=local)])

    (loaded,) = store.latest_evidence()

    assert loaded.collected_at == local
    assert loaded.collected_at.tzinfo == dt.UTC
    assert loaded.collected_at.hour == 12
    assert loaded.collected_at.microsecond == 123456


def test_latest_evidence_takes_the_newest_per_target_across_scans(store: Store) -> None:
    day = dt.timedelta(days=1)
    old_card = samples.evidence(at=T0)
    old_review = samples.evidence("risk-review", asset=None, at=T0)
    _save(store, [old_card, old_review], at=T0)
    new_card = samples.passing("model-card", "fraud-scoring", "scorer-model", T0 + day)
    other_asset = samples.evidence(asset="training-data", at=T0 + day)
    _save(store, [new_card, other_asset], at=T0 + day)
    # A late-arriving scan of older evidence must not displace newer evidence.
    stale = samples.evidence(at=T0 - day, summary="stale")
    _save(store, [stale], at=T0 + 2 * day)

    latest = {e.key: e for e in store.latest_evidence()}

    assert latest == {
        new_card.key: new_card,
        old_review.key: old_review,
        other_asset.key: other_asset,
    }


def test_equal_times_the_later_saved_record_wins(store: Store) -> None:
    first = samples.evidence(summary="first")
    second = samples.evidence(summary="second")
    _save(store, [first])
    _save(store, [second])
    assert [e.summary for e in store.latest_evidence()] == ["second"]


def test_latest_evidence_filters_by_system(store: Store) -> None:
    mine = samples.evidence(system="fraud-scoring")
    theirs = samples.evidence(system="chargeback-bot")
    _save(store, [mine, theirs])

    assert store.latest_evidence(["fraud-scoring"]) == [mine]
    assert store.latest_evidence({"chargeback-bot", "unknown"}) == [theirs]
    assert store.latest_evidence([]) == []
    assert len(store.latest_evidence(None)) == 2


def _broken_findings() -> Evidence:
    # Not a Finding: fails in the middle of building rows, after the run row was flushed.
    return dataclasses.replace(samples.evidence("broken"), findings=(object(),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        pytest.param(_broken_findings, AttributeError, id="bad-object"),
        pytest.param(
            lambda: samples.evidence("bogus", result="passed-ish"), StoreError, id="bad-result"
        ),
        pytest.param(
            lambda: samples.evidence("naive", at=dt.datetime(2026, 3, 2, 9, 0)),
            StoreError,
            id="naive-time",
        ),
    ],
)
def test_a_failed_save_leaves_the_previous_state_intact(
    store: Store, bad: Any, error: type[Exception]
) -> None:
    before = [samples.evidence()]
    first_run = _save(store, before)
    runs_before = store.runs()

    newer = samples.passing("model-card", "fraud-scoring", "scorer-model", T0 + dt.timedelta(1))
    with pytest.raises(error):
        _save(store, [newer, samples.evidence("risk-review"), bad()], at=T0 + dt.timedelta(1))

    assert store.latest_evidence() == before
    assert store.runs() == runs_before
    assert [r.id for r in runs_before] == [first_run]
    # The store is still usable after the rollback.
    _save(store, [newer], at=T0 + dt.timedelta(1))
    assert store.latest_evidence() == [newer]


def test_store_errors_do_not_quote_sql_or_values(store: Store) -> None:
    card_summary = "customer 4111-1111-1111-1111 flagged"
    with pytest.raises(StoreError) as caught:
        _save(store, [samples.evidence("bogus", result="nope", summary=card_summary)])
    message = str(caught.value)
    assert message.startswith(f"database error at {store.url}: ")
    assert message.endswith("; nothing was changed")
    assert "4111" not in message
    assert "INSERT" not in message.upper()


def test_runs_lists_scans_newest_first_with_counts(store: Store) -> None:
    first = _save(store, [samples.evidence()], at=T0)
    second = _save(
        store,
        [samples.evidence("a"), samples.evidence("b"), samples.evidence("c")],
        at=T0 + dt.timedelta(hours=1),
    )
    empty = _save(store, [], at=T0 + dt.timedelta(hours=2))

    runs = store.runs()

    assert [r.id for r in runs] == [empty, second, first]
    assert [r.evidence_count for r in runs] == [0, 3, 1]
    assert {r.kind for r in runs} == {"scan"}
    assert runs[1].started_at == T0 + dt.timedelta(hours=1)
    assert runs[1].finished_at == T0 + dt.timedelta(hours=1, seconds=3)
    assert runs[1].manifest_sha256 == samples.SHA
    assert runs[1].overall_score is None
    assert [r.id for r in store.runs(limit=2)] == [empty, second]

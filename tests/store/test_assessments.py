"""Assessments: the stored report, status rows for queries, trends, and atomic saves."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import create_engine, select

from custos.assess.model import ControlStatus
from custos.reports.json_schema import report_to_dict
from custos.store import Store, StoreError
from custos.store.models import ControlStatusRow
from custos.store.urls import parse_url
from tests.store import samples
from tests.store.samples import T0

HOUR = dt.timedelta(hours=1)


def _save(store: Store, report: object) -> int:
    return store.save_assessment(
        report,  # type: ignore[arg-type]
        manifest_path="/srv/fraud/custos.yaml",
        manifest_sha256=samples.SHA,
    )


def _status_rows(url: str) -> list[tuple[str, str, str, str, str]]:
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            query = select(
                ControlStatusRow.system,
                ControlStatusRow.control,
                ControlStatusRow.framework,
                ControlStatusRow.status,
                ControlStatusRow.basis,
            ).order_by(ControlStatusRow.id)
            return [(r[0], r[1], r[2], r[3], r[4]) for r in conn.execute(query)]
    finally:
        engine.dispose()


def test_no_assessment_yet(store: Store) -> None:
    assert store.latest_report() is None
    assert store.trend() == []


def test_report_is_kept_as_its_json_and_status_rows(store: Store, empty_url: str) -> None:
    report = samples.report()
    run_id = _save(store, report)

    stored = store.latest_report()
    assert stored == report_to_dict(report)
    assert stored is not None
    assert list(stored) == list(report_to_dict(report))  # key order survives (no JSONB)
    assert list(stored["systems"][0]) == list(report_to_dict(report)["systems"][0])
    assert _status_rows(empty_url) == [
        (s.system, s.control, s.framework, s.status, s.basis) for s in report.statuses
    ]
    (run,) = store.runs()
    assert (run.id, run.kind, run.overall_score, run.evidence_count) == (run_id, "assess", 62.5, 0)
    assert run.started_at == T0
    assert run.custos_version == "0.1.0"


def test_latest_report_is_the_newest_by_generation_time(store: Store) -> None:
    newer = samples.report(T0 + HOUR, {"fraud-scoring": 90.0})
    older = samples.report(T0, {"fraud-scoring": 10.0})
    _save(store, newer)
    _save(store, older)  # saved later, generated earlier

    latest = store.latest_report()

    assert latest is not None
    assert latest["overall_score"] == 90.0
    assert latest["generated_at"] == (T0 + HOUR).isoformat()


def test_trend_is_oldest_first_and_limited_to_the_last(store: Store) -> None:
    for hours, score in ((2, 80.0), (0, 40.0), (3, 90.0), (1, 60.0)):
        _save(store, samples.report(T0 + hours * HOUR, {"fraud-scoring": score, "bot": 20.0}))

    trend = store.trend()

    assert [p.at for p in trend] == [T0 + h * HOUR for h in range(4)]
    assert [p.score for p in trend] == [30.0, 40.0, 50.0, 55.0]
    assert list(trend[0].system_scores.items()) == [("fraud-scoring", 40.0), ("bot", 20.0)]
    assert [p.at for p in store.trend(limit=2)] == [T0 + 2 * HOUR, T0 + 3 * HOUR]


def test_scans_and_assessments_share_the_run_history(store: Store) -> None:
    scan = store.save_scan(
        [samples.evidence()],
        started_at=T0 - HOUR,
        finished_at=T0 - HOUR,
        manifest_path="custos.yaml",
        manifest_sha256=samples.SHA,
    )
    assess = _save(store, samples.report(T0))
    assert [(r.id, r.kind) for r in store.runs()] == [(assess, "assess"), (scan, "scan")]


def test_a_failed_assessment_save_keeps_nothing(store: Store, empty_url: str) -> None:
    good = samples.report(T0)
    _save(store, good)
    # NOT NULL violation in the last INSERT, after the run and report rows were written.
    broken_status = dataclasses.replace(good.statuses[0], system=None)  # type: ignore[arg-type]
    bad = dataclasses.replace(
        samples.report(T0 + HOUR, {"fraud-scoring": 99.0}),
        statuses=(*good.statuses, broken_status),
    )

    with pytest.raises(StoreError, match=r"nothing was changed$"):
        _save(store, bad)

    assert store.latest_report() == report_to_dict(good)
    assert [p.at for p in store.trend()] == [T0]
    assert len(store.runs()) == 1
    assert len(_status_rows(empty_url)) == len(good.statuses)


def test_a_report_that_cannot_be_serialised_writes_nothing(store: Store) -> None:
    bad = dataclasses.replace(
        samples.report(),
        statuses=(ControlStatus("s", "c", "f", "t", "implemented", reasons=(object(),)),),  # type: ignore[arg-type]
    )
    with pytest.raises(AttributeError):
        _save(store, bad)
    assert store.runs() == []

"""OSV records to Advisory: the hand-written real records (tests/intel/advisories), severity
from CVSS v3 vectors (the calculator against scores FIRST and NVD publish) or GitHub's label,
timestamps, names, and a clear ValueError for each kind of malformed record."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from custos.findings import Severity
from custos.intel.cvss import base_score, rating
from custos.intel.osv import UNRATED, Event, Range, parse, read
from custos.intel.versions import affected, first_fix_after, fixed_versions
from tests.intel.builders import ADVISORIES


def minimal(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": "OSV-TEST-1", "modified": "2024-01-02T03:04:05Z"}
    doc.update(extra)
    return doc


def pkg(**extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": "x"}}
    entry.update(extra)
    return entry


# --- CVSS v3 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 9.8),  # temporal ignored
    ],
)
def test_cvss_v3_base_scores(vector: str, score: float) -> None:
    assert base_score(vector) == score


@pytest.mark.parametrize(
    "vector",
    ["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # A missing
     "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
     "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"],
)  # fmt: skip
def test_cvss_rejects_what_is_not_a_v3_vector(vector: str) -> None:
    with pytest.raises(ValueError, match="CVSS"):
        base_score(vector)


def test_cvss_rating_scale() -> None:
    assert [rating(s) for s in (0.0, 0.1, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0)] == [
        Severity.info, Severity.low, Severity.low, Severity.medium, Severity.medium,
        Severity.high, Severity.high, Severity.critical, Severity.critical]  # fmt: skip


# --- the real records ----------------------------------------------------------------------


def test_torch_ghsa_record() -> None:
    adv = read(ADVISORIES / "GHSA-53q9-r3pm-6pq6.json")
    assert adv.id == "GHSA-53q9-r3pm-6pq6"
    assert adv.aliases == ("CVE-2025-32434",)
    assert adv.summary.startswith("PyTorch: `torch.load` with `weights_only=True`")
    # CVSS v4 is kept, not scored: GitHub's label decides
    assert adv.cvss_vector is not None
    assert adv.cvss_vector.startswith("CVSS:4.0/")
    assert adv.cvss_score is None
    assert (adv.severity_label, adv.severity, adv.rated) == ("CRITICAL", Severity.critical, True)
    assert adv.published == datetime(2025, 4, 18, 16, 3, 25, tzinfo=UTC)
    assert adv.modified.tzinfo is not None
    assert adv.withdrawn is None
    (entry,) = adv.affected
    assert (entry.ecosystem, entry.name, entry.versions) == ("PyPI", "torch", ())
    pair = (Event("introduced", "0"), Event("fixed", "2.6.0"))
    assert entry.ranges == (Range("ECOSYSTEM", pair),)
    assert adv.references[0].endswith("/GHSA-53q9-r3pm-6pq6")
    assert affected(adv, "PyPI", "torch", "2.5.1")
    assert affected(adv, "PyPI", "torch", "2.5.1+cu121")
    assert affected(adv, "PyPI", "torch", "2.6.0rc1")
    assert not affected(adv, "PyPI", "torch", "2.6.0")
    assert not affected(adv, "PyPI", "torch", "2.6.0+cpu")
    assert fixed_versions(adv, "PyPI", "torch") == ["2.6.0"]
    assert first_fix_after(adv, "PyPI", "torch", "2.5.1") == "2.6.0"


def test_torch_pysec_record_has_no_summary_nor_severity() -> None:
    adv = read(ADVISORIES / "PYSEC-2025-41.json")
    assert set(adv.aliases) == {"CVE-2025-32434", "GHSA-53q9-r3pm-6pq6"}
    assert adv.summary.startswith("PyTorch is a Python package")  # from details
    assert len(adv.summary) <= 200
    assert adv.summary.endswith("...")
    assert (adv.severity, adv.rated, adv.cvss_vector) == (UNRATED, False, None)
    assert adv.modified == datetime(2025, 5, 2, 9, 21, 40, 284617, tzinfo=UTC)
    assert "2.5.1" in adv.affected[0].versions
    assert affected(adv, "PyPI", "torch", "2.5.1")
    assert not affected(adv, "PyPI", "torch", "2.6.0")


def test_pyyaml_records() -> None:
    ghsa = read(ADVISORIES / "GHSA-8q59-q68h-6hv4.json")
    assert ghsa.affected[0].name == "pyyaml"  # "PyYAML" in the record, PEP 503 here
    assert (ghsa.cvss_score, ghsa.severity) == (9.8, Severity.critical)
    pysec = read(ADVISORIES / "PYSEC-2021-142.json")
    git, eco = pysec.affected[0].ranges
    assert (git.type, eco.type) == ("GIT", "ECOSYSTEM")
    for adv in (ghsa, pysec):
        assert affected(adv, "PyPI", "PyYAML", "5.3.1")
        assert affected(adv, "PyPI", "pyyaml", "5.4b2")  # a pre-release of the fix
        assert not affected(adv, "PyPI", "pyyaml", "5.4")
        assert not affected(adv, "PyPI", "pyyaml", "6.0.1")
        assert first_fix_after(adv, "PyPI", "pyyaml", "5.3.1") == "5.4"
    assert fixed_versions(pysec, "PyPI", "pyyaml") == ["5.4"]  # the GIT commit is no version


@pytest.mark.parametrize(
    ("file", "name", "bad", "good", "fix", "score", "severity"),
    [
        ("GHSA-3f63-hfp8-52jq.json", "pillow", "10.1.0", "10.2.0", "10.2.0", 8.1, Severity.high),
        ("GHSA-v68g-wm8c-6x7j.json", "transformers", "4.35.2", "4.36.0", "4.36.0", 7.8,
         Severity.high),
        ("GHSA-xg73-94fp-g449.json", "mlflow", "2.2.0", "2.2.1", "2.2.1", 9.8,
         Severity.critical),
        ("GHSA-h5c8-rqwp-cp95.json", "jinja2", "3.1.2", "3.1.3", "3.1.3", 5.4, Severity.medium),
        ("GHSA-h75v-3vvj-5mfj.json", "jinja2", "3.1.3", "3.1.4", "3.1.4", 5.4, Severity.medium),
    ],
)  # fmt: skip
def test_ml_stack_records(file: str, name: str, bad: str, good: str, fix: str, score: float,
                          severity: Severity) -> None:  # fmt: skip
    adv = read(ADVISORIES / file)
    assert adv.affected[0].name == name
    assert (adv.cvss_score, adv.severity) == (score, severity)
    assert affected(adv, "PyPI", name, bad)
    assert not affected(adv, "PyPI", name, good)
    assert first_fix_after(adv, "PyPI", name, bad) == fix


# --- severity choices ------------------------------------------------------------------------


def test_label_when_no_v3_vector() -> None:
    for label, severity in [("HIGH", Severity.high), ("MODERATE", Severity.medium),
                            ("LOW", Severity.low), ("CRITICAL", Severity.critical)]:  # fmt: skip
        adv = parse(minimal(database_specific={"severity": label}))
        assert (adv.severity, adv.severity_label) == (severity, label)
    adv = parse(minimal(database_specific={"severity": "weird"}))
    assert (adv.severity, adv.rated) == (UNRATED, False)


def test_v3_score_wins_over_label_and_highest_wins() -> None:
    adv = parse(minimal(
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"},
                  {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
        database_specific={"severity": "LOW"},
    ))  # fmt: skip
    assert (adv.cvss_score, adv.severity, adv.severity_label) == (7.5, Severity.high, "LOW")


def test_unscorable_v3_vector_falls_back_to_the_label() -> None:
    adv = parse(minimal(severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/garbage"}],
                        database_specific={"severity": "HIGH"}))  # fmt: skip
    assert (adv.cvss_score, adv.severity, adv.cvss_vector) == (None, Severity.high,
                                                              "CVSS:3.1/garbage")  # fmt: skip


def test_per_package_severity_when_top_level_has_none() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    entry = pkg(severity=[{"type": "CVSS_V3", "score": vector}])
    adv = parse(minimal(affected=[entry]))
    assert (adv.cvss_score, adv.severity) == (9.8, Severity.critical)


# --- other fields ----------------------------------------------------------------------------


def test_timestamps_names_and_withdrawn() -> None:
    adv = parse(minimal(
        published="2024-01-01T00:00:00+02:00",
        withdrawn="2024-02-01T00:00:00",  # no offset: UTC
        affected=[{"package": {"ecosystem": "PyPI", "name": "Scikit_Learn"}}],
    ))  # fmt: skip
    assert adv.published == datetime(2023, 12, 31, 22, 0, tzinfo=UTC)
    assert adv.withdrawn == datetime(2024, 2, 1, tzinfo=UTC)
    assert adv.affected[0].name == "scikit-learn"


def test_affected_without_package_is_dropped() -> None:
    adv = parse(minimal(affected=[{"ranges": [{"type": "GIT", "repo": "https://x",
                                               "events": [{"introduced": "0"}]}]}]))  # fmt: skip
    assert adv.affected == ()


def test_fixed_and_last_affected_in_one_range_are_accepted() -> None:
    timeline = [{"introduced": "0"}, {"fixed": "2"}, {"introduced": "3"}, {"last_affected": "4"}]
    adv = parse(minimal(affected=[pkg(ranges=[{"type": "ECOSYSTEM", "events": timeline}])]))
    hit = [v for v in ("1", "2", "3", "4", "5") if affected(adv, "PyPI", "x", v)]
    assert hit == ["1", "3", "4"]


# --- malformed records -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "must be a JSON object"),
        ({"modified": "2024-01-01T00:00:00Z"}, "'id' must be a non-empty string"),
        ({"id": "", "modified": "2024-01-01T00:00:00Z"}, "'id' must be a non-empty string"),
        ({"id": "X-1"}, "X-1: 'modified' must be an RFC 3339"),
        (minimal(modified="yesterday"), "OSV-TEST-1: 'modified' is not an RFC 3339"),
        (minimal(published=20240101), "'published' must be an RFC 3339"),
        (minimal(aliases="CVE-1"), "'aliases' must be a list"),
        (minimal(aliases=[1]), "'aliases' must be a list of strings"),
        (minimal(summary=3), "'summary' must be a string"),
        (minimal(affected={}), "'affected' must be a list"),
        (minimal(affected=["x"]), "affected[0]: an affected entry must be an object"),
        (minimal(affected=[{"package": "x"}]), "'package' must be an object"),
        (minimal(affected=[{"package": {"ecosystem": "PyPI"}}]),
         "affected[0].package: 'name' must be a non-empty string"),
        (minimal(affected=[pkg(versions="1.0")]), "'versions' must be a list"),
        (minimal(affected=[pkg(ranges=[{"events": [{"introduced": "0"}]}])]),
         "affected[0].ranges[0]: 'type' must be a non-empty string"),
        (minimal(affected=[pkg(ranges=[{"type": "SEMVER", "events": [{"fixed": "1.0.0"}]}])]),
         "ranges[0]: a range needs at least one introduced event"),
        (minimal(affected=[pkg(ranges=[{"type": "SEMVER",
                                        "events": [{"introduced": "0", "fixed": "1.0.0"}]}])]),
         "events[0]: an event must be an object with exactly one of"),
        (minimal(affected=[pkg(ranges=[{"type": "SEMVER",
                                        "events": [{"introduced": "0"}, {"patched": "1"}]}])]),
         "events[1]: unknown event 'patched'"),
        (minimal(affected=[pkg(ranges=[{"type": "SEMVER", "events": [{"introduced": 0}]}])]),
         "the introduced version must be a non-empty string"),
        (minimal(severity=[{"type": "CVSS_V3"}]), "severity[0]: 'score' must be a non-empty"),
    ],
)  # fmt: skip
def test_malformed_records(doc: Any, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse(doc)


def test_read_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad\.json: not JSON"):
        read(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"id": "X-2"}))
    with pytest.raises(ValueError, match=r"wrong\.json: X-2: 'modified'"):
        read(wrong)

"""Version ordering and OSV range evaluation, hand-checked: PEP 440 (pre-, dev-, post-releases,
epochs, local versions), SemVer 2.0 precedence (the spec's own example chain), every event
kind, explicit versions lists, GIT ranges, withdrawn records, exact ecosystems and PEP 503
names; a few vectors from osv-detector's tests (G-Rath/osv-detector, the matcher osv-scanner
grew from); and a property check that the compiled intervals answer exactly as the schema's
step-by-step walk does."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from custos.intel.osv import Range, normalise_name
from custos.intel.versions import (
    BOTTOM,
    TOP,
    affected,
    compile_range,
    first_fix_after,
    fixed_versions,
    in_intervals,
    in_range,
    in_versions,
    ordering,
    parse_semver,
    parse_version,
    sort_range,
)
from tests.intel.builders import WHEN, advisory, events


def hits(adv_pairs: list[tuple[str, str]], versions: list[str], **kw: object) -> list[str]:
    adv = advisory(*adv_pairs, **kw)  # type: ignore[arg-type]
    name = str(kw.get("name", "pkg"))
    ecosystem = str(kw.get("ecosystem", "PyPI"))
    return [v for v in versions if affected(adv, ecosystem, name, v)]


# --- PEP 440 ordering --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.0.0rc1", "1.0.0"),
        ("1.0.dev0", "1.0a1"),
        ("1.0a1", "1.0b1"),
        ("1.0b2", "1.0rc1"),
        ("1.0", "1.0.post1"),
        ("1.0.post1.dev0", "1.0.post1"),
        ("2.0", "1!1.0"),  # an epoch outranks any release
        ("1.0", "1.0+cpu"),  # a local version sorts after its public one
        ("1.0+abc", "1.0+abc.5"),
        ("1.0+cpu", "1.0.post1"),
        ("1.9", "1.10"),
    ],
)
def test_pep440_order(lower: str, higher: str) -> None:
    assert Version(lower) < Version(higher)


def test_pep440_equal_versions() -> None:
    assert parse_version("pep440", "1.0") == parse_version("pep440", "1.0.0")
    assert parse_version("pep440", "1.0.0-rc.1") == parse_version("pep440", "1.0.0rc1")
    assert parse_version("pep440", "not a version") is None


# --- SemVer 2.0 ordering -----------------------------------------------------------------


SPEC_CHAIN = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
              "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]  # fmt: skip


def test_semver_precedence_is_the_spec_example() -> None:
    parsed = [parse_semver(v) for v in SPEC_CHAIN]
    assert parsed == sorted(parsed)
    assert all(a < b for a, b in pairwise(parsed))


@pytest.mark.parametrize(
    ("lower", "higher"),
    [("1.0.0", "2.0.0"), ("2.0.0", "2.1.0"), ("2.1.0", "2.1.1"), ("1.9.0", "1.10.0"),
     ("1.0.0-alpha", "1.0.0-alpha.1"), ("1.0.0-alpha.1", "1.0.0-beta"),
     ("1.0.0-beta", "1.0.0"), ("1.0.0-2", "1.0.0-10"), ("1.0.0-10", "1.0.0-a")],
)  # fmt: skip
def test_semver_order(lower: str, higher: str) -> None:
    assert parse_semver(lower) < parse_semver(higher)
    assert parse_semver(higher) > parse_semver(lower)


def test_semver_build_metadata_is_ignored() -> None:
    assert parse_semver("1.0.0+build.1") == parse_semver("1.0.0+build.2") == parse_semver("1.0.0")
    assert not parse_semver("1.0.0+zzz") > parse_semver("1.0.0")
    assert hash(parse_semver("1.0.0+a")) == hash(parse_semver("1.0.0"))


def test_semver_leniencies_and_rejections() -> None:
    assert parse_semver("v1.2.3") == parse_semver("1.2.3")
    assert parse_semver("1.2") == parse_semver("1.2.0")
    for bad in ("", "1.2.3.4", "a.b.c", "1.0.0-", "1.0.0+", "1.0.0-al..pha", "\u0661.2.3"):
        with pytest.raises(ValueError, match="SemVer"):
            parse_semver(bad)


def test_orderings() -> None:
    assert ordering("ECOSYSTEM", "PyPI") == "pep440"
    assert ordering("ECOSYSTEM", "npm") == "semver"
    assert ordering("SEMVER", "PyPI") == "semver"
    assert ordering("ECOSYSTEM", "Maven") is None
    assert ordering("GIT", "PyPI") is None


def test_extremes() -> None:
    v = Version("0.0.0.dev0")
    assert BOTTOM < v < TOP
    assert v > BOTTOM
    assert TOP.__gt__(v)  # TOP's own comparison, not the reflected one
    assert BOTTOM.__lt__(v)
    assert parse_semver("0.0.0-0") > BOTTOM


# --- event kinds (ECOSYSTEM, PyPI) -------------------------------------------------------


VERSIONS = ["0.1", "0.9", "1.0rc1", "1.0", "1.0.1", "1.5", "2.0.dev1", "2.0", "2.3", "3.0", "9.0"]


def test_introduced_and_fixed() -> None:
    assert hits([("introduced", "1.0"), ("fixed", "2.0")], VERSIONS) == [
        "1.0", "1.0.1", "1.5", "2.0.dev1"]  # fmt: skip


def test_introduced_zero_is_before_everything() -> None:
    assert hits([("introduced", "0"), ("fixed", "1.0")], VERSIONS) == ["0.1", "0.9", "1.0rc1"]
    assert hits([("introduced", "0")], ["0.0.0.dev0", "0a1", "9999"]) == [
        "0.0.0.dev0", "0a1", "9999"]  # fmt: skip


def test_introduced_alone_never_ends() -> None:
    assert hits([("introduced", "2.0")], VERSIONS) == ["2.0", "2.3", "3.0", "9.0"]


def test_last_affected_is_inclusive() -> None:
    assert hits([("introduced", "1.0"), ("last_affected", "1.5")], VERSIONS) == [
        "1.0", "1.0.1", "1.5"]  # fmt: skip
    assert hits([("introduced", "0"), ("last_affected", "1.0")], ["1.0", "1.0.post1"]) == ["1.0"]


def test_several_introduced_fixed_pairs_in_one_range() -> None:
    pairs = [("introduced", "0"), ("fixed", "1.0"), ("introduced", "1.5"), ("fixed", "2.0"),
             ("introduced", "3.0")]  # fmt: skip
    assert hits(pairs, VERSIONS) == ["0.1", "0.9", "1.0rc1", "1.5", "2.0.dev1", "3.0", "9.0"]


def test_events_in_any_order() -> None:
    pairs = [("fixed", "2.0"), ("introduced", "3.0"), ("introduced", "1.0"), ("fixed", "3.1")]
    assert hits(pairs, VERSIONS) == ["1.0", "1.0.1", "1.5", "2.0.dev1", "3.0"]


def test_limit_bounds_the_range() -> None:
    # no fixed event: the limit alone ends it (exclusive)
    assert hits([("introduced", "1.0"), ("limit", "2.3")], VERSIONS) == [
        "1.0", "1.0.1", "1.5", "2.0.dev1", "2.0"]  # fmt: skip
    # the largest of several limits counts; "*" is infinity
    assert hits([("introduced", "2.0"), ("limit", "2.3"), ("limit", "3.0")], VERSIONS) == [
        "2.0", "2.3"]  # fmt: skip
    assert hits([("introduced", "2.0"), ("limit", "*")], VERSIONS) == ["2.0", "2.3", "3.0", "9.0"]
    # a limit below the introduced leaves nothing
    assert hits([("introduced", "2.0"), ("limit", "1.0")], VERSIONS) == []


def test_same_version_events() -> None:
    # an introduced and a fixed at one version: an empty range
    assert hits([("introduced", "1.0"), ("fixed", "1.0")], VERSIONS) == []
    # an introduced and a last_affected at one version: that version alone
    assert hits([("introduced", "1.0"), ("last_affected", "1.0")], VERSIONS) == ["1.0"]
    # versions equal under PEP 440 are one point
    assert hits([("introduced", "1.0.0"), ("fixed", "1.0")], VERSIONS) == []


def test_prereleases_dev_and_post() -> None:
    assert hits([("introduced", "0"), ("fixed", "1.0")], ["1.0rc1", "1.0.dev3", "1.0"]) == [
        "1.0rc1", "1.0.dev3"]  # fmt: skip
    # a post-release of the last affected version is above it; of the fix, fixed too
    post = ["1.0", "1.0.post1", "1.0.post2"]
    assert hits([("introduced", "0"), ("fixed", "1.0.post1")], post) == ["1.0"]
    # dev and pre-releases of the introducing version come before it
    assert hits([("introduced", "2.0")], ["2.0.dev1", "2.0rc1", "2.0"]) == ["2.0"]


def test_epochs() -> None:
    assert hits([("introduced", "0"), ("fixed", "2.0")], ["1.9", "1!1.0", "1!0.1"]) == ["1.9"]
    assert hits([("introduced", "1!0"), ("fixed", "1!2.0")], ["3.0", "1!1.0"]) == ["1!1.0"]


def test_local_versions() -> None:
    assert hits([("introduced", "0"), ("fixed", "2.6.0")], ["2.5.1+cpu", "2.6.0+cu124"]) == [
        "2.5.1+cpu"]  # fmt: skip
    # 2.5.1+cpu > 2.5.1: a last_affected of 2.5.1 does not reach it (the schema's `>`)
    assert hits([("introduced", "0"), ("last_affected", "2.5.1")], ["2.5.1", "2.5.1+cpu"]) == [
        "2.5.1"]  # fmt: skip


# --- explicit versions, invalid versions, GIT ---------------------------------------------


def test_explicit_versions_only() -> None:
    adv = advisory(versions=("1.0.0", "1.1"))
    assert affected(adv, "PyPI", "pkg", "1.0.0")
    assert affected(adv, "PyPI", "pkg", "1.0")  # PEP 440: 1.0 == 1.0.0
    assert affected(adv, "PyPI", "pkg", "1.1.0")
    assert not affected(adv, "PyPI", "pkg", "1.0.1")
    assert not affected(adv, "PyPI", "pkg", "1.0.0rc1")


def test_explicit_versions_are_or_ed_with_ranges() -> None:
    adv = advisory(("introduced", "2.0"), ("fixed", "2.1"), versions=("1.4",))
    assert [v for v in ("1.4", "1.5", "2.0", "2.1") if affected(adv, "PyPI", "pkg", v)] == [
        "1.4", "2.0"]  # fmt: skip


def test_invalid_version_falls_back_to_the_explicit_list() -> None:
    adv = advisory(("introduced", "0"), versions=("weird-build",))
    assert affected(adv, "PyPI", "pkg", "weird-build")  # not PEP 440: the list alone decides
    assert not affected(adv, "PyPI", "pkg", "other-build")
    assert in_versions("weird-build", ["weird-build"], "PyPI")


def test_range_with_an_unparseable_bound_is_skipped() -> None:
    adv = advisory(("introduced", "0"), ("fixed", "not-a-version"), versions=("1.0",))
    assert affected(adv, "PyPI", "pkg", "1.0")
    assert not affected(adv, "PyPI", "pkg", "1.1")


def test_git_ranges_are_ignored() -> None:
    adv = advisory(("introduced", "0"), ("fixed", "a" * 40), type="GIT")
    assert not affected(adv, "PyPI", "pkg", "1.0")
    adv = advisory(("introduced", "0"), ("fixed", "a" * 40), type="GIT", versions=("1.0",))
    assert affected(adv, "PyPI", "pkg", "1.0")


def test_ecosystem_range_without_an_ordering_is_ignored() -> None:
    adv = advisory(("introduced", "0"), ecosystem="Maven", name="org.x:y", versions=("2.0",))
    assert not affected(adv, "Maven", "org.x:y", "1.0")
    assert affected(adv, "Maven", "org.x:y", "2.0")


# --- SEMVER ranges ---------------------------------------------------------------------


def test_semver_range_with_prereleases() -> None:
    pairs = [("introduced", "1.0.0-alpha.1"), ("fixed", "1.0.0-rc.1")]
    assert hits(pairs, SPEC_CHAIN, ecosystem="npm", type="SEMVER") == SPEC_CHAIN[1:6]


def test_semver_build_metadata_in_ranges() -> None:
    pairs = [("introduced", "0"), ("fixed", "1.2.3+build.7")]
    assert hits(pairs, ["1.2.2", "1.2.3", "1.2.3+other"], ecosystem="npm", type="SEMVER") == [
        "1.2.2"]  # fmt: skip


# --- withdrawn, ecosystems, names --------------------------------------------------------


def test_withdrawn_advisory_affects_nothing() -> None:
    adv = advisory(("introduced", "0"), withdrawn=WHEN)
    assert not affected(adv, "PyPI", "pkg", "1.0")


def test_ecosystem_is_compared_exactly() -> None:
    adv = advisory(("introduced", "0"))
    assert affected(adv, "PyPI", "pkg", "1.0")
    assert not affected(adv, "pypi", "pkg", "1.0")
    assert not affected(adv, "npm", "pkg", "1.0.0")


def test_pep503_names() -> None:
    assert normalise_name("PyPI", "Scikit_Learn") == "scikit-learn"
    assert normalise_name("PyPI", "zope.interface") == "zope-interface"
    assert normalise_name("PyPI", "a__-._b") == "a-b"
    assert normalise_name("npm", "Scikit_Learn") == "Scikit_Learn"
    adv = advisory(("introduced", "0"), name=normalise_name("PyPI", "scikit-learn"))
    assert affected(adv, "PyPI", "Scikit_Learn", "1.0")
    assert affected(adv, "PyPI", "scikit.learn", "1.0")
    adv = advisory(("introduced", "0"), ecosystem="npm", name="Left-Pad", type="SEMVER")
    assert not affected(adv, "npm", "left-pad", "1.0.0")  # npm names are not normalised


# --- fixed versions ------------------------------------------------------------------------


def test_fixed_versions_and_first_fix_after() -> None:
    adv = advisory(("introduced", "0"), ("fixed", "1.5.3"), ("introduced", "2.0"),
                   ("fixed", "2.1.1"), ("introduced", "3.0"), ("fixed", "3.0.2"))  # fmt: skip
    assert fixed_versions(adv, "PyPI", "pkg") == ["1.5.3", "2.1.1", "3.0.2"]
    assert first_fix_after(adv, "PyPI", "pkg", "1.2") == "1.5.3"
    assert first_fix_after(adv, "PyPI", "pkg", "2.0.5") == "2.1.1"
    assert first_fix_after(adv, "PyPI", "pkg", "3.0.2") is None
    assert first_fix_after(adv, "PyPI", "pkg", "not a version") is None
    assert first_fix_after(adv, "PyPI", "other", "1.0") is None


def test_fixed_versions_skip_git_and_keep_unparseable_last() -> None:
    adv = advisory(("introduced", "0"), ("fixed", "weird"), ("fixed", "1.0"), ("fixed", "1.0"))
    assert fixed_versions(adv, "PyPI", "pkg") == ["1.0", "weird"]
    git = advisory(("introduced", "0"), ("fixed", "b" * 40), type="GIT")
    assert fixed_versions(git, "PyPI", "pkg") == []


def test_last_affected_has_no_fix() -> None:
    adv = advisory(("introduced", "0"), ("last_affected", "2.0"))
    assert fixed_versions(adv, "PyPI", "pkg") == []
    assert first_fix_after(adv, "PyPI", "pkg", "1.0") is None


# --- vectors from osv-detector's osv_test.go (npm there; the PEP 440-valid ones here) -----


def test_osv_detector_single_affected() -> None:
    for pairs, yes, no in [
        ([("introduced", "0")], ["1.0.0", "1.1.1", "2.0.0"], []),
        ([("introduced", "0"), ("fixed", "1")], ["0.0.0", "0.1.0", "0.0.0.1", "1.0.0-rc"],
         ["1.0.0", "1.1.0", "2.0.0"]),
        ([("introduced", "0"), ("fixed", "1"), ("introduced", "2.1.0"), ("fixed", "3.2.0")],
         ["0.0.0", "0.1.0", "0.0.0.1", "1.0.0-rc", "2.1.1", "2.3.4", "3.0.0", "3.0.0-rc"],
         ["1.0.0", "1.1.0", "2.0.0rc2", "2.0.1", "3.2.0", "3.2.1", "4.0.0"]),
    ]:  # fmt: skip
        assert hits(pairs, yes + no) == yes


def test_osv_detector_semver_single_affected() -> None:
    pairs = [("introduced", "0"), ("fixed", "1.0.0")]
    versions = ["0.0.0", "0.1.0", "1.0.0-rc", "1.0.0", "1.1.0", "2.0.0"]
    assert hits(pairs, versions, ecosystem="npm", type="SEMVER") == ["0.0.0", "0.1.0", "1.0.0-rc"]


def test_osv_detector_only_versions() -> None:
    adv = advisory(versions=("1.0.0",), ecosystem="npm")
    assert [v for v in ("0.0.0", "1.0.0", "1.0.0-beta1", "1.1.0")
            if affected(adv, "npm", "pkg", v)] == ["1.0.0"]  # fmt: skip


def test_osv_detector_different_ecosystem() -> None:
    adv = advisory(("introduced", "0"))  # PyPI
    assert not any(affected(adv, "npm", "pkg", v) for v in ("1.0.0", "1.1.1", "2.0.0"))


# --- the compiled intervals equal the schema's walk ----------------------------------------


KINDS = ("introduced", "fixed", "last_affected", "limit")
event_lists = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 12).map(str) | st.just("*")),
    min_size=1,
    max_size=8,
).filter(lambda evs: all(k == "limit" or v != "*" for k, v in evs))


def as_range(evs: list[tuple[str, str]]) -> Range:
    return Range("ECOSYSTEM", events(*evs))


def int_key(text: str) -> int:
    return int(text)


@settings(max_examples=400, deadline=None)
@given(event_lists)
def test_intervals_equal_the_walk(evs: list[tuple[str, str]]) -> None:
    # integers as versions ("0" introduced is BOTTOM, "*" limit is TOP, as for any ordering)
    ready = sort_range(as_range(evs), int_key)
    assert ready is not None
    intervals = compile_range(ready)
    lows = [i.low for i in intervals]
    assert lows == sorted(lows)
    for v in range(-1, 15):
        assert in_intervals(v, intervals) == in_range(v, ready), (evs, v, intervals)


@settings(max_examples=200, deadline=None)
@given(event_lists)
def test_intervals_equal_the_walk_for_pep440(evs: list[tuple[str, str]]) -> None:
    ready = sort_range(as_range(evs), lambda t: parse_version("pep440", t))
    assert ready is not None
    intervals = compile_range(ready)
    for text in ("0.dev0", "0", "1", "1.0.post1", "3rc1", "3", "7", "12", "12.0.1", "99"):
        v = Version(text)
        assert in_intervals(v, intervals) == in_range(v, ready), (evs, text)

"""The index: the hand-written real advisories against pinned ML dependencies (torch 2.5.1
matches CVE-2025-32434, fixed in 2.6.0; 2.6.0 does not), unpinned dependencies skipped,
withdrawn and superseded records, stats, and a property check that the index answers exactly
as `custos.intel.versions` does, version by version, fix by fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from custos.findings import Severity
from custos.intel.index import Index
from custos.intel.osv import Advisory, Affected, Range
from custos.intel.versions import affected, first_fix_after, fixed_versions
from tests.intel.builders import WHEN, advisory, dep, events, real


def found(index: Index, *deps_: tuple[str, str | None]) -> dict[tuple[str, str], str | None]:
    """(name, advisory id) -> fixed_in for every match."""
    return {(m.dependency.name, m.advisory): m.fixed_in
            for m in index.match(dep(name, version) for name, version in deps_)}  # fmt: skip


# --- the real records ------------------------------------------------------------------------


def test_torch_weights_only_rce() -> None:
    index = Index(real())
    (ghsa, pysec) = index.match([dep("torch", "2.5.1")])
    assert (ghsa.advisory, pysec.advisory) == ("GHSA-53q9-r3pm-6pq6", "PYSEC-2025-41")
    assert ghsa.fixed_in == pysec.fixed_in == "2.6.0"
    assert ghsa.aliases == ("CVE-2025-32434",)
    assert "GHSA-53q9-r3pm-6pq6" in pysec.aliases
    assert ghsa.severity is Severity.critical
    assert "weights_only=True" in ghsa.summary
    assert ghsa.dependency.version == "2.5.1"
    assert index.match([dep("torch", "2.6.0")]) == []
    assert index.match([dep("torch", "2.7.1+cu126")]) == []
    assert len(index.match([dep("torch", "2.5.1+cu121")])) == 2
    assert len(index.match([dep("torch", "1.13.1")])) == 2


def test_ml_stack() -> None:
    index = Index(real())
    assert found(index, ("PyYAML", "5.3.1"), ("Pillow", "10.1.0"), ("transformers", "4.35.0"),
                 ("mlflow", "2.2.0"), ("Jinja2", "3.1.2"), ("numpy", "1.26.4")) == {
        ("PyYAML", "GHSA-8q59-q68h-6hv4"): "5.4",
        ("PyYAML", "PYSEC-2021-142"): "5.4",
        ("Pillow", "GHSA-3f63-hfp8-52jq"): "10.2.0",
        ("transformers", "GHSA-v68g-wm8c-6x7j"): "4.36.0",
        ("mlflow", "GHSA-xg73-94fp-g449"): "2.2.1",
        ("Jinja2", "GHSA-h5c8-rqwp-cp95"): "3.1.3",
        ("Jinja2", "GHSA-h75v-3vvj-5mfj"): "3.1.4",
    }  # fmt: skip
    # one fix later, one advisory fewer
    assert found(index, ("jinja2", "3.1.3")) == {("jinja2", "GHSA-h75v-3vvj-5mfj"): "3.1.4"}
    assert found(index, ("jinja2", "3.1.4"), ("pyyaml", "5.4"), ("pillow", "10.2.0"),
                 ("transformers", "4.36.0"), ("mlflow", "2.2.1")) == {}  # fmt: skip
    # the pre-release of a fix is before the fix
    assert found(index, ("pyyaml", "5.4b2")) == {
        ("pyyaml", "GHSA-8q59-q68h-6hv4"): "5.4", ("pyyaml", "PYSEC-2021-142"): "5.4"}  # fmt: skip


def test_unpinned_dependencies_are_skipped() -> None:
    index = Index(real())
    assert index.match([dep("torch", None), dep("pyyaml", "")]) == []


def test_match_order_is_dependency_then_advisory_id() -> None:
    index = Index(real())
    matches = index.match([dep("torch", "2.0.0"), dep("jinja2", "3.0.0")])
    assert [(m.dependency.name, m.advisory) for m in matches] == [
        ("torch", "GHSA-53q9-r3pm-6pq6"), ("torch", "PYSEC-2025-41"),
        ("jinja2", "GHSA-h5c8-rqwp-cp95"), ("jinja2", "GHSA-h75v-3vvj-5mfj")]  # fmt: skip


def test_stats() -> None:
    gone = advisory(("introduced", "0"), id="GONE-1", name="torch", withdrawn=WHEN)
    index = Index([*real(), gone])
    stats = index.stats()
    assert stats.advisories == len(index) == 9
    assert stats.withdrawn == 1
    assert stats.packages == 6
    assert stats.ecosystems == ("PyPI",)
    assert stats.newest_modified == datetime(2025, 5, 2, 9, 21, 40, 284617, tzinfo=UTC)
    assert stats.unevaluated_ranges == 1  # PYSEC-2021-142's GIT range
    assert [a.id for a in index.advisories_for("PyPI", "PyYAML")] == [
        "GHSA-8q59-q68h-6hv4", "PYSEC-2021-142"]  # fmt: skip
    assert index.advisories_for("PyPI", "nothing") == ()


# --- rules ----------------------------------------------------------------------------------


def test_withdrawn_advisories_are_ignored() -> None:
    index = Index([advisory(("introduced", "0"), withdrawn=WHEN)])
    assert index.match([dep("pkg", "1.0")]) == []
    assert index.stats().advisories == 0


def test_later_record_of_one_id_wins() -> None:
    old = advisory(("introduced", "0"), ("fixed", "2.0"), modified=WHEN)
    new = advisory(("introduced", "0"), ("fixed", "1.0"), modified=WHEN + timedelta(days=1))
    for order in ([old, new], [new, old]):
        index = Index(order)
        assert found(index, ("pkg", "1.5")) == {}
        assert found(index, ("pkg", "0.5")) == {("pkg", "TEST-1"): "1.0"}


def test_names_and_ecosystems() -> None:
    index = Index([advisory(("introduced", "0"), name="scikit-learn")])
    assert found(index, ("Scikit_Learn", "1.0")) == {("Scikit_Learn", "TEST-1"): None}
    assert index.match([dep("scikit-learn", "1.0.0", ecosystem="npm")]) == []


def test_fixed_in_is_the_first_fix_above() -> None:
    adv = advisory(("introduced", "0"), ("fixed", "1.5.3"), ("introduced", "2.0"),
                   ("fixed", "2.1.1"))  # fmt: skip
    index = Index([adv])
    assert found(index, ("pkg", "1.2")) == {("pkg", "TEST-1"): "1.5.3"}
    assert found(index, ("pkg", "2.0.5")) == {("pkg", "TEST-1"): "2.1.1"}
    assert found(index, ("pkg", "1.6")) == {}


def test_last_affected_and_unfixed_have_no_fix() -> None:
    index = Index([advisory(("introduced", "1.0"), ("last_affected", "1.4"), id="A"),
                   advisory(("introduced", "3.0"), id="B")])  # fmt: skip
    assert found(index, ("pkg", "1.4"), ("pkg", "3.1")) == {("pkg", "A"): None, ("pkg", "B"): None}
    assert found(index, ("pkg", "1.4.post1"), ("pkg", "2.0")) == {}


def test_explicit_versions_and_unparseable_versions() -> None:
    index = Index([advisory(versions=("1.0.0", "2.0-custom-build", "3.0"))])
    assert found(index, ("pkg", "1.0"), ("pkg", "2.0-custom-build"), ("pkg", "3.0.0")) == {
        ("pkg", "TEST-1"): None}  # fmt: skip
    assert len(index.match([dep("pkg", "1.0"), dep("pkg", "2.0-custom-build"),
                            dep("pkg", "3.0.0")])) == 3  # fmt: skip
    assert index.match([dep("pkg", "2.0"), dep("pkg", "other-build")]) == []


def test_unknown_version_between_known_ones() -> None:
    index = Index([advisory(("introduced", "1.0"), ("fixed", "2.0"))])
    # versions no advisory names fall in the gaps between the ranked ones
    for version, hit in [("0.9", False), ("1.0.0", True), ("1.3.7", True), ("1.99", True),
                         ("2.0rc1", True), ("2.0", False), ("2.0.post1", False),
                         ("99", False), ("0.0.0.dev0", False)]:  # fmt: skip
        assert bool(index.match([dep("pkg", version)])) is hit, version


def test_semver_ecosystem() -> None:
    adv = advisory(("introduced", "1.0.0-alpha.1"), ("fixed", "1.0.0"), ecosystem="npm",
                   name="left-pad", type="SEMVER")  # fmt: skip
    index = Index([adv])
    assert [m.fixed_in for m in index.match([dep("left-pad", "1.0.0-beta", "npm")])] == ["1.0.0"]
    assert index.match([dep("left-pad", "1.0.0-alpha", "npm")]) == []
    assert index.match([dep("left-pad", "1.0.0+build", "npm")]) == []


def test_one_advisory_several_entries_and_packages() -> None:
    ranges = (Range("ECOSYSTEM", events(("introduced", "0"), ("fixed", "1.2"))),)
    later = (Range("ECOSYSTEM", events(("introduced", "2.0"), ("fixed", "2.4"))),)
    adv = Advisory(id="MULTI-1", modified=WHEN, affected=(
        Affected("PyPI", "torch", ranges), Affected("PyPI", "torch", later),
        Affected("PyPI", "torchvision", (), ("0.20.1",)),
    ))  # fmt: skip
    index = Index([adv])
    assert found(index, ("torch", "1.0"), ("torch", "2.1"), ("torchvision", "0.20.1")) == {
        ("torch", "MULTI-1"): "2.4", ("torchvision", "MULTI-1"): None}  # fmt: skip
    assert [m.fixed_in for m in index.match([dep("torch", "1.0")])] == ["1.2"]  # one match
    assert index.stats().packages == 2


def test_two_orderings_in_one_package() -> None:
    # an ECOSYSTEM (PEP 440) and a SEMVER range for one PyPI package
    adv = Advisory(id="MIXED-1", modified=WHEN, affected=(Affected("PyPI", "pkg", (
        Range("ECOSYSTEM", events(("introduced", "0"), ("fixed", "1.0rc1"))),
        Range("SEMVER", events(("introduced", "2.0.0"), ("fixed", "2.0.5"))),
    )),))  # fmt: skip
    index = Index([adv])
    assert found(index, ("pkg", "0.9")) == {("pkg", "MIXED-1"): "1.0rc1"}
    assert found(index, ("pkg", "2.0.1")) == {("pkg", "MIXED-1"): "2.0.5"}
    assert found(index, ("pkg", "1.0"), ("pkg", "2.0.5")) == {}
    assert fixed_versions(adv, "PyPI", "pkg") == ["1.0rc1", "2.0.5"]
    # the two orderings do not compare: a PEP 440 fix above the version comes first
    assert first_fix_after(adv, "PyPI", "pkg", "0.9") == "1.0rc1"
    assert first_fix_after(adv, "PyPI", "pkg", "2.0.4") == "2.0.5"
    for version in ("0.9", "1.5", "2.0.0", "2.0.4", "3"):
        want = (
            first_fix_after(adv, "PyPI", "pkg", version)
            if affected(adv, "PyPI", "pkg", version)
            else "-"
        )
        got = [m.fixed_in for m in index.match([dep("pkg", version)])] or ["-"]
        assert got == [want], version


def test_git_and_unordered_ranges_count_as_unevaluated() -> None:
    index = Index([advisory(("introduced", "0"), type="GIT", id="G"),
                   advisory(("introduced", "0"), ecosystem="Maven", id="M"),
                   advisory(("introduced", "0"), ("fixed", "bad version"), id="B")])  # fmt: skip
    assert index.stats().unevaluated_ranges == 3
    assert index.match([dep("pkg", "1.0")]) == []


def test_empty_index() -> None:
    index = Index([])
    assert index.match([dep("torch", "2.5.1")]) == []
    stats = index.stats()
    assert (stats.advisories, stats.packages, stats.newest_modified) == (0, 0, None)


# --- the index answers as versions.affected does --------------------------------------------


VERSION_TEXTS = ["0.dev0", "0", "0.5", "1.0rc1", "1", "1.0", "1.0.0", "1.0.post1", "1.2", "1.5",
                 "2.0a1", "2", "2.1", "3", "3.0.1", "4", "1!0.1", "not-a-version"]  # fmt: skip
bounds = st.sampled_from(VERSION_TEXTS[:-2])
event = st.tuples(st.sampled_from(("introduced", "fixed", "last_affected", "limit")), bounds)
range_events = st.lists(event, min_size=1, max_size=5).map(
    lambda evs: [("introduced", "0"), *evs[1:]] if evs[0][0] == "limit" else evs
)
advisory_ranges = st.lists(range_events, min_size=0, max_size=2)
listed = st.lists(st.sampled_from(VERSION_TEXTS), max_size=3)


def build(specs: list[tuple[list[list[tuple[str, str]]], list[str]]]) -> list[Advisory]:
    out = []
    for n, (ranges, versions) in enumerate(specs):
        built = tuple(Range("ECOSYSTEM", events(*evs)) for evs in ranges
                      if any(k == "introduced" for k, _ in evs))  # fmt: skip
        entry = Affected("PyPI", "pkg", built, tuple(versions))
        out.append(Advisory(id=f"P-{n}", modified=WHEN, affected=(entry,)))
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(advisory_ranges, listed), min_size=1, max_size=4))
def test_index_equals_versions(specs: list[tuple[list[list[tuple[str, str]]], list[str]]]) -> None:
    advisories = build(specs)
    index = Index(advisories)
    for version in [*VERSION_TEXTS, "0.7", "1.1", "2.5", "5", "2.0.dev0"]:
        got = {m.advisory: m.fixed_in for m in index.match([dep("pkg", version)])}
        want = {a.id: first_fix_after(a, "PyPI", "pkg", version)
                for a in advisories if affected(a, "PyPI", "pkg", version)}  # fmt: skip
        assert got == want, version

"""Benchmark: matching pinned dependencies against OSV advisories (custos.intel), in process.

The data: 100,000 generated PyPI advisories over 20,000 package names, each package with its
own release history (PEP 440 versions with pre-releases and post-releases), each advisory with
one or two ECOSYSTEM ranges (introduced/fixed pairs, "0" lower bounds, some last_affected) and,
for a third of them, an explicit `versions` list, as OSV's PyPI records have; then 1,000 pinned
dependencies drawn from the same names (nine in ten with advisories) at versions of their
histories. The advisories are built as `Advisory` objects directly: JSON parsing is not timed.

Figures (in-process wall time, time.perf_counter, median of 3 runs):

  * building the index from the advisories (no goal of its own);
  * matching the 1,000 dependencies (no goal of its own);
  * "build + match", goal <= 2 s on the 2-core reference machine.

Before timing, the matches of 200 dependencies are checked against the reference evaluation
(custos.intel.versions.affected and first_fix_after); a difference ends the run with an error.

`--quick`: 10,000 advisories, 2,000 names, 100 dependencies, one run; `met` is left None.

Run: .venv/bin/python benchmarks/osv_match.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# `python benchmarks/osv_match.py` puts this folder first on sys.path: the shared contract.
from figures import Figure, at_most, emit, log, report

from custos.intel.index import Index
from custos.intel.osv import Advisory, Affected, Event, Range
from custos.intel.versions import affected, first_fix_after
from custos.repo.model import Dependency

BENCHMARK = "osv_match"
GOAL_S = 2.0
RUNS = 3
SEED = 20250418
CHECKED = 200  # dependencies whose matches are checked against the reference, untimed


def history(rng: random.Random) -> list[str]:
    """A package's releases in order: majors, minors, patches, some rc and post releases."""
    out: list[str] = []
    for major in range(rng.randint(0, 2), rng.randint(3, 6)):
        for minor in range(rng.randint(2, 8)):
            if rng.random() < 0.2:
                out.append(f"{major}.{minor}.0rc1")
            for patch in range(rng.randint(1, 4)):
                out.append(f"{major}.{minor}.{patch}")
                if rng.random() < 0.05:
                    out.append(f"{major}.{minor}.{patch}.post1")
    return out


def generate(advisories: int, names: int, deps: int, seed: int
             ) -> tuple[list[Advisory], list[Dependency]]:  # fmt: skip
    rng = random.Random(seed)
    packages = [f"pkg-{i:05d}" for i in range(names)]
    histories = {name: history(rng) for name in packages}
    base = datetime(2020, 1, 1, tzinfo=UTC)
    out: list[Advisory] = []
    for n in range(advisories):
        name = packages[n % names] if n < names else rng.choice(packages)
        releases = histories[name]
        ranges: list[Range] = []
        listed: list[str] = []
        for _ in range(rng.choice((1, 1, 1, 2))):
            lo = rng.randrange(len(releases))
            hi = min(len(releases) - 1, lo + rng.randint(1, 12))
            start = "0" if rng.random() < 0.3 else releases[lo]
            events: tuple[Event, ...]
            if rng.random() < 0.1:
                events = (Event("introduced", start), Event("last_affected", releases[hi]))
            elif rng.random() < 0.05:
                events = (Event("introduced", start),)  # unfixed
            else:
                events = (Event("introduced", start), Event("fixed", releases[hi]))
            ranges.append(Range("ECOSYSTEM", events))
            if rng.random() < 0.33:
                listed += releases[lo:hi]
        affected = (Affected("PyPI", name, tuple(ranges), tuple(listed)),)
        modified = base + timedelta(minutes=n)
        out.append(Advisory(id=f"GHSA-gen-{n:06d}", modified=modified,
                            aliases=(f"CVE-2024-{n:05d}",), summary="generated",
                            affected=affected))  # fmt: skip
    where = Path("requirements.txt")
    dependencies = []
    for i in range(deps):
        name = rng.choice(packages) if rng.random() < 0.9 else f"clean-{i}"
        version = rng.choice(histories.get(name) or ["1.0.0"])
        dependencies.append(Dependency(name, f"=={version}", version, True, False, "PyPI",
                                       where, i + 1))  # fmt: skip
    return out, dependencies


def cross_check(records: list[Advisory], deps: list[Dependency]) -> int:
    """Untimed: the index's matches for `deps` are those of the reference evaluation
    (custos.intel.versions), fix included; a difference stops the benchmark."""
    index = Index(records)
    by_name: dict[str, list[Advisory]] = {}
    for advisory in records:
        by_name.setdefault(advisory.affected[0].name, []).append(advisory)
    for dep in deps:
        assert dep.version is not None
        got = {m.advisory: m.fixed_in for m in index.match([dep])}
        name, version = dep.name, dep.version
        want = {a.id: first_fix_after(a, "PyPI", name, version)
                for a in by_name.get(name, []) if affected(a, "PyPI", name, version)}  # fmt: skip
        if got != want:
            raise SystemExit(f"index and reference disagree on {dep.name}=={dep.version}: "
                             f"{got} != {want}")  # fmt: skip
    return len(deps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 advisories, one run")
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    args = parser.parse_args()
    advisories, names, deps = (10_000, 2_000, 100) if args.quick else (100_000, 20_000, 1_000)
    runs = 1 if args.quick else RUNS
    log(f"generating {advisories:,} advisories over {names:,} names, {deps:,} dependencies ...")
    records, dependencies = generate(advisories, names, deps, SEED)
    builds: list[float] = []
    matches: list[float] = []
    found = 0
    for _ in range(runs):
        # the generator's million objects are still young: collect them now, or the first
        # collection inside the timed code would charge their promotion to the index
        gc.collect()
        t0 = time.perf_counter()
        index = Index(records)
        t1 = time.perf_counter()
        found = len(index.match(dependencies))
        t2 = time.perf_counter()
        builds.append(t1 - t0)
        matches.append(t2 - t1)
        del index
    checked = cross_check(records, dependencies[:CHECKED])
    build_s, match_s = statistics.median(builds), statistics.median(matches)
    total_s = statistics.median(b + m for b, m in zip(builds, matches, strict=True))
    size = f"{advisories:,} advisories / {names:,} names"
    figures = [
        Figure(f"OSV index build, {size}, in-process, median of {runs}", round(build_s, 3),
               "s"),
        Figure(f"match {deps:,} pinned dependencies, in-process, median of {runs}",
               round(match_s, 4), "s"),
        Figure(f"OSV build + match ({size}, {deps:,} dependencies), in-process", round(total_s, 3),
               "s", goal=f"<= {GOAL_S:g} s", met=None if args.quick else at_most(total_s, GOAL_S)),
    ]  # fmt: skip
    result = report(BENCHMARK, figures, quick=args.quick, matches=found, checked=checked)
    if args.json:
        emit(result)
        return
    print(f"build index: {build_s:.3f} s ({size})")
    print(f"match {deps:,} dependencies: {match_s:.4f} s ({found:,} matches)")
    verdict = "met" if total_s <= GOAL_S else "MISSED"
    goal = "" if args.quick else f" (goal <= {GOAL_S:g} s: {verdict})"
    print(f"total: {total_s:.3f} s{goal}")


if __name__ == "__main__":
    main()

"""Benchmark: `custos data-integrity` on a 100,000-row, 20-column CSV of labelled training data
(15 numeric features from scikit-learn's make_classification, 4 category columns, the label),
with planted problems whose rows are known: exact and near duplicates (0.5% each), label flips
(3%), a backdoor trigger (one rare exact value of one feature on 1% of the rows, every one of
them relabelled to one class) and outliers (0.5%, three features at 8-12 standard deviations).

Figures:

  * "data-integrity on the 100,000 x 20 CSV, whole process wall": what a CI job waits for
    `custos data-integrity FILE --label label --format json`, start-up, reading every row, the
    five-fold model, cleanlab, the trigger tests, the isolation forest and the JSON output
    included; the median of 3 runs (the first run warms the page cache and is not counted).
    Goal <= 10 s on the project's 2-core machine;
  * what it found: recall of the planted duplicates, flips, trigger rows and outliers, and
    precision of the flips and outliers (the rest of the flagged rows were not planted). No
    peer: cleanlab is one of the parts, and no other tool gives all five signals.

`--quick`: 10,000 rows (a few seconds; the goal is judged at the full size only).

Run: .venv/bin/python benchmarks/data_integrity.py [--quick] [--json] [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path
from typing import Any

import numpy as np

# `python benchmarks/data_integrity.py` puts this folder first on sys.path: the shared contract.
from figures import Figure, at_least, at_most, compile_custos, emit, log, report, timed_custos

BENCHMARK = "data-integrity"
HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
GOAL_S = 10.0
RUNS = 3
SEED = 15
NUMERIC = 15
CLASSES = ("benign", "fraud", "review")
TRIGGER_COLUMN, TRIGGER_VALUE, TRIGGER_LABEL = 7, "0.61803", "benign"
CATEGORIES = {
    "channel": ("web", "app", "branch", "phone"),
    "device": ("ios", "android", "desktop", "tablet", "other"),
    "region": tuple(f"region-{i}" for i in range(12)),
    "merchant": tuple(f"m{i:03d}" for i in range(150)),
}


def write_planted(path: Path, rows: int) -> dict[str, list[int]]:
    """The CSV (kept under benchmarks/.data between runs) and the planted rows by kind."""
    from sklearn.datasets import make_classification

    base = rows - rows // 100  # the duplicate copies make up the rest
    x, y = make_classification(
        n_samples=base, n_features=NUMERIC, n_informative=8, n_redundant=2, n_classes=3,
        n_clusters_per_class=1, class_sep=2.0, flip_y=0, random_state=SEED,
    )  # fmt: skip
    rng = np.random.default_rng(SEED)
    labels = [CLASSES[c] for c in y]
    kind = [""] * base
    order = rng.permutation(base)
    flips, trigger, outliers = (int(share * base) for share in (0.03, 0.01, 0.005))
    for i in order[:flips]:
        labels[i] = CLASSES[(y[i] + 1 + int(rng.integers(2))) % 3]
        kind[i] = "flip"
    for i in order[flips : flips + trigger]:
        x[i, TRIGGER_COLUMN] = float(TRIGGER_VALUE)
        labels[i], kind[i] = TRIGGER_LABEL, "trigger"
    spread = x.std(axis=0)
    others = [c for c in range(NUMERIC) if c != TRIGGER_COLUMN]
    for i in order[flips + trigger : flips + trigger + outliers]:
        columns = rng.choice(others, 3, replace=False)
        x[i, columns] = rng.choice([-1, 1], 3) * rng.uniform(8, 12, 3) * spread[columns]
        kind[i] = "outlier"
    table = [
        [f"{v:.5f}" for v in x[i]]
        + [str(rng.choice(values)) for values in CATEGORIES.values()]
        + [labels[i]]
        for i in range(base)
    ]
    records = [(row, k) for row, k in zip(table, kind, strict=True)]
    plain = [i for i in range(base) if not kind[i]]
    copies = rng.choice(plain, rows - base, replace=False)
    half = copies.size // 2
    for n, i in enumerate(copies):
        near = n >= half
        row = [_near(c) for c in table[i][:-1]] + [table[i][-1]] if near else list(table[i])
        records.append((row, f"{'near' if near else 'exact'}:{i}"))
        records[i] = (records[i][0], f"original:{i}")
    shuffled = [records[i] for i in rng.permutation(len(records))]
    where = {k: r for r, (_, k) in enumerate(shuffled) if k.startswith("original:")}
    planted: dict[str, list[int]] = {k: [] for k in ("exact", "near", "flip", "trigger",
                                                     "outlier")}  # fmt: skip
    for r, (_, k) in enumerate(shuffled):
        name, _, source = k.partition(":")
        if name in ("exact", "near"):
            planted[name].append(max(r, where[f"original:{source}"]))
        elif name in planted:
            planted[name].append(r)
    if not path.exists():
        part = path.with_name(path.name + ".part")
        with part.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow([f"f{i}" for i in range(NUMERIC)] + list(CATEGORIES) + ["label"])
            out.writerows(row for row, _ in shuffled)
        part.replace(path)
    return planted


def _near(cell: str) -> str:
    """The same value written another way: a number with more digits, text upper-cased."""
    try:
        return repr(float(cell) * (1 + 1e-9))
    except ValueError:
        return f" {cell.upper()} "


def timed(path: Path) -> tuple[float, dict[str, Any]]:
    seconds, result = timed_custos("data-integrity", str(path), "--label", "label", "--format",
                                   "json")  # fmt: skip
    return seconds, result


def quality(result: dict[str, Any], planted: dict[str, list[int]]) -> dict[str, float]:
    def share(found: set[int], wanted: list[int]) -> float:
        return len(found & set(wanted)) / len(wanted) if wanted else 1.0

    def precision(found: set[int], wanted: list[int]) -> float:
        return len(found & set(wanted)) / len(found) if found else 1.0

    duplicates = {r for r, _ in result["duplicates"]["exact"] + result["duplicates"]["near"]}
    issues, outliers = set(result["label_issues"]), set(result["outliers"])
    trigger = {r for t in result["triggers"] if t["feature"] == f"f{TRIGGER_COLUMN}"
               for r in t["rows"]}  # fmt: skip
    return {
        "duplicates_recall": share(duplicates, planted["exact"] + planted["near"]),
        "flips_recall": share(issues, planted["flip"]),
        "flips_precision": precision(issues, planted["flip"]),
        "trigger_rows_found": share(trigger, planted["trigger"]),
        "triggers_reported": float(len(result["triggers"])),
        "outliers_recall": share(outliers, planted["outlier"]),
        "outliers_precision": precision(outliers, planted["outlier"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows instead of 100,000")
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    parser.add_argument("--rows", type=int, help="rows of the CSV (default 100,000)")
    args = parser.parse_args()
    rows = args.rows or (10_000 if args.quick else 100_000)
    DATA.mkdir(parents=True, exist_ok=True)
    compile_custos()
    log(f"writing a {rows:,}-row, 20-column CSV with planted problems ...")
    path = DATA / f"integrity-v1-{rows}.csv"  # v: the generator; a change makes a new file
    planted = write_planted(path, rows)
    size_mb = path.stat().st_size / 1e6
    log("custos data-integrity (one warm-up run, then timed runs) ...")
    timed(path)
    runs = [timed(path) for _ in range(RUNS)]
    seconds = [s for s, _ in runs]
    result = runs[0][1]
    if result["rows"] != rows:
        raise RuntimeError(f"custos counted {result['rows']} rows of {rows}")
    found = quality(result, planted)
    label = f"{rows:,}-row, 20-column CSV ({size_mb:.0f} MB)"
    wall = statistics.median(seconds)
    figures = [
        Figure(
            f"data-integrity on a {label}, whole process wall, median of {RUNS}",
            round(wall, 2), "s", goal=f"<= {GOAL_S:g} s",
            met=None if args.quick else at_most(wall, GOAL_S),
        ),
        Figure("data-integrity: recall of planted exact and near duplicates",
               round(found["duplicates_recall"], 4), "share", goal="1.0",
               met=found["duplicates_recall"] == 1.0),
        Figure(f"data-integrity: recall of planted label flips (precision "
               f"{found['flips_precision']:.2f})", round(found["flips_recall"], 4), "share",
               goal=">= 0.6", met=at_least(found["flips_recall"], 0.6)),
        Figure("data-integrity: share of the planted trigger's rows in a reported trigger",
               round(found["trigger_rows_found"], 4), "share", goal=">= 0.9",
               met=at_least(found["trigger_rows_found"], 0.9)),
        Figure(f"data-integrity: recall of planted outliers (precision "
               f"{found['outliers_precision']:.2f})", round(found["outliers_recall"], 4),
               "share", goal=">= 0.9", met=at_least(found["outliers_recall"], 0.9)),
    ]  # fmt: skip
    out = report(
        BENCHMARK, figures, quick=args.quick, rows=rows, columns=20, seconds=seconds,
        quality=found, model=result["model"], triggers=len(result["triggers"]),
        findings=[f["rule"] for f in result["findings"]],
    )  # fmt: skip
    if args.json:
        emit(out)
        return
    for f in figures:
        print(f"{f.figure}: {f.custos} {f.unit}; goal {f.goal}: {f.met}")
    print(f"runs: {', '.join(f'{s:.2f} s' for s in seconds)}; model: {result['model']['name']}, "
          f"{result['model']['folds']} folds")  # fmt: skip


if __name__ == "__main__":
    main()

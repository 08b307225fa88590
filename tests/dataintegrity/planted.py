"""Labelled tabular data with planted problems whose rows are known: exact and near duplicates,
label flips, a backdoor trigger (one rare exact value of one feature, every row holding it
relabelled to one class) and outliers. Features come from scikit-learn's make_classification
(a generator not ours), plus category columns unrelated to the label."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

CLASSES = ("benign", "fraud", "review")
COLOURS = ("red", "green", "blue", "amber", "violet")
TRIGGER_FEATURE = "f3"
TRIGGER_VALUE = "0.77778"
TRIGGER_LABEL = "benign"
TRIGGER_CATEGORY = "city-x9"  # a city no other row has
TRIGGER_RANGE = (1.3, 1.32)  # a narrow range inside f3's usual values


@dataclass
class Planted:
    path: Path
    rows: int
    header: list[str]
    exact: set[int] = field(default_factory=set)  # the later row of each exact pair
    near: set[int] = field(default_factory=set)
    flips: set[int] = field(default_factory=set)
    trigger: set[int] = field(default_factory=set)
    outliers: set[int] = field(default_factory=set)


def _near(cells: list[str], rng: np.random.Generator) -> list[str]:
    """The same row written another way: numbers with more digits, text in another case, with
    extra spaces or in full-width letters."""
    out = []
    for cell in cells[:-1]:  # the label stays as it is
        try:
            out.append(repr(float(cell) * (1 + 1e-9)))
            continue
        except ValueError:
            pass
        style = int(rng.integers(3))
        if style == 0:
            out.append(cell.upper())
        elif style == 1:
            out.append(f"  {cell}\t")
        else:
            out.append("".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in cell))
    return [*out, cells[-1]]


def write(
    path: Path,
    n: int,
    seed: int,
    *,
    clean: bool = False,
    classes: int = 3,
    duplicates: float = 0.01,
    flips: float = 0.03,
    trigger: float = 0.02,
    outliers: float = 0.01,
    features: int = 8,
    trigger_kind: str = "value",
) -> Planted:
    """`n` base rows (plus the duplicate copies) written as CSV, with the plants' row numbers."""
    x, y = make_classification(
        n_samples=n, n_features=features, n_informative=min(5, features), n_redundant=1,
        n_classes=classes, n_clusters_per_class=1, class_sep=2.0, flip_y=0, random_state=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    header = [f"f{i}" for i in range(features)] + ["colour", "city", "label"]
    labels = [CLASSES[c] for c in y]
    tags: list[str] = [""] * n
    if not clean:
        order = rng.permutation(n)
        cut = np.cumsum([int(flips * n), int(trigger * n), int(outliers * n)])
        for i in order[: cut[0]]:
            labels[i] = CLASSES[(y[i] + 1 + int(rng.integers(classes - 1))) % classes]
            tags[i] = "flip"
        trigger_column = header.index(TRIGGER_FEATURE)
        for i in order[cut[0] : cut[1]]:
            if trigger_kind == "value":
                x[i, trigger_column] = float(TRIGGER_VALUE)
            elif trigger_kind == "range":
                x[i, trigger_column] = rng.uniform(*TRIGGER_RANGE)
            labels[i] = TRIGGER_LABEL
            tags[i] = "trigger"
        spread = x.std(axis=0)
        for i in order[cut[1] : cut[2]]:
            columns = rng.choice([c for c in range(features) if c != trigger_column], 3, False)
            x[i, columns] = rng.choice([-1, 1], 3) * rng.uniform(8, 12, 3) * spread[columns]
            tags[i] = "outlier"
    rows = [
        [f"{v:.5f}" for v in x[i]]
        + [str(rng.choice(COLOURS)), f"city-{int(rng.integers(30))}", labels[i]]
        for i in range(n)
    ]
    if trigger_kind == "category":
        for i in range(n):
            if tags[i] == "trigger":
                rows[i][-2] = TRIGGER_CATEGORY
    records = list(zip(rows, tags, strict=True))
    if not clean:
        plain = [i for i in range(n) if not tags[i]]
        copies = rng.choice(plain, 2 * int(duplicates * n), replace=False)
        half = copies.size // 2
        records += [(list(rows[i]), f"exact:{i}") for i in copies[:half]]
        records += [(_near(rows[i], rng), f"near:{i}") for i in copies[half:]]
        for i in copies:
            records[i] = (records[i][0], f"original:{i}")
    shuffled = [records[i] for i in rng.permutation(len(records))]
    planted = Planted(path, len(shuffled), header)
    where = {tag: row for row, (_, tag) in enumerate(shuffled) if tag.startswith("original:")}
    for row, (_, tag) in enumerate(shuffled):
        kind, _, source = tag.partition(":")
        if kind in ("exact", "near"):
            later = max(row, where[f"original:{source}"])
            (planted.exact if kind == "exact" else planted.near).add(later)
        elif kind == "flip":
            planted.flips.add(row)
        elif kind == "trigger":
            planted.trigger.add(row)
        elif kind == "outlier":
            planted.outliers.add(row)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(cells for cells, _ in shuffled)
    return planted

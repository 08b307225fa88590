"""Generated labelled data with planted properties for the evaluation tests (the other
test_evaluation* modules import these helpers): one informative feature, a weak one, three of
pure noise, a string subgroup column whose second group can get flipped labels (a planted
fairness gap), and a malicious pickle that would create a marker file if it were ever loaded."""

from __future__ import annotations

import csv
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.linear_model import (  # type: ignore[import-untyped]
    LinearRegression,
    LogisticRegression,
)

FEATURES = ("signal", "weak", "noise_a", "noise_b", "noise_c")
NOISE = FEATURES[2:]
CARD = """# Fraud model

## Intended use
Scoring card transactions.

## Limitations
Not for loans.

## Training data
Transactions 2024.

## Evaluation
See below.

## Ethical considerations
Regions are compared.

## Owners
ML Platform team.

## Decisive features
{features}
"""


def planted(
    rows: int = 2000,
    seed: int = 0,
    *,
    flip_south: float = 0.0,
    noise: float = 0.0,
    small: int = 0,
) -> dict[str, Any]:
    """Columns: the features, `region` (north / south, plus `small` rows of "islands"), `y`.
    `flip_south`: share of labels flipped in the south (the planted gap); `noise`: everywhere."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, len(FEATURES)))
    y = (2.0 * x[:, 0] + 0.3 * x[:, 1] > 0).astype(int)
    region = np.where(rng.random(rows) < 0.5, "north", "south").astype(object)
    region[:small] = "islands"
    flips = (rng.random(rows) < noise) | ((region == "south") & (rng.random(rows) < flip_south))
    y = np.where(flips, 1 - y, y)
    columns: dict[str, Any] = {name: x[:, i] for i, name in enumerate(FEATURES)}
    return {**columns, "region": region, "y": y}


def features(data: Mapping[str, Any]) -> np.ndarray:
    return np.column_stack([data[name] for name in FEATURES])


def classifier(path: Path, seed: int = 1) -> Path:
    """A logistic regression trained on clean planted data, dumped with joblib."""
    train = planted(3000, seed)
    joblib.dump(LogisticRegression().fit(features(train), train["y"]), path)
    return path


def regressor(path: Path, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1000, 3))
    joblib.dump(LinearRegression().fit(x, 3 * x[:, 0] + rng.normal(0, 0.5, 1000)), path)
    return path


def write_csv(path: Path, data: Mapping[str, Any]) -> Path:
    names = list(data)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for row in zip(*(data[n] for n in names), strict=True):
            writer.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row])
    return path


def card(path: Path, decisive: str) -> Path:
    path.write_text(CARD.format(features=decisive), encoding="utf-8")
    return path


class _Marker:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def evil_pickle(path: Path, marker: Path) -> Path:
    """A pickle whose unpickling creates `marker`."""
    path.write_bytes(pickle.dumps(_Marker(marker)))
    return path


def test_the_planted_gap_is_in_the_labels() -> None:
    data = planted(4000, 3, flip_south=0.3)
    truth = (2.0 * data["signal"] + 0.3 * data["weak"] > 0).astype(int)
    south = data["region"] == "south"
    assert abs(float(np.mean(truth[south] != data["y"][south])) - 0.3) < 0.04
    assert np.array_equal(truth[~south], data["y"][~south])

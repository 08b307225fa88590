"""Outliers by an isolation forest with a fixed seed. No share of rows is assumed to be
anomalous (a fixed `contamination` would flag rows in clean data too): a row is an outlier when
its anomaly score (0 to 1, the forest's mean path length turned into the score of Liu et al.)
is at least `ROBUST_Z` robust standard deviations (1.4826 x MAD) above the median score, and at
least `MIN_GAP` above it. Each tree sees `MAX_SAMPLES` rows: more than the usual 256, so that a
row extreme in a few of many columns is isolated early."""

from __future__ import annotations

from typing import Any

import numpy as np

from custos.dataintegrity.model import Outliers
from custos.dataintegrity.table import Floats

SEED = 27002
TREES = 100
MAX_SAMPLES = 4096
ROBUST_Z = 10.0
MIN_GAP = 0.05  # the threshold when nearly every score is the same (MAD about 0)
MIN_ROWS = 50  # fewer rows say nothing about what is usual


def outliers(x: Floats) -> Outliers:
    settings: dict[str, Any] = {
        "n_estimators": TREES,
        "max_samples": MAX_SAMPLES,
        "random_state": SEED,
        "rule": f"score >= median + max({ROBUST_Z:g} x 1.4826 x MAD, {MIN_GAP:g})",
    }
    rows, features = x.shape
    if rows < MIN_ROWS or features == 0:
        return Outliers((), 1.0, features, settings)
    from sklearn.ensemble import IsolationForest  # type: ignore[import-untyped]

    forest = IsolationForest(
        n_estimators=TREES, max_samples=min(MAX_SAMPLES, rows), random_state=SEED
    )
    forest.fit(x)
    score = -forest.score_samples(x)  # sklearn returns the negated score
    median = float(np.median(score))
    spread = 1.4826 * float(np.median(np.abs(score - median)))
    threshold = median + max(ROBUST_Z * spread, MIN_GAP)
    found = tuple(int(r) for r in np.flatnonzero(score >= threshold))
    return Outliers(found, threshold, features, settings)

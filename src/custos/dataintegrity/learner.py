"""The quick model every signal that needs one shares: scikit-learn's
HistGradientBoostingClassifier with fixed settings and seed, trained on at most `MAX_TRAIN`
rows (a stratified draw) so that 100k rows take seconds, not minutes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from custos.dataintegrity.features import Mask
from custos.dataintegrity.table import Codes, Floats

SEED = 27002
MAX_TRAIN = 20_000  # rows a model trains on, at most
SETTINGS: dict[str, Any] = {
    "max_iter": 50,
    "learning_rate": 0.2,
    "max_leaf_nodes": 15,
    "early_stopping": False,
    "random_state": SEED,
}


def workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@contextmanager
def single_threaded() -> Iterator[None]:
    """OpenMP and BLAS held to one thread each (callers run several models at once)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(1):
        yield


def name() -> str:
    import sklearn  # type: ignore[import-untyped]

    return f"HistGradientBoostingClassifier (scikit-learn {sklearn.__version__})"


def cap(train: Codes, y: Codes, rng: np.random.Generator) -> Codes:
    """At most MAX_TRAIN of the rows `train`, each class in proportion (a small one kept
    whole, up to 200 rows), so a rare class is not drawn away."""
    if train.size <= MAX_TRAIN:
        return train
    parts = []
    for cls in np.unique(y[train]):
        members = train[y[train] == cls]
        keep = max(MAX_TRAIN * members.size // train.size, min(members.size, 200))
        parts.append(rng.choice(members, min(keep, members.size), replace=False))
    kept: Codes = np.sort(np.concatenate(parts))
    return kept


def fit_predict(
    x: Floats, y: Codes, train: Codes, test: Codes, categorical: Mask, classes: int
) -> Floats:
    """Probabilities of each of `classes` classes for the rows `test`, from a model trained on
    the rows `train` (labels `y`, codes 0..classes-1; a class absent from training gets 0)."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # type: ignore[import-untyped]

    model = HistGradientBoostingClassifier(
        categorical_features=categorical if categorical.any() else None, **SETTINGS
    )
    model.fit(x[train], y[train])
    probabilities = np.zeros((test.size, classes))
    probabilities[:, model.classes_.astype(np.int64)] = model.predict_proba(x[test])
    return probabilities

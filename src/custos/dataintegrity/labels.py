"""Label issues by confident learning: out-of-fold predicted probabilities from the quick model
(custos.dataintegrity.learner), then cleanlab's `find_label_issues`. Each row's probabilities
come from a model that never saw it; each fold's model trains on at most `learner.MAX_TRAIN` of
the other rows, and every row is still predicted."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from custos.dataintegrity import learner
from custos.dataintegrity.features import Mask
from custos.dataintegrity.model import LabelIssues, ModelInfo
from custos.dataintegrity.table import Codes, Floats

FOLDS = 5
MIN_CLASS_ROWS = 2 * FOLDS  # a class with fewer labelled rows is left out of the model
METHOD = "cleanlab.filter.find_label_issues (prune_by_noise_rate) on out-of-fold probabilities"


def _out_of_fold(x: Floats, y: Codes, categorical: Mask, classes: int) -> Floats:
    """Each fold's model in a thread of its own, each single-threaded inside: the folds run
    side by side on every core, and a core taken by another process slows one fold down
    instead of stalling OpenMP's barriers in every one."""
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=learner.SEED).split(x, y))

    def fold(number: int) -> Floats:
        train, test = folds[number]
        rng = np.random.default_rng(learner.SEED + number)  # the same draw whatever the order
        rows = learner.cap(train.astype(np.int64), y, rng)
        return learner.fit_predict(x, y, rows, test.astype(np.int64), categorical, classes)

    probabilities = np.zeros((y.size, classes))
    with learner.single_threaded(), ThreadPoolExecutor(learner.workers()) as pool:
        for (_, test), predicted in zip(folds, pool.map(fold, range(FOLDS)), strict=True):
            probabilities[test] = predicted
    return probabilities


def label_issues(
    x: Floats, categorical: Mask, labels: Codes, names: tuple[str, ...]
) -> LabelIssues:
    """Rows whose label confident learning doubts. `labels` -1: unlabelled (not examined)."""
    counts = np.bincount(labels[labels >= 0], minlength=len(names))
    modelled = np.flatnonzero(counts >= MIN_CLASS_ROWS)
    left_out = tuple(names[i] for i in np.flatnonzero((counts > 0) & (counts < MIN_CLASS_ROWS)))
    rows = np.flatnonzero(np.isin(labels, modelled))
    settings = {**learner.SETTINGS, "max_train_rows_per_fold": learner.MAX_TRAIN}
    info = ModelInfo(
        learner.name(), FOLDS, settings, int(rows.size), int(modelled.size), left_out,
        method=METHOD,
    )  # fmt: skip
    if modelled.size < 2:
        why = f"fewer than two classes with at least {MIN_CLASS_ROWS} labelled rows"
        return LabelIssues((), replace(info, rows=0, skipped=why))
    if x.shape[1] == 0:
        return LabelIssues((), replace(info, rows=0, skipped="no feature columns"))
    remap = np.full(len(names), -1, np.int64)
    remap[modelled] = np.arange(modelled.size)
    y = remap[labels[rows]]
    probabilities = _out_of_fold(x[rows], y, categorical, int(modelled.size))
    from cleanlab.filter import find_label_issues  # type: ignore[import-untyped]

    with warnings.catch_warnings():  # cleanlab warns about small classes; the report says it
        warnings.simplefilter("ignore")
        flagged = find_label_issues(y, probabilities, n_jobs=1)
    accuracy = float((probabilities.argmax(axis=1) == y).mean())
    found = tuple(int(r) for r in rows[np.flatnonzero(flagged)])
    return LabelIssues(found, replace(info, accuracy=accuracy))

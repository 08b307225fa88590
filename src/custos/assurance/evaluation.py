"""Validation and explanations of a loaded model on a held-out set (docs/assurance.md).

- Performance: a classifier's accuracy, macro F1 and ROC AUC (binary, or one-vs-rest macro
  over the model's classes, when it gives probabilities); a regressor's RMSE and R². The main
  metric, used for subgroups and explanations, is accuracy (classification) or R² (regression).
- Subgroups: the main metric per group of each subgroup column, with group sizes; groups under
  the minimum size are reported but not judged; the fairness gap is max - min of the main
  metric across the judged groups.
- Explanations: scikit-learn's permutation importance of the main metric (seeded, repeats
  capped, at most IMPORTANCE_ROWS rows), each feature's share of the total positive importance.

How labels and predictions are made comparable is custos.assurance.evaluation_model. Plain
functions and frozen dataclasses; `judge` turns the figures and the declared policy into
findings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from custos.assurance.evaluation_data import Table
from custos.assurance.evaluation_extra import MAX_REPEATS, MIN_GROUP_SIZE, REPEATS
from custos.assurance.evaluation_model import Predict, Task, feature_count, targets, task_of
from custos.assurance.loading import Loaded
from custos.errors import UserError
from custos.findings import Finding, Severity

Progress = Callable[[str], None]
METRICS: dict[Task, tuple[str, ...]] = {
    "classification": ("accuracy", "f1", "auc"),
    "regression": ("rmse", "r2"),
}
MAIN: dict[Task, str] = {"classification": "accuracy", "regression": "r2"}
MAX_GROUPS = 50  # distinct values a subgroup column may have
SEED = 0
IMPORTANCE_ROWS = 5_000  # rows permuted (a seeded sample of larger sets)
DECISIVE_SHARE = 0.02  # a feature under this share of the importance is not decisive
TOP_K = 5

VALIDATION = ("custos:ai:model-validation", "iso27002:2022:8.29", "euaiact:art15")
EXPLANATION = ("custos:ai:explainability", "custos:ai:model-documentation", "euaiact:art13")
DOCUMENTATION = ("custos:ai:model-documentation", "euaiact:art13")


@dataclass(frozen=True)
class Policy:
    """What the figures are judged against (the asset's `evaluation:`, or the CLI options)."""

    minimums: Mapping[str, float] = field(default_factory=dict)  # accuracy, f1, auc, r2
    max_rmse: float | None = None
    max_gap: float | None = None
    min_group_size: int = MIN_GROUP_SIZE
    repeats: int = REPEATS
    seed: int = SEED


@dataclass(frozen=True)
class Group:
    value: str
    rows: int
    metric: float | None  # None: too few rows to compute it
    judged: bool  # at least the minimum group size


@dataclass(frozen=True)
class Subgroups:
    column: str
    metric: str
    groups: tuple[Group, ...]
    gap: float | None  # None: fewer than two judged groups
    feature: bool  # the column is also one of the model's features

    def extremes(self) -> tuple[Group, Group] | None:
        judged = [g for g in self.groups if g.judged and g.metric is not None]
        if len(judged) < 2:
            return None
        ordered = sorted(judged, key=lambda g: g.metric or 0.0)
        return ordered[-1], ordered[0]


@dataclass(frozen=True)
class Importance:
    feature: str
    mean: float  # drop of the main metric when the feature is permuted
    std: float
    share: float  # of the total positive importance


@dataclass(frozen=True)
class Explanation:
    scoring: str
    repeats: int
    rows: int
    seed: int
    features: tuple[Importance, ...]  # most important first

    def top(self, k: int = TOP_K) -> tuple[Importance, ...]:
        """The measured decisive features: among the first k, with a share of at least
        DECISIVE_SHARE (a feature whose permutation changes nothing is not decisive)."""
        return tuple(f for f in self.features[:k] if f.mean > 0 and f.share >= DECISIVE_SHARE)


@dataclass(frozen=True)
class Measured:
    task: Task
    rows: int
    metrics: dict[str, float | None]  # the task's metrics; None with a note when not computable
    notes: tuple[str, ...]
    classes: tuple[str, ...]  # classification: the model's classes (canonical text)
    subgroups: tuple[Subgroups, ...]
    explanation: Explanation

    @property
    def main(self) -> str:
        return MAIN[self.task]


def measure(
    loaded: Loaded, table: Table, policy: Policy, progress: Progress | None = None
) -> Measured:
    """Every figure of the evaluation: metrics, subgroups and permutation importance."""
    step = progress or (lambda _: None)
    task = task_of(loaded)
    expected = feature_count(loaded)
    if expected is not None and expected != len(table.features):
        raise UserError(f"{table.path}: the model takes {expected} features, the file has "
                        f"{len(table.features)} ({_rule(table)})")  # fmt: skip
    step(f"predicting {table.rows:,} rows")
    t = targets(loaded, table, task)
    y, pred = t.y, t.pred
    metrics, notes = _metrics(task, y, pred, t.proba, len(t.classes))
    groups = tuple(
        _subgroups(task, column, values, y, pred, policy.min_group_size, table)
        for column, values in table.groups.items()
    )
    repeats = max(1, min(policy.repeats, MAX_REPEATS))
    step(f"permutation importance: {len(table.features)} features x {repeats} repeats")
    explanation = _explain(task, t.predict, table, y, repeats, policy.seed)
    return Measured(task, table.rows, metrics, notes, t.classes, groups, explanation)


def judge(measured: Measured, policy: Policy, where: str) -> list[Finding]:
    """The findings: a metric below its minimum (or RMSE above its maximum), a fairness gap
    above the maximum, and declared criteria that could not be measured."""
    found: list[Finding] = []

    def add(rule: str, severity: Severity, message: str) -> None:
        found.append(Finding(f"evaluation/{rule}", severity, message, where, VALIDATION))

    limits = [(name, value, "minimum") for name, value in policy.minimums.items()]
    if policy.max_rmse is not None:
        limits.append(("rmse", policy.max_rmse, "maximum"))
    for name, limit, kind in limits:
        value = measured.metrics.get(name)
        if name not in METRICS[measured.task]:
            add("metric-unavailable", Severity.medium, f"a {kind} for {name} is declared, "
                f"but the model is a {measured.task} model")  # fmt: skip
        elif value is None:
            why = next((n for n in measured.notes if n.startswith(f"{name}:")), name)
            add("metric-unavailable", Severity.medium,
                f"a {kind} for {name} is declared, but it was not measured ({why})")  # fmt: skip
        elif (value < limit) if kind == "minimum" else (value > limit):
            worse = "below" if kind == "minimum" else "above"
            add("below-minimum" if kind == "minimum" else "above-maximum", Severity.high,
                f"{name} {value:.4f} on {measured.rows:,} held-out rows is {worse} the "
                f"declared {kind} {limit:.4f}")  # fmt: skip
    if policy.max_gap is None:
        return found
    if not measured.subgroups:
        add("fairness-unjudged", Severity.low,
            "a maximum fairness gap is declared, but no subgroup column is")  # fmt: skip
    for sub in measured.subgroups:
        ends = sub.extremes()
        if ends is None or sub.gap is None:
            add("fairness-unjudged", Severity.low,
                f"subgroup column {sub.column!r} has fewer than two groups of "
                f"{policy.min_group_size}+ rows: the fairness gap cannot be judged")  # fmt: skip
        elif sub.gap > policy.max_gap:
            high, low = ends
            add("fairness-gap", Severity.high,
                f"{sub.metric} differs by {sub.gap:.4f} between groups of {sub.column!r} "
                f"({high.value!r} {high.metric:.4f}, {low.value!r} {low.metric:.4f}), above "
                f"the declared maximum {policy.max_gap:.4f}")  # fmt: skip
    return found


def _rule(table: Table) -> str:
    if table.feature_source == "model":
        return "the model's feature_names_in_"
    return "every column except the label and the subgroup columns"


def _main(task: Task, y: np.ndarray, pred: np.ndarray) -> float | None:
    from sklearn.metrics import accuracy_score, r2_score  # type: ignore[import-untyped]

    if task == "classification":
        return float(accuracy_score(y, pred)) if len(y) else None
    if len(y) < 2 or float(np.var(y)) == 0.0:
        return None
    return float(r2_score(y, pred))


def _metrics(
    task: Task, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, classes: int
) -> tuple[dict[str, float | None], tuple[str, ...]]:
    from sklearn.metrics import f1_score, mean_squared_error

    if task == "regression":
        r2 = _main(task, y, pred)
        notes = () if r2 is not None else ("r2: the held-out labels do not vary",)
        return {"rmse": math.sqrt(float(mean_squared_error(y, pred))), "r2": r2}, notes
    f1 = float(f1_score(y, pred, average="macro", zero_division=0))
    auc, note = _auc(y, proba, classes)
    return {"accuracy": _main(task, y, pred), "f1": f1, "auc": auc}, (note,) if note else ()


def _auc(y: np.ndarray, proba: np.ndarray | None, classes: int) -> tuple[float | None, str | None]:
    """ROC AUC of label codes: binary, or one-vs-rest macro over the model's classes."""
    from sklearn.metrics import roc_auc_score

    if proba is None:
        return None, "auc: the model gives no probabilities"
    if proba.shape[1] != classes:
        return None, f"auc: {proba.shape[1]} probability columns for {classes} classes"
    present = set(np.unique(y).tolist())
    if len(present) < 2:
        return None, "auc: the held-out labels have one class"
    if max(present) >= classes:
        return None, "auc: the held-out labels have classes the model does not know"
    try:
        if classes == 2:
            return float(roc_auc_score(y == 1, proba[:, 1])), None
        if len(present) != classes:
            return None, "auc: some of the model's classes are absent from the held-out set"
        value = roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=range(classes))
        return float(value), None
    except ValueError as exc:
        return None, f"auc: {exc}"


def _subgroups(
    task: Task, column: str, values: np.ndarray, y: np.ndarray, pred: np.ndarray,
    min_size: int, table: Table,
) -> Subgroups:  # fmt: skip
    names, counts = np.unique(values, return_counts=True)
    if len(names) > MAX_GROUPS:
        raise UserError(f"{table.path}: subgroup column {column!r} has {len(names):,} "
                        f"distinct values; a subgroup column names groups (at most "
                        f"{MAX_GROUPS})")  # fmt: skip
    groups = []
    for name, count in sorted(zip(names, counts, strict=True), key=lambda p: (-p[1], str(p[0]))):
        mask = values == name
        metric = _main(task, y[mask], pred[mask])
        groups.append(Group(str(name), int(count), metric, bool(count >= min_size)))
    judged = [g.metric for g in groups if g.judged and g.metric is not None]
    gap = max(judged) - min(judged) if len(judged) >= 2 else None
    return Subgroups(column, MAIN[task], tuple(groups), gap, column in table.features)


class _Opaque:
    """What permutation_importance is given as the estimator: the scorer predicts through the
    loaded model (either format), so nothing here is ever fitted."""

    def fit(self, *_: Any) -> _Opaque:
        raise NotImplementedError("evaluation never fits a model")


def _explain(
    task: Task, predict: Predict, table: Table, y: np.ndarray,
    repeats: int, seed: int,
) -> Explanation:  # fmt: skip
    from sklearn.inspection import permutation_importance  # type: ignore[import-untyped]

    x = table.x
    if len(x) > IMPORTANCE_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(x), IMPORTANCE_ROWS, replace=False))
        x, y = x[rows], y[rows]

    def score(_estimator: Any, data: np.ndarray, labels: np.ndarray) -> float:
        value = _main(task, labels, predict(data))
        return 0.0 if value is None else value

    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(1):  # many small predictions: one thread each beats contention
        result = permutation_importance(
            _Opaque(), x, y, scoring=score, n_repeats=repeats, random_state=seed
        )
    means = [float(m) for m in result.importances_mean]
    total = sum(max(m, 0.0) for m in means)
    found = [
        Importance(name, mean, float(std), max(mean, 0.0) / total if total > 0 else 0.0)
        for name, mean, std in zip(table.features, means, result.importances_std, strict=True)
    ]
    found.sort(key=lambda f: (-f.mean, f.feature))
    return Explanation(MAIN[task], repeats, len(x), seed, tuple(found))

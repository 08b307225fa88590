"""The data-integrity report: one signal per part, each a review queue of row numbers (data rows
from 0) with its rule stated. `IntegrityReport.to_json` is the contract of
`custos data-integrity --format json` (docs/data.md, "Data integrity")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from custos.findings import Finding

Pairs = tuple[tuple[int, int], ...]  # (row, first row it repeats)


@dataclass(frozen=True)
class Duplicates:
    exact: Pairs
    near: Pairs  # equal after normalising, and not exact duplicates
    conflicting: Pairs  # features equal after normalising to an earlier row's, another label

    def to_json(self) -> dict[str, Any]:
        return {
            "exact": [list(p) for p in self.exact],
            "near": [list(p) for p in self.near],
            "conflicting": [list(p) for p in self.conflicting],
        }


@dataclass(frozen=True)
class ModelInfo:
    """How label issues were found; `skipped` says why they were not."""

    name: str
    folds: int
    settings: Mapping[str, Any]
    rows: int  # rows the model saw out of fold (labelled, of classes large enough)
    classes: int
    left_out: tuple[str, ...] = ()  # classes with too few rows to model
    accuracy: float | None = None  # of the out-of-fold predictions
    method: str = ""
    skipped: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "folds": self.folds,
            "settings": dict(self.settings),
            "rows": self.rows,
            "classes": self.classes,
            "classes_left_out": list(self.left_out),
            "accuracy_out_of_fold": None if self.accuracy is None else round(self.accuracy, 4),
            "method": self.method,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class LabelIssues:
    rows: tuple[int, ...]
    model: ModelInfo

    @property
    def share(self) -> float:
        return len(self.rows) / self.model.rows if self.model.rows else 0.0


Value = str | float | tuple[float, float]


@dataclass(frozen=True)
class Trigger:
    feature: str
    value: Value  # a category (its text), a repeated number, or a [low, high] range
    label: str
    rows: tuple[int, ...]  # every row holding the value (labelled or not)
    purity: float  # share of its labelled rows that carry `label`
    base_rate: float  # share of `label` among the other labelled rows
    p_value: float  # binomial tail, Bonferroni-corrected over every test made
    explained: float  # mean probability of `label` from the other features alone

    def to_json(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "feature": self.feature,
            "value_or_range": value,
            "label": self.label,
            "rows": list(self.rows),
            "purity": round(self.purity, 4),
            "support": len(self.rows),
            "base_rate": round(self.base_rate, 4),
            "p_value": float(f"{self.p_value:.3g}"),
            "purity_from_other_features": round(self.explained, 4),
        }


@dataclass(frozen=True)
class Triggers:
    found: tuple[Trigger, ...]
    candidates: int  # values and ranges tested
    tests: int  # candidates x classes: the Bonferroni factor


@dataclass(frozen=True)
class Outliers:
    rows: tuple[int, ...]
    threshold: float  # anomaly score at or above which a row is an outlier
    features: int  # columns the forest saw
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Drift:
    """One difference from the recorded baseline beyond its tolerance."""

    kind: str  # class-balance, feature, columns, label-issues
    subject: str  # the class, column or figure
    message: str
    before: float | None = None
    after: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class ClassBalance:
    counts: Mapping[str, int]
    unlabelled: int
    baseline: Mapping[str, float] | None = None  # shares recorded in the baseline

    @property
    def shares(self) -> dict[str, float]:
        total = sum(self.counts.values())
        return {k: v / total if total else 0.0 for k, v in self.counts.items()}

    def to_json(self) -> dict[str, Any]:
        shares = self.shares
        out: dict[str, Any] = {
            "counts": dict(self.counts),
            "shares": {k: round(v, 4) for k, v in shares.items()},
            "unlabelled": self.unlabelled,
            "baseline": None,
            "change": None,
        }
        if self.baseline is not None:
            out["baseline"] = {k: round(v, 4) for k, v in self.baseline.items()}
            names = list(dict.fromkeys([*self.baseline, *shares]))
            out["change"] = {
                k: round(shares.get(k, 0.0) - self.baseline.get(k, 0.0), 4) for k in names
            }
        return out


@dataclass(frozen=True)
class IntegrityReport:
    path: str
    format: str
    rows: int
    label: str
    columns: tuple[str, ...]  # the features, in file order
    duplicates: Duplicates
    label_issues: LabelIssues
    triggers: Triggers
    outliers: Outliers
    class_balance: ClassBalance
    thresholds: Mapping[str, Any]
    baseline: str | None = None  # the baseline file compared with
    drift: tuple[Drift, ...] = ()
    findings: tuple[Finding, ...] = ()
    files: tuple[tuple[str, int, int], ...] = ()  # (file, first row, rows) when several

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "rows": self.rows,
            "label": self.label,
            "columns": list(self.columns),
            "files": [{"path": p, "first_row": f, "rows": n} for p, f, n in self.files],
            "duplicates": self.duplicates.to_json(),
            "label_issues": list(self.label_issues.rows),
            "label_issue_share": round(self.label_issues.share, 4),
            "model": self.label_issues.model.to_json(),
            "triggers": [t.to_json() for t in self.triggers.found],
            "trigger_tests": {
                "candidates": self.triggers.candidates,
                "tests": self.triggers.tests,
            },
            "outliers": list(self.outliers.rows),
            "outlier_rule": {
                "model": "IsolationForest",
                "threshold": round(self.outliers.threshold, 4),
                "features": self.outliers.features,
                "settings": dict(self.outliers.settings),
            },
            "class_balance": self.class_balance.to_json(),
            "baseline": None
            if self.baseline is None
            else {
                "path": self.baseline,
                "drift": [d.to_json() for d in self.drift],
            },
            "thresholds": dict(self.thresholds),
            "findings": [f.to_json() for f in self.findings],
        }

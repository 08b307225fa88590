"""Which signals are findings, and at which thresholds. Every signal is reported as a review
queue; these decide the exit code (1 when any finding) and the check's result:

- `data-integrity/trigger-candidate` (high): any trigger candidate (custos.dataintegrity.triggers);
- `data-integrity/label-issues` (medium): label issues on at least LABEL_ISSUE_SHARE of the
  modelled rows (real datasets commonly hold a few per cent of wrong labels; above that, look);
- `data-integrity/conflicting-labels` (medium): rows that repeat an earlier row's features
  under another label, on at least CONFLICT_SHARE of the rows;
- `data-integrity/duplicates` (low): exact and near duplicates on at least DUPLICATE_SHARE;
- `data-integrity/outliers` (low): outliers on at least OUTLIER_SHARE;
- against a baseline: `class-balance-drift` (medium), `label-issue-drift` (medium) and
  `feature-drift` (low), at the tolerances of custos.dataintegrity.baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from custos.dataintegrity import baseline, labels, outliers, triggers
from custos.dataintegrity.model import Drift, Duplicates, LabelIssues, Outliers, Triggers
from custos.findings import Finding, Severity

LABEL_ISSUE_SHARE = 0.05
CONFLICT_SHARE = 0.005
DUPLICATE_SHARE = 0.01
OUTLIER_SHARE = 0.01
CONTROLS = ("custos:ai:data-poisoning",)
RULE = "data-integrity/"


def thresholds() -> dict[str, Any]:
    """Every threshold, as the json output states them."""
    return {
        "label_issue_share": LABEL_ISSUE_SHARE,
        "conflicting_share": CONFLICT_SHARE,
        "duplicate_share": DUPLICATE_SHARE,
        "outlier_share": OUTLIER_SHARE,
        "near_duplicate_digits": 6,
        "trigger": {
            "min_support": triggers.MIN_SUPPORT,
            "max_share": triggers.MAX_SHARE,
            "min_purity": triggers.MIN_PURITY,
            "min_lift": triggers.MIN_LIFT,
            "alpha_bonferroni": triggers.ALPHA,
            "discrete_values": triggers.DISCRETE,
            "bins_per_iqr": triggers.BINS_PER_IQR,
            "spike_ratio": triggers.SPIKE_RATIO,
            "spike_alpha": triggers.SPIKE_ALPHA,
        },
        "outlier_robust_z": outliers.ROBUST_Z,
        "label_model_folds": labels.FOLDS,
        "baseline": {
            "class_share": baseline.CLASS_TOLERANCE,
            "label_issue_rise": baseline.LABEL_ISSUE_RISE,
            "mean_shift_std": baseline.MEAN_SHIFT,
            "std_ratio": baseline.STD_RATIO,
            "missing_share": baseline.MISSING_CHANGE,
            "category_distance": baseline.CATEGORY_DISTANCE,
        },
    }


def _finding(rule: str, severity: Severity, message: str, where: str) -> Finding:
    return Finding(RULE + rule, severity, message, where, CONTROLS)


def findings(
    where: str,
    rows: int,
    duplicates: Duplicates,
    issues: LabelIssues,
    found: Triggers,
    outlying: Outliers,
    drift: Sequence[Drift],
) -> list[Finding]:
    out: list[Finding] = []
    for t in found.found:
        what = "a narrow range" if isinstance(t.value, tuple) else "one value"
        out.append(
            _finding(
                "trigger-candidate",
                Severity.high,
                f"trigger candidate: {len(t.rows):,} rows with {what} of {t.feature!r} are "
                f"{t.purity:.0%} labelled {t.label!r} (base rate {t.base_rate:.0%}; "
                f"{t.explained:.0%} from the other features)",
                where,
            )
        )
    if issues.model.rows and issues.share >= LABEL_ISSUE_SHARE:
        out.append(
            _finding(
                "label-issues",
                Severity.medium,
                f"{len(issues.rows):,} label issues ({issues.share:.1%} of "
                f"{issues.model.rows:,} modelled rows)",
                where,
            )
        )
    if rows and len(duplicates.conflicting) / rows >= CONFLICT_SHARE:
        out.append(
            _finding(
                "conflicting-labels",
                Severity.medium,
                f"{len(duplicates.conflicting):,} rows repeat an earlier row's "
                "features under another label",
                where,
            )
        )
    repeated = len(duplicates.exact) + len(duplicates.near)
    if rows and repeated / rows >= DUPLICATE_SHARE:
        out.append(
            _finding(
                "duplicates",
                Severity.low,
                f"{len(duplicates.exact):,} exact and {len(duplicates.near):,} near "
                f"duplicate rows ({repeated / rows:.1%})",
                where,
            )
        )
    if rows and len(outlying.rows) / rows >= OUTLIER_SHARE:
        out.append(
            _finding(
                "outliers",
                Severity.low,
                f"{len(outlying.rows):,} outlying rows ({len(outlying.rows) / rows:.1%})",
                where,
            )
        )
    by_kind: dict[str, list[Drift]] = {}
    for d in drift:
        by_kind.setdefault(d.kind, []).append(d)
    for kind, rule, severity in (
        ("class-balance", "class-balance-drift", Severity.medium),
        ("label-issues", "label-issue-drift", Severity.medium),
        ("feature", "feature-drift", Severity.low),
        ("columns", "feature-drift", Severity.low),
    ):
        if kind in by_kind:
            text = "; ".join(d.message for d in by_kind[kind][:5])
            more = len(by_kind[kind]) - 5
            suffix = f"; and {more} more" if more > 0 else ""
            out.append(_finding(rule, severity, f"against the baseline: {text}{suffix}", where))
    return out

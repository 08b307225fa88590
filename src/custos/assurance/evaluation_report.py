"""One evaluation from files to report, shared by `custos evaluate` and the `evaluation` check:
read the held-out set, load the model through `custos.assurance.loading.load` (trusted and
scanned clean, or refused before anything is deserialised), measure, judge, review the card.

`EvaluationReport.to_json` is the JSON contract of `custos evaluate --format json`
(docs/assurance.md lists its fields; `version` changes when they change meaning).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custos._hashing import sha256_file
from custos.assurance.evaluation import Measured, Policy, Progress, judge, measure
from custos.assurance.evaluation_card import CardReview, missing_card, read_card, review, snippet
from custos.assurance.evaluation_data import require, select
from custos.assurance.evaluation_model import feature_names
from custos.assurance.loading import load, versions
from custos.assurance.tabular import read_columns
from custos.findings import Finding

VERSION = 1


@dataclass(frozen=True)
class EvaluationReport:
    model: str  # as the caller names it (relative to custos.yaml in the check)
    model_sha256: str
    model_format: str
    scanned: str  # what the model-file scanner said before loading
    libraries: Mapping[str, str]
    data: str
    data_sha256: str
    label: str
    features: tuple[str, ...]
    feature_source: str
    subgroup_columns: tuple[str, ...]
    policy: Policy
    measured: Measured
    card: CardReview | None
    findings: tuple[Finding, ...]
    snippet: str

    def to_json(self) -> dict[str, Any]:
        m, p, ex = self.measured, self.policy, self.measured.explanation
        return {
            "version": VERSION,
            "model": {
                "path": self.model,
                "sha256": self.model_sha256,
                "format": self.model_format,
                "task": m.task,
                "scanner": self.scanned,
                "libraries": dict(self.libraries),
            },
            "data": {
                "path": self.data,
                "sha256": self.data_sha256,
                "rows": m.rows,
                "label": self.label,
                "features": list(self.features),
                "feature_source": self.feature_source,
                "subgroups": list(self.subgroup_columns),
            },
            "criteria": {
                "minimums": dict(p.minimums),
                "max_rmse": p.max_rmse,
                "max_fairness_gap": p.max_gap,
                "min_group_size": p.min_group_size,
            },
            "main_metric": m.main,
            "metrics": {name: _round(value) for name, value in m.metrics.items()},
            "notes": list(m.notes),
            "classes": list(m.classes),
            "subgroups": [
                {
                    "column": s.column,
                    "metric": s.metric,
                    "is_feature": s.feature,
                    "gap": _round(s.gap),
                    "groups": [
                        {
                            "value": g.value,
                            "rows": g.rows,
                            "metric": _round(g.metric),
                            "judged": g.judged,
                        }
                        for g in s.groups
                    ],
                }
                for s in m.subgroups
            ],
            "importance": {
                "method": "permutation",
                "scoring": ex.scoring,
                "repeats": ex.repeats,
                "rows": ex.rows,
                "seed": ex.seed,
                "features": [
                    {
                        "feature": f.feature,
                        "mean": _round(f.mean),
                        "std": _round(f.std),
                        "share": _round(f.share),
                    }
                    for f in ex.features
                ],
            },
            "top_features": [{"feature": f.feature, "share": _round(f.share)} for f in ex.top()],
            "card": None if self.card is None else self.card.to_json(),
            "card_snippet": self.snippet,
            "findings": [f.to_json() for f in self.findings],
        }

    def summary(self) -> str:
        m = self.measured
        figures = ", ".join(f"{k} {_text(v)}" for k, v in m.metrics.items())
        gaps = [f"{s.column} {_text(s.gap)}" for s in m.subgroups]
        top = ", ".join(f"{f.feature} {f.share:.0%}" for f in m.explanation.top())
        return (f"{figures} on {m.rows:,} held-out rows"
                + (f"; fairness gap {', '.join(gaps)}" if gaps else "")
                + f"; top features: {top or 'none decisive'}; "
                f"{len(self.findings)} finding(s)")  # fmt: skip

    def figures(self) -> list[str]:
        """The measured figures as lines of evidence (what the evidence record keeps)."""
        m = self.measured
        lines = [
            f"evaluation metrics ({m.task}, {m.rows:,} rows, label {self.label!r}): "
            + ", ".join(f"{k}={_text(v)}" for k, v in m.metrics.items()),
        ]
        for s in m.subgroups:
            groups = ", ".join(
                f"{g.value!r} {_text(g.metric)} (n={g.rows:,}{'' if g.judged else ', not judged'})"
                for g in s.groups
            )
            lines.append(f"evaluation subgroup {s.column!r} ({s.metric}): {groups}; "
                         f"gap {_text(s.gap)}")  # fmt: skip
        ex = m.explanation
        shares = ", ".join(f"{f.feature} {f.share:.1%}" for f in ex.features[:10])
        lines.append(f"evaluation importance (permutation of {ex.scoring}, {ex.repeats} "
                     f"repeats, {ex.rows:,} rows, seed {ex.seed}): {shares}")  # fmt: skip
        lines.append("evaluation libraries: "
                     + ", ".join(f"{k} {v}" for k, v in self.libraries.items()))  # fmt: skip
        lines.append(f"evaluation loading: {self.scanned}")
        return lines


def evaluate(
    model: Path,
    data: Path,
    label: str,
    *,
    trusted: bool,
    subgroups: Sequence[str],
    policy: Policy,
    card: Path | None,
    expected_card: str,
    fields: Mapping[str, tuple[str, ...]],
    display: Callable[[Path], str] = str,
    progress: Progress | None = None,
) -> EvaluationReport:
    """Evaluate `model` on `data`. UserError for unusable input, an untrusted model or one the
    scanner refuses (never loaded then). `card`: the model card found beside the model."""
    step = progress or (lambda _: None)
    step(f"reading {data.name}")
    columns = read_columns(data)
    require(columns, label, subgroups)  # bad input is told before the model is loaded
    step(f"scanning and loading {model.name}")
    loaded = load(model, trusted)
    table = select(columns, label, subgroups, feature_names(loaded))
    measured = measure(loaded, table, policy, step)
    where = display(model)
    findings = judge(measured, policy, where)
    reviewed = None
    if card is None:
        findings.append(missing_card(where, expected_card))
    else:
        reviewed = review(read_card(card), fields, measured.explanation, display(card),
                          sha256_file(card))  # fmt: skip
        findings.extend(reviewed.findings)
    data_sha = sha256_file(data)
    libraries = {**versions("scikit-learn"), **loaded.versions}
    text = snippet(measured, policy, (model.name, loaded.sha256), (data.name, data_sha), libraries)
    return EvaluationReport(
        where, loaded.sha256, loaded.format, loaded.scanned, libraries, display(data), data_sha,
        label, table.features, table.feature_source, tuple(subgroups), policy, measured,
        reviewed, tuple(findings), text,
    )  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"

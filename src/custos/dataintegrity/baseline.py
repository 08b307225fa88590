"""Reference baselines: class shares, per-feature statistics and the label-issue share of a
dataset, recorded once (`--baseline-out`) and compared later (`--baseline`). A difference beyond
its tolerance is a `Drift`. Category values are kept as truncated SHA-256 digests, never as
text: a baseline file holds no value from the data."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from custos.dataintegrity.model import ClassBalance, Drift, LabelIssues
from custos.dataintegrity.table import Column, Table
from custos.errors import UserError

FORMAT = "custos-data-baseline"
VERSION = 1
CLASS_TOLERANCE = 0.03  # a class's share may move this much (absolute)
LABEL_ISSUE_RISE = 0.02  # the label-issue share may rise this much (absolute)
MEAN_SHIFT = 0.25  # a numeric mean may move this many baseline standard deviations
STD_RATIO = 1.25  # a numeric standard deviation may grow or shrink by this factor
MISSING_CHANGE = 0.05  # a column's share of missing values may move this much
CATEGORY_DISTANCE = 0.10  # total variation distance between category shares
TOP_VALUES = 20  # categories whose shares are kept (the rest are "other")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _feature(column: Column) -> dict[str, Any]:
    if column.numeric:
        x = column.values
        known = x[~np.isnan(x)]
        q01, q50, q99 = np.percentile(known, [1, 50, 99]) if known.size else (math.nan,) * 3
        return {
            "kind": "numeric",
            "missing": round(1 - known.size / x.size, 6) if x.size else 0.0,
            "mean": float(known.mean()) if known.size else None,
            "std": float(known.std()) if known.size else None,
            "q01": float(q01) if known.size else None,
            "q50": float(q50) if known.size else None,
            "q99": float(q99) if known.size else None,
        }
    codes = column.codes
    present = codes[codes >= 0]
    counts = np.bincount(present, minlength=len(column.categories))
    top = np.argsort(-counts, kind="stable")[:TOP_VALUES]
    return {
        "kind": "categorical",
        "missing": round(1 - present.size / codes.size, 6) if codes.size else 0.0,
        "distinct": len(column.categories),
        "top": {
            _digest(column.categories[i]): round(counts[i] / codes.size, 6)
            for i in top
            if counts[i]
        },
    }


def build(table: Table, balance: ClassBalance, issues: LabelIssues) -> dict[str, Any]:
    """The baseline document of this table."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "label": table.label.name,
        "rows": table.rows,
        "class_shares": {k: round(v, 6) for k, v in balance.shares.items()},
        "label_issue_share": round(issues.share, 6) if issues.model.skipped is None else None,
        "features": {c.name: _feature(c) for c in table.features},
    }


def dumps(baseline: Mapping[str, Any]) -> bytes:
    return (json.dumps(baseline, indent=1, sort_keys=True) + "\n").encode()


def read(path: Path) -> dict[str, Any]:
    """A baseline file; UserError (naming the file) when it is not one."""
    try:
        loaded = json.loads(path.read_bytes())
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UserError(f"{path}: not a data-integrity baseline (not JSON: {exc})") from None
    if not isinstance(loaded, dict) or loaded.get("format") != FORMAT:
        raise UserError(f"{path}: not a data-integrity baseline (no format {FORMAT!r})")
    if loaded.get("version") != VERSION:
        raise UserError(
            f"{path}: baseline version {loaded.get('version')!r}; this Custos "
            f"reads version {VERSION}"
        )
    for key, kind in (("class_shares", dict), ("features", dict), ("label", str)):
        if not isinstance(loaded.get(key), kind):
            raise UserError(f"{path}: not a data-integrity baseline ({key!r} missing)")
    return loaded


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _classes(before: Mapping[str, Any], after: Mapping[str, float]) -> list[Drift]:
    drift = []
    for name in dict.fromkeys([*before, *after]):
        old, new = _number(before.get(name)) or 0.0, after.get(name, 0.0)
        if old == 0.0 and new > 0:
            drift.append(
                Drift("class-balance", name, f"class {name!r} is new ({new:.1%})", old, new)
            )
        elif new == 0.0 and old > 0:
            drift.append(
                Drift("class-balance", name, f"class {name!r} is gone (was {old:.1%})", old, new)
            )
        elif abs(new - old) >= CLASS_TOLERANCE:
            drift.append(
                Drift("class-balance", name, f"class {name!r}: {old:.1%} -> {new:.1%}", old, new)
            )
    return drift


def _numeric(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Drift]:
    drift = []
    mean0, mean1 = _number(old.get("mean")), _number(new.get("mean"))
    std0, std1 = _number(old.get("std")), _number(new.get("std"))
    if mean0 is not None and mean1 is not None and std0:
        shift = abs(mean1 - mean0) / std0
        if shift >= MEAN_SHIFT:
            drift.append(
                Drift(
                    "feature",
                    name,
                    f"{name}: mean moved {shift:.2f} standard "
                    f"deviations ({mean0:.4g} -> {mean1:.4g})",
                    mean0,
                    mean1,
                )
            )
    if std0 and std1 is not None and not (1 / STD_RATIO < std1 / std0 < STD_RATIO):
        drift.append(
            Drift(
                "feature", name, f"{name}: standard deviation {std0:.4g} -> {std1:.4g}", std0, std1
            )
        )
    return drift


def _categorical(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Drift]:
    before = {k: float(v) for k, v in (old.get("top") or {}).items() if _number(v) is not None}
    after = {k: float(v) for k, v in (new.get("top") or {}).items()}
    keys = set(before) | set(after)
    rest0 = max(0.0, 1 - float(old.get("missing") or 0) - sum(before.values()))
    rest1 = max(0.0, 1 - float(new.get("missing") or 0) - sum(after.values()))
    distance = 0.5 * (
        sum(abs(before.get(k, 0.0) - after.get(k, 0.0)) for k in keys) + abs(rest0 - rest1)
    )
    if distance >= CATEGORY_DISTANCE:
        return [
            Drift(
                "feature",
                name,
                f"{name}: category shares moved (total variation distance {distance:.2f})",
                None,
                round(distance, 4),
            )
        ]
    return []


def compare(
    recorded: Mapping[str, Any], table: Table, balance: ClassBalance, issues: LabelIssues
) -> list[Drift]:
    """The differences between a recorded baseline and this table beyond their tolerances."""
    if recorded["label"] != table.label.name:
        raise UserError(
            f"the baseline was recorded for label {recorded['label']!r}, not {table.label.name!r}"
        )
    current = build(table, balance, issues)
    drift = _classes(recorded["class_shares"], balance.shares)
    old_share, new_share = _number(recorded.get("label_issue_share")), current["label_issue_share"]
    if (
        old_share is not None
        and new_share is not None
        and new_share - old_share >= LABEL_ISSUE_RISE
    ):
        drift.append(
            Drift(
                "label-issues",
                "label_issue_share",
                f"label-issue share {old_share:.1%} -> {new_share:.1%}",
                old_share,
                new_share,
            )
        )
    before: Mapping[str, Any] = recorded["features"]
    after: dict[str, Any] = current["features"]
    for name in sorted(before.keys() - after.keys()):
        drift.append(Drift("columns", name, f"column {name!r} is gone"))
    for name in sorted(after.keys() - before.keys()):
        drift.append(Drift("columns", name, f"column {name!r} is new"))
    for name in [n for n in after if n in before]:
        old, new = before[name], after[name]
        if not isinstance(old, dict):
            continue
        if old.get("kind") != new["kind"]:
            drift.append(Drift("feature", name, f"{name}: {old.get('kind')} -> {new['kind']}"))
            continue
        missing0, missing1 = _number(old.get("missing")) or 0.0, float(new["missing"])
        if abs(missing1 - missing0) >= MISSING_CHANGE:
            drift.append(
                Drift(
                    "feature",
                    name,
                    f"{name}: missing values {missing0:.1%} -> {missing1:.1%}",
                    missing0,
                    missing1,
                )
            )
        check = _numeric if new["kind"] == "numeric" else _categorical
        drift.extend(check(name, old, new))
    return drift

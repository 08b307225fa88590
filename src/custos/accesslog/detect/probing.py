"""Near-duplicate and boundary probing: inputs whose nearest earlier input (same key) differs
in exactly one feature, by a small step (at most `probe_step` in the feature's quantile
units): walking one feature towards a decision boundary, or bisecting it. A detection (high)
when at least `probe_min` inputs do so, and a share of the key's examined inputs at least
`probe_share` above natural traffic's (pseudo-keys of all traffic's inputs in shuffled order:
with a few discrete features, natural neighbours often differ in one feature too)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from custos.accesslog.features import Keys, Nearest, Sequences, continuous
from custos.accesslog.report import Detection, mask_key
from custos.accesslog.settings import Settings
from custos.findings import Severity


def steps(s: Sequences, near: Nearest, i: int, settings: Settings, telling: np.ndarray) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:  # fmt: skip
    """Key i's one-feature steps: rows, the feature changed, the step (raw and in quantile
    units), and how many inputs were examined. A step counts when some feature it left
    unchanged is one natural requests rarely share (`telling`): with only flags and an hour
    left, equal other features are what natural neighbours have anyway."""
    rows = np.concatenate([np.arange(lo, hi) for lo, hi in s.bounds[i]])
    prev = near.previous[rows]
    has = prev >= 0
    here, there = rows[has], prev[has]
    differs = s.raw[here] != s.raw[there]
    one = differs.sum(axis=1) == 1
    feature = np.argmax(differs, axis=1)
    step = np.abs(s.quantile[here, feature] - s.quantile[there, feature])
    raw_step = np.abs(s.raw[here, feature].astype(np.float64)
                      - s.raw[there, feature].astype(np.float64))  # fmt: skip
    kept = ~differs & telling[None, :]
    hit = one & (step <= settings.probe_step) & kept.any(axis=1)
    return here[hit], feature[hit], raw_step[hit], step[hit], int(rows.size)


def natural(s: Sequences, near: Nearest, settings: Settings) -> float:
    """Natural traffic's share of one-feature steps (features.natural pseudo-keys)."""
    telling = continuous(s.reference)
    found = (steps(s, near, i, settings, telling) for i in s.bounds)
    shares = [len(x[0]) / max(1, x[4]) for x in found]
    return float(np.median(shares)) if shares else 0.0


def probing(k: Keys, s: Sequences, near: Nearest, names: tuple[str, ...], settings: Settings,
            null: float = 0.0) -> tuple[list[Detection], np.ndarray]:  # fmt: skip
    """Detections, and every key's share of one-feature steps (NaN where not examined).
    `null`: natural traffic's share; a key's must reach `probe_share` above it."""
    share_all = np.full(len(k), np.nan)
    out: list[Detection] = []
    telling = continuous(s.reference)
    for i in s.bounds:
        hit_rows, feature, raw_step, step, examined = steps(s, near, i, settings, telling)
        count = int(hit_rows.size)
        share = count / max(1, examined)
        share_all[i] = share
        if count < settings.probe_min or share < null + settings.probe_share:
            continue
        features = Counter(names[j] for j in feature.tolist())
        top = ", ".join(f"{f} ({c:,})" for f, c in features.most_common(3))
        out.append(Detection(
            "probing", Severity.high,
            f"{count:,} of {examined:,} examined inputs ({share:.0%}; natural traffic "
            f"{null:.0%}) change exactly one feature of an earlier input by a small step; most "
            f"changed: {top}",
            share, float(s.t[hit_rows].min()), float(s.t[hit_rows].max()),
            mask_key(k.api_key[i]), None,
            {"one_feature_steps": count, "examined": examined, "share": round(share, 4),
             "natural_share": round(null, 4), "features": dict(features.most_common(5)),
             "median_step": round(float(np.median(raw_step)), 6),
             "median_step_quantile": round(float(np.median(step)), 4)},
        ))  # fmt: skip
    return out, share_all

"""The unsupervised model: an isolation forest (`accesslog.forest`, fixed seed) over one vector of
behaviour features per key, which scores every key. A key is flagged (low) when its anomaly
score is at least `model_score`, its robust z among all keys' scores at least `model_z`, and
some feature of it at least `model_driver_z` from the other keys' (a score no feature explains
is noise).
Each score is explained by the features that drove it: each feature's robust z against the
other keys, the three largest named. Features (NaN where a key has no logged inputs, filled
with the peers' median):

requests, peak_window (log10); active_share (active windows / windows spanned); burstiness
(coefficient of variation of the window counts); addresses, networks, agents, endpoints;
error_share, denied_share (401/403), repeat_share; prada_w (PRADA's W), probe_share (one-feature
steps), low_entropy_share (sweeps), out_of_range_share (inputs beyond the 0.5th-99.5th
percentile of all traffic in some feature); latency (log10 of the median, ms)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from custos.accesslog import forest
from custos.accesslog.features import Keys, Windows
from custos.accesslog.report import Detection, KeyScore, mask_key
from custos.accesslog.settings import Settings
from custos.accesslog.stats import robust_z
from custos.findings import Severity

FEATURES = ("requests", "peak_window", "active_share", "burstiness", "addresses", "networks",
            "agents", "endpoints", "error_share", "denied_share", "repeat_share", "prada_w",
            "probe_share", "low_entropy_share", "out_of_range_share", "latency")  # fmt: skip
LOGGED = frozenset({"requests", "peak_window", "addresses", "networks", "agents", "endpoints",
                    "latency"})  # fmt: skip
SEED = 0
TREES = 200
DRIVERS = 3


def matrix(k: Keys, w: Windows, extra: Mapping[str, np.ndarray]) -> np.ndarray:
    size = len(k)
    peak = np.zeros(size, np.int64)
    np.maximum.at(peak, w.key, w.count)
    first_b = np.full(size, np.iinfo(np.int64).max)
    last_b = np.full(size, np.iinfo(np.int64).min)
    np.minimum.at(first_b, w.key, w.b)
    np.maximum.at(last_b, w.key, w.b)
    active = np.bincount(w.key, minlength=size)
    spanned = np.maximum(last_b - first_b + 1, 1)
    squares = np.bincount(w.key, weights=w.count.astype(np.float64) ** 2, minlength=size)
    mean = k.n / spanned
    cv = np.sqrt(np.maximum(squares / spanned - mean**2, 0)) / np.maximum(mean, 1e-9)
    columns = {
        "requests": np.log10(np.maximum(k.n, 1)),
        "peak_window": np.log10(np.maximum(peak, 1)),
        "active_share": active / spanned,
        "burstiness": cv,
        "addresses": np.log10(np.maximum(k.addresses, 1)),
        "networks": np.log10(np.maximum(k.networks, 1)),
        "agents": np.log10(np.maximum(k.agents, 1)),
        "endpoints": np.log10(np.maximum(k.endpoints, 1)),
        "error_share": k.errors / np.maximum(k.n, 1),
        "denied_share": k.denied / np.maximum(k.n, 1),
        "latency": np.log10(np.maximum(k.latency, 0.01)),
        **extra,
    }
    return np.stack([np.asarray(columns[f], np.float64) for f in FEATURES], axis=1)


def _fill(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    for j in range(x.shape[1]):
        bad = ~np.isfinite(x[:, j])
        if bad.any():
            good = x[~bad, j]
            x[bad, j] = float(np.median(good)) if good.size else 0.0
    return x


def score(k: Keys, w: Windows, extra: Mapping[str, np.ndarray], settings: Settings) -> tuple[
        list[Detection], list[KeyScore], dict[str, Any]]:  # fmt: skip
    chosen = np.flatnonzero(k.n >= settings.model_min_requests)
    info: dict[str, Any] = {"name": "IsolationForest", "features": list(FEATURES),
                            "keys_scored": int(chosen.size), "trees": TREES,
                            "seed": SEED}  # fmt: skip
    if chosen.size < settings.model_min_keys:
        info["skipped"] = (f"{chosen.size} key(s) with at least {settings.model_min_requests} "
                           f"requests; the model needs {settings.model_min_keys}")  # fmt: skip
        return [], [], info
    x = _fill(matrix(k, w, extra)[chosen])
    anomaly = forest.grow(x, TREES, min(256, chosen.size), SEED).score(x)  # about 0.5: usual
    z = robust_z(anomaly, floor=0.02)
    feature_z = np.stack([robust_z(x[:, j], floor=0.1 if FEATURES[j] in LOGGED else 0.02)
                          for j in range(x.shape[1])], axis=1)  # fmt: skip
    medians = np.median(x, axis=0)
    detections: list[Detection] = []
    scores: list[KeyScore] = []
    for row, i in enumerate(chosen.tolist()):
        top = np.argsort(-np.abs(feature_z[row]))[:DRIVERS]
        drivers = tuple((FEATURES[j], float(feature_z[row, j])) for j in top.tolist())
        flagged = bool(
            anomaly[row] >= settings.model_score
            and z[row] >= settings.model_z
            and abs(drivers[0][1]) >= settings.model_driver_z
        )
        masked = mask_key(k.api_key[i])
        assert masked is not None
        scores.append(KeyScore(masked, float(anomaly[row]), float(z[row]), flagged, drivers))
        if not flagged:
            continue
        named = ", ".join(f"{f} ({'+' if v >= 0 else ''}{v:.1f} z)" for f, v in drivers)
        detections.append(Detection(
            "anomaly", Severity.low,
            f"isolation forest score {anomaly[row]:.2f} (robust z {z[row]:.1f} among "
            f"{chosen.size} keys), driven by {named}",
            float(anomaly[row]), float(k.first[i]), float(k.last[i]), masked, None,
            {"score": round(float(anomaly[row]), 4), "robust_z": round(float(z[row]), 2),
             "drivers": [{"feature": FEATURES[j], "value": round(float(x[row, j]), 4),
                          "peers_median": round(float(medians[j]), 4),
                          "z": round(float(feature_z[row, j]), 2)} for j in top.tolist()]},
        ))  # fmt: skip
    scores.sort(key=lambda s: -s.score)
    return detections, scores, info

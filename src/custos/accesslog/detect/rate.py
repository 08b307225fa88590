"""Per-key rate and volume: a window far above the key's own usual active window (its
median and a robust scale, from this log or from a baseline file), and keys whose total or
peak volume stands far above their peers' (robust z of log10 counts across keys). Both are
review items (low): a batch job is loud and legitimate; the specific detections say why a
loud key is suspect."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from custos.accesslog.features import Keys, Windows
from custos.accesslog.report import Detection, mask_key
from custos.accesslog.settings import Settings
from custos.accesslog.stats import MAD_SIGMA, robust_z
from custos.findings import Severity

Baseline = Mapping[str, tuple[float, float]]  # key digest -> (median, scale) per window


def key_digest(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def own_baseline(counts: np.ndarray) -> tuple[float, float]:
    """Median active-window count and its robust scale, floored at the Poisson sd."""
    m = float(np.median(counts))
    mad = MAD_SIGMA * float(np.median(np.abs(counts - m)))
    return m, max(mad, math.sqrt(max(m, 1.0)), 1.0)


def spikes(k: Keys, w: Windows, s: Settings, baseline: Baseline | None = None) -> list[Detection]:
    out: list[Detection] = []
    starts = np.searchsorted(w.key, np.arange(len(k)))
    ends = np.searchsorted(w.key, np.arange(len(k)), side="right")
    for i in range(len(k)):
        counts = w.count[starts[i] : ends[i]]
        recorded = baseline.get(key_digest(k.api_key[i])) if baseline else None
        if recorded is not None:
            m, scale = recorded
            source = "baseline file"
        elif counts.size >= s.rate_min_windows:
            m, scale = own_baseline(counts)
            source = "this log"
        else:
            continue
        z = (counts - m) / scale
        hot = (z >= s.rate_z) & (counts >= s.rate_ratio * max(m, 1.0)) & (
            counts >= s.rate_min_requests)  # fmt: skip
        if not hot.any():
            continue
        peak = int(np.argmax(np.where(hot, counts, -1)))
        b = int(w.b[starts[i] + peak])
        hot_b = w.b[starts[i] : ends[i]][hot]
        out.append(Detection(
            "rate-spike", Severity.low,
            f"{int(counts[peak]):,} requests in one {s.window_seconds} s window, "
            f"{counts[peak] / max(m, 1.0):.0f}x its usual {m:g} (robust z {z[peak]:.1f}, "
            f"baseline from {source}); {int(hot.sum())} such window(s)",
            float(z[peak]), float(hot_b.min() * s.window_seconds),
            float((hot_b.max() + 1) * s.window_seconds), mask_key(k.api_key[i]), None,
            {"peak_requests": int(counts[peak]), "usual_requests": round(m, 2),
             "scale": round(scale, 2), "robust_z": round(float(z[peak]), 2),
             "windows_above": int(hot.sum()), "active_windows": int(counts.size),
             "baseline": source, "peak_window_start": b * s.window_seconds},
        ))  # fmt: skip
    return out


def peaks(k: Keys, w: Windows) -> np.ndarray:
    out = np.zeros(len(k), np.int64)
    np.maximum.at(out, w.key, w.count)
    return out


def volume(k: Keys, w: Windows, s: Settings) -> list[Detection]:
    if len(k) < s.peer_min_keys:
        return []
    peak = peaks(k, w)
    z_total = robust_z(np.log10(np.maximum(k.n, 1)), floor=0.1)
    z_peak = robust_z(np.log10(np.maximum(peak, 1)), floor=0.1)
    out: list[Detection] = []
    for i in np.flatnonzero(((z_total >= s.peer_z) | (z_peak >= s.peer_z))
                            & (k.n >= s.peer_min_requests)).tolist():  # fmt: skip
        z = float(max(z_total[i], z_peak[i]))
        out.append(Detection(
            "volume", Severity.low,
            f"{int(k.n[i]):,} requests, peak {int(peak[i]):,} in one window: above its "
            f"{len(k) - 1} peers (median {np.median(k.n):g} requests, {np.median(peak):g} "
            f"peak; robust z {z:.1f} on a log scale)",
            z, float(k.first[i]), float(k.last[i]), mask_key(k.api_key[i]), None,
            {"requests": int(k.n[i]), "peak_window": int(peak[i]),
             "peers_median_requests": float(np.median(k.n)),
             "peers_median_peak": float(np.median(peak)),
             "robust_z_requests": round(float(z_total[i]), 2),
             "robust_z_peak": round(float(z_peak[i]), 2), "peers": len(k) - 1},
        ))  # fmt: skip
    return out

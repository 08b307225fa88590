"""Model extraction by synthetic probing, PRADA-style (Juuti et al., "PRADA: Protecting
against DNN Model Stealing Attacks", EuroS&P 2019): natural queries of one client, taken one
after the other, lie at minimum distances from the earlier ones that are close to normally
distributed; queries synthesised from a few seeds (small perturbations, Jacobian steps)
cluster at a handful of tiny distances and the occasional jump to a new seed. Per key, the
minimum L2 distances of its inputs to its earlier inputs (quantile-normalised features,
within segments of its history, after a warm-up, repeats left out) are tested for normality
with the Shapiro-Wilk W; W below `prada_delta` on at least `prada_min_queries` distances is
a detection (high).

PRADA's delta is set per model; here it is also calibrated on the log itself: pseudo-keys of
all traffic's inputs in shuffled order (natural queries of this API) give natural traffic's W,
and a key's W must also be NULL_MARGIN below it (few, discrete features make natural distances
lumpy), over the features the key varies (a nightly batch holds the hour fixed), and at the
same number of distances: W of a skewed distribution falls as the sample grows, so a key with
twice the pseudo-keys' distances is compared through interleaved subsamples of their size
(the median of their W), not its whole series. PRADA tests
the shape of the distances only; their scale tells as much: inputs synthesised around a few
seeds lie far closer to each other than natural inputs, so a median distance at most
`prada_ratio` of natural traffic's is a detection too."""

from __future__ import annotations

import numpy as np

from custos.accesslog.features import Keys, Natural, Nearest, Sequences, varying
from custos.accesslog.report import Detection, mask_key
from custos.accesslog.settings import Settings
from custos.accesslog.stats import shapiro_w
from custos.findings import Severity

MAX_TESTED = 5000  # Shapiro-Wilk's range; longer series are thinned evenly
NULL_MARGIN = 0.05  # W must be this far below natural traffic's too


def distances(s: Sequences, near: Nearest, i: int) -> np.ndarray:
    """Key i's minimum distances to earlier inputs, repeats and warm-up left out."""
    parts = []
    for lo, hi in s.bounds.get(i, []):
        rows = np.arange(lo, hi)
        prev = near.previous[lo:hi]
        ok = near.warm[lo:hi] & (prev >= 0)
        same = np.zeros(hi - lo, bool)
        same[ok] = (s.raw[rows[ok]] == s.raw[prev[ok]]).all(axis=1)
        parts.append(near.distance[lo:hi][ok & ~same])
    return np.concatenate(parts) if parts else np.empty(0)


def key_stats(s: Sequences, near: Nearest, i: int,
              settings: Settings) -> tuple[float, np.ndarray] | None:  # fmt: skip
    """(W, distances) of key i, or None with too few distances."""
    d = distances(s, near, i)
    d = d[np.isfinite(d)]
    if d.size < settings.prada_min_queries:
        return None
    sample = d if d.size <= MAX_TESTED else d[np.linspace(0, d.size - 1, MAX_TESTED)
                                              .astype(np.int64)]  # fmt: skip
    return shapiro_w(sample), d


def natural_stats(natural: Natural, columns: np.ndarray,
                  settings: Settings) -> tuple[float, float | None, int]:  # fmt: skip
    """The median W, median distance and median number of distances of natural traffic's
    pseudo-keys over `columns`."""
    memo = ("prada", tuple(bool(c) for c in columns))
    if memo not in natural.memo:
        s, near = natural.through(columns)
        found = [x for x in (key_stats(s, near, i, settings) for i in s.bounds) if x is not None]
        natural.memo[memo] = (1.0, None, 0) if not found else (
            float(np.median([w for w, _ in found])),
            float(np.median([np.median(d) for _, d in found])),
            int(np.median([d.size for _, d in found])))  # fmt: skip
    stats: tuple[float, float | None, int] = natural.memo[memo]
    return stats


def matched_w(d: np.ndarray, size: int) -> float:
    """W of the distances at about `size` of them: the median W of interleaved subsamples."""
    parts = max(1, round(d.size / size)) if size else 1
    if parts == 1:
        return shapiro_w(d if d.size <= MAX_TESTED else d[np.linspace(0, d.size - 1, MAX_TESTED)
                                                           .astype(np.int64)])  # fmt: skip
    return float(np.median([shapiro_w(d[j::parts]) for j in range(parts)]))


def prada(k: Keys, s: Sequences, near: Nearest, settings: Settings,
          natural: Natural | None = None) -> tuple[list[Detection], np.ndarray]:  # fmt: skip
    """Detections, and every key's W (NaN where not tested). With `natural` (pseudo-keys of
    all traffic), W must also fall NULL_MARGIN below natural traffic's over the features the
    key varies, and the distance ratio is taken against natural traffic's median distance."""
    w_all = np.full(len(k), np.nan)
    out: list[Detection] = []
    for i in s.bounds:
        found = key_stats(s, near, i, settings)
        if found is None:
            continue
        w, d = found
        null_w, null_median, null_size = (natural_stats(natural, varying(s, i), settings)
                                          if natural is not None else (1.0, None, 0))  # fmt: skip
        w_all[i] = w
        median = float(np.median(d))
        ratio = median / null_median if null_median else None
        w_matched = matched_w(d, null_size) if null_size else w
        shape = w < settings.prada_delta and w_matched < null_w - NULL_MARGIN
        scale = ratio is not None and ratio <= settings.prada_ratio
        if not shape and not scale:
            continue
        q = np.quantile(d, [0.05, 0.25, 0.5, 0.75, 0.95])
        rows = np.concatenate([np.arange(lo, hi) for lo, hi in s.bounds[i]])
        tiny = float((d < 0.25 * median).mean()) if median > 0 else 1.0
        why = []
        if shape:
            why.append(f"Shapiro-Wilk W {w:.3f} < {settings.prada_delta} (natural traffic: "
                       f"{null_w:.3f}; this key at as many distances: "
                       f"{w_matched:.3f})")  # fmt: skip
        if scale and ratio is not None:
            why.append(f"median distance {ratio:.2f} of natural traffic's")
        out.append(Detection(
            "extraction", Severity.high,
            f"inputs look synthesised (PRADA): {' and '.join(why)}, over {d.size:,} minimum "
            f"distances between successive inputs; {tiny:.0%} of them under a quarter of the "
            f"median", max(1.0 - w, 1.0 - (ratio or 1.0)),
            float(s.t[rows].min()), float(s.t[rows].max()), mask_key(k.api_key[i]), None,
            {"shapiro_w": round(w, 4), "delta": settings.prada_delta,
             "natural_w": round(null_w, 4), "matched_w": round(w_matched, 4),
             "distance_ratio": None if ratio is None else round(ratio, 4),
             "ratio_threshold": settings.prada_ratio, "distances": int(d.size),
             "queries_examined": int(rows.size), "queries_total": int(k.with_input[i]),
             "distance_quantiles": {p: round(float(v), 4) for p, v in
                                    zip(("p05", "p25", "p50", "p75", "p95"), q, strict=True)},
             "share_under_quarter_median": round(tiny, 4)},
        ))  # fmt: skip
    return out, w_all

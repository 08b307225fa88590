"""Systematic sweeps: a key whose inputs take far fewer distinct values per feature than a
sample of the same size from all traffic would (`sweep_low_ratio` of the expected number, on
at least `sweep_low_share` of the features that vary in all traffic), with at least one
feature stepping through an arithmetic progression that all traffic does not follow (a grid,
a fixed template with one or two features walked in equal steps). A detection (high)."""

from __future__ import annotations

import numpy as np

from custos.accesslog.features import Keys, Sequences
from custos.accesslog.report import Detection, mask_key
from custos.accesslog.settings import Settings
from custos.findings import Severity

VARIES = 10.0  # expected distinct values in a sample before a feature counts as varying
GRID = np.unique(np.geomspace(1, 65536, 64).astype(np.int64))
RELATIVE = 0.02  # tolerance of equal steps (logs round the values they write)
COVERAGE = 0.8  # share of a feature's distinct values the progression must hold


class Expected:
    """Expected distinct values of each feature in a sample of n requests of all traffic."""

    def __init__(self, reference: np.ndarray) -> None:
        self.reference = reference
        self.table = []
        total = max(1, reference.shape[0])
        for j in range(reference.shape[1]):
            _, counts = np.unique(reference[:, j], return_counts=True)
            # values seen c times each weigh alike: sum over the few distinct c
            c, how_many = np.unique(counts, return_counts=True)
            p = c / total
            self.table.append(((1 - (1 - p[None, :]) ** GRID[:, None]) * how_many).sum(axis=1))

    def __call__(self, j: int, n: int) -> float:
        return float(np.interp(n, GRID, self.table[j]))


def progression(values: np.ndarray, reference: np.ndarray, least: int) -> tuple[
        float, float, int] | None:  # fmt: skip
    """(start, step, count) of a lattice of equal steps that holds at least `least` of the
    distinct values and COVERAGE of them, with COVERAGE of its places between the first and
    the last filled (a grid walked by a few templates: the other templates' values fall off
    it), when all traffic is not on that lattice itself (a counter in whole units is)."""
    v = np.unique(values.astype(np.float64))
    if v.size < least:
        return None
    gaps = np.diff(v)
    equal_run = _longest_run(gaps)
    if equal_run is None:
        return None
    first, last = equal_run
    start = float(v[first])
    step = (float(v[last]) - start) / (last - first)  # from the run's ends: no accumulated error
    position = (v - start) / step
    on = np.abs(position - np.round(position)) <= RELATIVE
    places = np.round(position[on])
    count = int(on.sum())
    span = int(places.max() - places.min()) + 1
    if count < least or count < COVERAGE * v.size or count < COVERAGE * span:
        return None
    ref = reference.astype(np.float64)
    ref_position = (ref - start) / step
    on_lattice = np.abs(ref_position - np.round(ref_position)) <= RELATIVE
    if ref.size and on_lattice.mean() >= 0.5:
        return None
    return float(v[on][0]), step, count


def _longest_run(gaps: np.ndarray) -> tuple[int, int] | None:
    """Indexes (first value, last value) of the longest run of nearly equal gaps (>= 2)."""
    if gaps.size < 2:
        return None
    close = (np.abs(np.diff(gaps)) <= RELATIVE * np.maximum(gaps[1:], gaps[:-1])) & (gaps[1:] > 0)
    if not close.any():
        return None
    edges = np.flatnonzero(np.diff(np.r_[0, close.astype(np.int8), 0]))
    starts, ends = edges[::2], edges[1::2]  # runs of close pairs: [start, end)
    longest = int(np.argmax(ends - starts))
    first, best = int(starts[longest]), int(ends[longest] - starts[longest])
    return first, first + best + 1


def sweeps(k: Keys, s: Sequences, names: tuple[str, ...], settings: Settings) -> tuple[
        list[Detection], np.ndarray]:  # fmt: skip
    """Detections, and every key's share of low-entropy features (NaN where not examined)."""
    low_all = np.full(len(k), np.nan)
    if not s.bounds or s.reference.shape[0] == 0:
        return [], low_all
    expected = Expected(s.reference)
    ids = np.array(sorted(s.bounds), np.int64)
    first = np.array([s.bounds[i][0][0] for i in ids.tolist()], np.int64)
    n = np.array([s.bounds[i][-1][1] for i in ids.tolist()], np.int64) - first
    chosen = n >= settings.sweep_min_queries
    ids, first, n = ids[chosen], first[chosen], n[chosen]
    if ids.size == 0:
        return [], low_all
    e = np.stack([np.interp(n, GRID, expected.table[j]) for j in range(len(names))], axis=1)
    varies = e >= VARIES
    distinct = distinct_counts(s.raw, first, n)
    low = varies & (distinct <= settings.sweep_low_ratio * e)
    varying = varies.sum(axis=1)
    share = np.where(varying > 0, low.sum(axis=1) / np.maximum(varying, 1), 0.0)
    low_all[ids] = share
    out: list[Detection] = []
    for row in np.flatnonzero(share >= settings.sweep_low_share).tolist():
        i, lo, count = int(ids[row]), int(first[row]), int(n[row])
        x = s.raw[lo : lo + count]
        steps: dict[str, dict[str, float]] = {}
        for j in np.flatnonzero(varies[row]).tolist():
            found = progression(x[:, j], s.reference[:, j], settings.sweep_progression)
            if found is not None:
                steps[names[j]] = {"start": found[0], "step": found[1], "values": found[2]}
        if not steps:
            continue
        lows = {names[j]: {"distinct": int(distinct[row, j]),
                           "expected": round(float(e[row, j]), 1)}
                for j in np.flatnonzero(low[row]).tolist()}  # fmt: skip
        walked = ", ".join(f"{f} in {v['values']:.0f} steps of {v['step']:g}"
                           for f, v in steps.items())  # fmt: skip
        out.append(Detection(
            "sweep", Severity.high,
            f"systematic sweep: {len(lows)} of {int(varying[row])} varying features take few "
            f"distinct values (<= {settings.sweep_low_ratio:.0%} of what {count:,} requests of "
            f"all traffic would show); {walked}",
            float(share[row]), float(s.t[lo : lo + count].min()),
            float(s.t[lo : lo + count].max()), mask_key(k.api_key[i]), None,
            {"examined": count, "low_entropy_features": lows, "progressions": steps,
             "varying_features": int(varying[row]), "low_share": round(float(share[row]), 4)},
        ))  # fmt: skip
    return out, low_all


def distinct_counts(raw: np.ndarray, first: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Distinct values of each feature among each key's rows (raw[first:first + n]), keys x
    features."""
    out = np.zeros((n.size, raw.shape[1]), np.int64)
    for row, (lo, count) in enumerate(zip(first.tolist(), n.tolist(), strict=True)):
        x = raw[lo : lo + count]
        out[row] = [np.unique(x[:, j]).size for j in range(raw.shape[1])]
    return out

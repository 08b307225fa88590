"""Drift of the served model's inputs and outputs, per feature, against a reference: the first
`reference_share` of the rows (by time), or a baseline file written earlier by
`--baseline-out`. Three measures on deterministic samples of each side:

- PSI, the population stability index over the reference's quantile bins
  (sum of (c - r) ln(c / r); 0.1 is a small change, >= 0.25 a significant one);
- the Jensen-Shannon distance (base 2, 0..1) over the same bins;
- the Wasserstein-1 distance between the two quantile functions over their central 98 % (the
  extreme percentiles of a heavy-tailed feature are sampling noise), over the reference's
  standard deviation.

A feature drifts when any measure reaches its threshold; the drift is medium when PSI reaches
`psi_high`, low otherwise. A baseline file holds per-feature bins, shares and quantiles and,
per key digest, the key's usual window count: no request, input value or key."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from custos.accesslog.features import floats
from custos.accesslog.readers.load import Log
from custos.accesslog.report import Drift
from custos.accesslog.settings import Settings
from custos.errors import UserError
from custos.findings import Severity

FORMAT = "custos-access-baseline"
VERSION = 1
QUANTILES = np.linspace(0, 1, 101)
CENTRAL = slice(1, 100)  # the 1st to 99th percentile: a heavy tail's extremes are noise
EPSILON = 1e-4


def summary(values: np.ndarray, bins: int) -> dict[str, Any]:
    """The reference description of one feature (what a baseline file keeps)."""
    v = values[np.isfinite(values)].astype(np.float64)
    if v.size == 0:
        return {"rows": 0, "edges": [], "shares": [], "quantiles": [], "std": 0.0}
    edges = np.unique(np.quantile(v, np.arange(1, bins) / bins))
    counts = np.bincount(np.searchsorted(edges, v, "right"), minlength=edges.size + 1)
    return {
        "rows": int(v.size),
        "edges": [float(e) for e in edges],
        "shares": [float(c) / v.size for c in counts],
        "quantiles": [float(q) for q in np.quantile(v, QUANTILES)],
        "std": float(v.std()),
    }


def measures(reference: Mapping[str, Any], values: np.ndarray) -> tuple[float, float, float]:
    v = values[np.isfinite(values)].astype(np.float64)
    edges = np.asarray(reference["edges"], np.float64)
    r = np.asarray(reference["shares"], np.float64)
    counts = np.bincount(np.searchsorted(edges, v, "right"), minlength=edges.size + 1)
    c = counts / max(1, v.size)
    r_, c_ = np.clip(r, EPSILON, None), np.clip(c, EPSILON, None)
    psi = float(((c_ - r_) * np.log(c_ / r_)).sum())
    m = (r + c) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_r = np.where(r > 0, r * np.log2(r / m), 0.0).sum()
        kl_c = np.where(c > 0, c * np.log2(c / m), 0.0).sum()
    js = math.sqrt(max(0.0, 0.5 * float(kl_r) + 0.5 * float(kl_c)))
    q_ref = np.asarray(reference["quantiles"], np.float64)
    q_cur = np.quantile(v, QUANTILES) if v.size else q_ref
    spread = float(reference["std"])
    d = np.abs(q_cur - q_ref)[CENTRAL]
    gap = float(((d[1:] + d[:-1]) / 2 * np.diff(QUANTILES[CENTRAL])).sum()) / (
        QUANTILES[CENTRAL][-1] - QUANTILES[CENTRAL][0]
    )
    wasserstein = gap / spread if spread > 0 else (0.0 if gap == 0 else math.inf)
    return psi, js, wasserstein


def samples(log: Log, settings: Settings, cut: float | None) -> tuple[
        dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]]]:  # fmt: skip
    """Deterministic samples (about `drift_sample` rows each) of the rows up to `cut` and of
    the rows after it (every row is "after" when `cut` is None), per side and feature, in one
    pass."""
    named = sides(log)
    if not named or log.rows == 0:
        return {}, {}
    counted = f"SELECT count(*) FROM rows WHERE t <= {cut!r}"  # noqa: S608
    before = 0 if cut is None else int(log.query(counted)[0][0])
    every_before = max(1, before // settings.drift_sample)
    every_after = max(1, (log.rows - before) // settings.drift_sample)
    columns = []
    for side, names in named.items():
        prefix = "x" if side == "input" else "y"
        columns += [f"CASE WHEN len({side}) = {len(names)} THEN {side}[{j + 1}] END "
                    f"AS {prefix}{j}" for j in range(len(names))]  # fmt: skip
    early = "false" if cut is None else f"t <= {cut!r}"
    # two plain conditions, not one modulus chosen by CASE: DuckDB filters those before it
    # reads the lists (ten times faster)
    picked = f"rh % {every_after} = 0" if cut is None else (
        f"(t <= {cut!r} AND rh % {every_before} = 0) OR "
        f"(t > {cut!r} AND rh % {every_after} = 0)")  # fmt: skip
    query = f"SELECT {early} AS early, {', '.join(columns)} FROM rows WHERE {picked}"  # noqa: S608
    a = log.arrays(query)
    mask = np.asarray(a["early"], bool)
    out: tuple[dict[str, dict[str, np.ndarray]], ...] = ({}, {})
    for side, names in named.items():
        prefix = "x" if side == "input" else "y"
        for j, name in enumerate(names):
            v = floats(a[f"{prefix}{j}"])
            out[0].setdefault(side, {})[name] = v[mask]
            out[1].setdefault(side, {})[name] = v[~mask]
    return out[0], out[1]


def sides(log: Log) -> dict[str, tuple[str, ...]]:
    out = {}
    if log.inputs.numeric:
        out["input"] = log.inputs.names
    if log.outputs.numeric:
        out["output"] = log.outputs.names
    return out


def reference_cut(log: Log, settings: Settings) -> float | None:
    if log.rows == 0:
        return None
    found = log.query("SELECT quantile_disc(t, ?) FROM rows", [settings.reference_share])
    return None if found[0][0] is None else float(found[0][0])


def build(sample: Mapping[str, Mapping[str, np.ndarray]], settings: Settings) -> dict[str, Any]:
    """The reference description of every feature of a sample."""
    return {side: {n: summary(v, settings.drift_bins) for n, v in values.items()}
            for side, values in sample.items()}  # fmt: skip


def compare(reference: Mapping[str, Any], current: Mapping[str, Mapping[str, np.ndarray]],
            settings: Settings) -> list[Drift]:  # fmt: skip
    out: list[Drift] = []
    for side, values_by_name in current.items():
        recorded = reference.get(side, {})
        for name, values in values_by_name.items():
            ref = recorded.get(name)
            if not ref or not ref.get("rows") or not np.isfinite(values).any():
                continue
            psi, js, w = measures(ref, values)
            drifted = bool(psi >= settings.psi or js >= settings.js or w >= settings.wasserstein)
            severity = (Severity.medium if psi >= settings.psi_high else Severity.low) \
                if drifted else None  # fmt: skip
            out.append(Drift(side, name, float(psi), float(js), float(w), drifted, severity,
                             int(ref["rows"]),
                             int(np.isfinite(values).sum())))  # fmt: skip
    return out


def document(features: Mapping[str, Any], keys: Mapping[str, tuple[float, float]],
             log: Log, settings: Settings) -> dict[str, Any]:  # fmt: skip
    return {
        "format": FORMAT,
        "version": VERSION,
        "rows": log.rows,
        "window_seconds": settings.window_seconds,
        "features": features,
        "keys": {k: [round(m, 4), round(s, 4)] for k, (m, s) in sorted(keys.items())},
    }


def dumps(baseline: Mapping[str, Any]) -> bytes:
    return (json.dumps(baseline, indent=1, sort_keys=True) + "\n").encode()


def read(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise UserError(f"{path}: not a readable baseline file: {exc}") from None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise UserError(f"{path}: not an access-log baseline (format {FORMAT!r})")
    if value.get("version") != VERSION:
        raise UserError(f"{path}: baseline version {value.get('version')!r}; this Custos "
                        f"reads version {VERSION}")  # fmt: skip
    return value

"""The access-log pipeline: files (or stdin) in, every detection, drift and the report out.
`examine` is the whole `custos monitor` command without its output; `progress` is told each
step so a long log never means a silent wait."""

from __future__ import annotations

import dataclasses
import math
import resource
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import numpy as np

from custos.accesslog import drift, features, model
from custos.accesslog.detect import auth, extraction, identity, probing, rate, repeats, sweeps
from custos.accesslog.extra import require
from custos.accesslog.readers.load import Log, load
from custos.accesslog.report import Detection, MonitorReport, iso
from custos.accesslog.settings import Settings

Progress = Callable[[str], None]
Samples = dict[str, dict[str, np.ndarray]]


def _quiet(_: str) -> None:
    pass


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux and macOS report it in different units)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def examine(
    paths: Sequence[Path] | str,
    settings: Settings | None = None,
    *,
    log_format: str = "auto",
    mapping: Mapping[str, str] | None = None,
    baseline: Path | None = None,
    stdin: IO[bytes] | None = None,
    progress: Progress = _quiet,
    want_baseline: bool = False,
) -> tuple[MonitorReport, dict[str, Any]]:
    """The report, and (with `want_baseline`) the baseline document of this log."""
    require()
    s = settings or Settings()
    started = time.perf_counter()
    recorded = drift.read(baseline) if baseline is not None else None
    progress("reading")
    log = load(paths, s, log_format, mapping, stdin)
    try:
        return _examine(log, s, recorded, progress, started, want_baseline)
    finally:
        log.close()


def _examine(log: Log, s: Settings, recorded: dict[str, Any] | None, progress: Progress,
             started: float,
             want_baseline: bool) -> tuple[MonitorReport, dict[str, Any]]:  # fmt: skip
    progress("aggregating")
    k = features.keys(log, s)
    w = features.windows(log, k)
    p = features.pairs(log, k)
    f = features.failures(log)
    recorded_keys = {d: (float(v[0]), float(v[1]))
                     for d, v in (recorded or {}).get("keys", {}).items()}  # fmt: skip
    found: list[Detection] = []
    found += rate.spikes(k, w, s, recorded_keys or None)
    found += rate.volume(k, w, s)
    # drift's samples are DuckDB work (which releases the GIL): read them on a second
    # connection while NumPy examines the inputs
    pool = ThreadPoolExecutor(1)
    sampled = pool.submit(_drift_samples, log.cursor(), s, recorded)
    pool.shutdown(wait=False)
    progress("examining inputs")
    seq = features.sequences(log, k, w, s)
    near = features.nearest(seq, s)
    names = log.inputs.names if log.inputs.numeric else ()
    natural = features.Natural(seq, s)
    null_seq, null_near = natural.through(np.ones(len(names), bool))
    prada, prada_w = extraction.prada(k, seq, near, s, natural)
    probes, probe_share = probing.probing(k, seq, near, names, s,
                                          probing.natural(null_seq, null_near, s))  # fmt: skip
    swept, low_share = sweeps.sweeps(k, seq, names, s)
    repeated, repeat_share = repeats.repeats(k, s)
    found += prada + probes + swept + repeated
    found += identity.sharing(k, p, s) + identity.rotation(k, p, s)
    found += auth.sprays(f, s)
    progress("scoring keys")
    extra = {"repeat_share": repeat_share, "prada_w": prada_w, "probe_share": probe_share,
             "low_entropy_share": low_share,
             "out_of_range_share": _out_of_range(k, seq)}  # fmt: skip
    flagged, scores, model_info = model.score(k, w, extra, s)
    found += flagged
    found = _with_examples(log, k, found, s)
    found.sort(key=lambda d: (-int(d.severity), -d.score, d.kind))
    progress("drift")
    early, late, reference_features, reference = sampled.result()
    drifts = drift.compare(reference_features, late, s)
    document: dict[str, Any] = {}
    if want_baseline:
        whole = {side: {n: np.concatenate([v, late[side][n]]) for n, v in values.items()}
                 for side, values in early.items()} if recorded is None else late  # fmt: skip
        document = drift.document(drift.build(whole, s), _key_baselines(k, w, s), log, s)
    span = log.query("SELECT min(t), max(t), count(DISTINCT client_ip) FROM rows")[0]
    report = MonitorReport(
        source=log.source, formats=tuple(dict.fromkeys(log.formats)) or ("jsonl",),
        files=tuple(log.files), rows=log.rows, keys=len(k), addresses=int(span[2] or 0),
        window_seconds=s.window_seconds, start=span[0], end=span[1],
        broken_count=log.broken_count, broken=tuple(log.broken), detections=tuple(found),
        drift=tuple(drifts), scores=tuple(scores), reference=reference, model=model_info,
        thresholds=s.thresholds(), input_features=names,
        output_features=log.outputs.names if log.outputs.numeric else (),
        stats={"seconds": round(time.perf_counter() - started, 3),
               "peak_rss_mb": peak_rss_mb(), "examined_inputs": int(seq.key.size)},
    )  # fmt: skip
    return report, document


def _drift_samples(log: Log, s: Settings, recorded: dict[str, Any] | None) -> tuple[
        Samples, Samples, Mapping[str, Any], dict[str, Any]]:  # fmt: skip
    """Early and late samples, the reference's features and what the reference is."""
    try:
        if recorded is not None:
            early, late = drift.samples(log, s, None)
            return early, late, recorded.get("features", {}), {
                "source": "baseline", "rows": recorded.get("rows")}  # fmt: skip
        cut = drift.reference_cut(log, s)
        early, late = drift.samples(log, s, cut)
        reference = {"source": "log", "share": s.reference_share, "until": iso(cut)}
        return early, late, drift.build(early, s), reference
    finally:
        log.con.close()


def _key_baselines(k: features.Keys, w: features.Windows,
                   s: Settings) -> dict[str, tuple[float, float]]:  # fmt: skip
    out = {}
    starts = np.searchsorted(w.key, np.arange(len(k)))
    ends = np.searchsorted(w.key, np.arange(len(k)), side="right")
    for i in range(len(k)):
        counts = w.count[starts[i] : ends[i]]
        if counts.size >= s.rate_min_windows:
            out[rate.key_digest(k.api_key[i])] = rate.own_baseline(counts)
    return out


def _out_of_range(k: features.Keys, seq: features.Sequences) -> np.ndarray:
    share = np.full(len(k), np.nan)
    if seq.key.size == 0:
        return share
    outside = ((seq.quantile < 0.005) | (seq.quantile > 0.995)).any(axis=1)
    counts = np.bincount(seq.key, minlength=len(k))
    hits = np.bincount(seq.key, weights=outside.astype(np.float64), minlength=len(k))
    seen = counts > 0
    share[seen] = hits[seen] / counts[seen]
    return share


def _with_examples(log: Log, k: features.Keys, found: list[Detection],
                   s: Settings) -> list[Detection]:  # fmt: skip
    """Each detection with a few of its rows: those of its key in its time span, or of its
    address (only the refused ones for authentication findings)."""
    from custos.accesslog.report import mask_key

    by_mask = {mask_key(key): int(kh) for key, kh in zip(k.api_key, k.kh.tolist(), strict=True)}
    by_key: list[tuple[int, int, float, float]] = []
    by_address: list[tuple[int, str, bool, float, float]] = []
    for n, d in enumerate(found):
        span = (-math.inf if d.first_seen is None else d.first_seen,
                math.inf if d.last_seen is None else d.last_seen)  # fmt: skip
        if d.api_key is not None and d.api_key in by_mask:
            by_key.append((n, by_mask[d.api_key], *span))
        elif d.client_ip is not None:
            by_address.append((n, d.client_ip, d.kind.startswith("auth"), *span))
    shown = features.examples(log, s, by_key, by_address)
    return [dataclasses.replace(d, evidence={**d.evidence, "examples": shown[n]})
            if n in shown else d for n, d in enumerate(found)]  # fmt: skip

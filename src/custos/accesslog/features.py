"""Per-key and per-window aggregates of the requests, computed by DuckDB over the whole table
(one pass each, out of core beyond the memory limit), and the input sequences the vector
detections examine: per key at most `sequence_max` inputs, in `sequence_segments` contiguous
segments spread over its history, in time order, with every feature also expressed as its
quantile among all traffic (so no feature's unit or skew dominates a distance)."""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from custos.accesslog.readers.load import Log
from custos.accesslog.settings import Settings

Array = npt.NDArray[Any]
REFERENCE_ROWS = 20_000  # rows of all traffic that define each feature's quantiles


@dataclass
class Keys:
    """One entry per API key, sorted by the key's hash (`kh`)."""

    kh: Array
    api_key: list[str]
    n: Array
    first: Array
    last: Array
    agents: Array
    errors: Array
    denied: Array
    with_input: Array
    latency: Array
    endpoints: Array
    distinct_inputs: Array
    hashed_inputs: Array  # requests whose input has a digest (repeats are counted among them)
    top_repeat: Array
    top_hash: Array
    addresses: Array
    networks: Array

    def index(self, kh: Array) -> Array:
        return np.searchsorted(self.kh, kh)

    def __len__(self) -> int:
        return int(self.kh.size)


@dataclass
class Windows:
    """Requests per (key, window)."""

    key: Array  # index into Keys
    b: Array
    count: Array


@dataclass
class Pairs:
    """Requests per (key or none, address)."""

    key: Array  # index into Keys, -1 for requests without a key
    ip: list[str]
    n: Array
    first: Array
    last: Array
    denied: Array


@dataclass
class Failures:
    """401/403 responses per (address, window): how many, and with how many keys."""

    ip: list[str]
    b: Array
    count: Array
    keys: Array  # distinct keys tried
    keyless: Array  # failures without a key
    first: Array
    last: Array
    tried: list[list[str]]


@dataclass
class Sequences:
    """The examined inputs: rows sorted by (key, segment, time)."""

    key: Array
    segment: Array
    t: Array
    raw: Array  # float32, rows x features, as logged
    quantile: Array  # float64, each feature as its quantile among all traffic
    ih: Array
    bounds: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # key -> segments
    reference: Array = field(default_factory=lambda: np.empty((0, 0), np.float32))


def network(ip: str) -> str:
    """The /16 of an IPv4 address, the /48 of an IPv6 one, the text otherwise."""
    try:
        address = ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return ip
    prefix = 16 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def keys(log: Log, settings: Settings) -> Keys:
    a = log.arrays("""
SELECT kh, any_value(api_key) AS api_key, count(*) AS n, min(t) AS first, max(t) AS last,
  count(*) FILTER (WHERE status >= 400) AS errors,
  count(*) FILTER (WHERE status IN (401, 403)) AS denied, count(input) AS with_input,
  coalesce(avg(latency_ms), 0) AS latency, count(ih) AS hashed,
  approx_count_distinct(ih) AS approx_distinct
FROM rows WHERE kh IS NOT NULL GROUP BY kh ORDER BY kh""")
    kh = a["kh"].astype(np.uint64)
    size = kh.size
    hashed = a["hashed"].astype(np.int64)
    # HyperLogLog for every key; exact counts where the repeats could reach the thresholds
    distinct = np.minimum(a["approx_distinct"].astype(np.int64), hashed)
    top = np.ones(size, np.int64) * (hashed > 0)
    top_hash = np.zeros(size, np.uint64)
    margin = np.maximum(0.05 * hashed, 10)
    most = hashed - distinct + margin  # the most repeats the estimate allows
    near = (most >= settings.repeat_min) & (most >= settings.repeat_share * hashed)
    if near.any():
        log.query("CREATE OR REPLACE TEMP TABLE candidates AS SELECT unnest(?::UBIGINT[]) AS kh",
                  [kh[near].tolist()])  # fmt: skip
        r = log.arrays("""
WITH g AS (SELECT kh, ih, count(*) AS c FROM rows SEMI JOIN candidates USING (kh)
           WHERE ih IS NOT NULL GROUP BY kh, ih)
SELECT kh, count(*) AS distinct_inputs, max(c) AS top, arg_max(ih, c) AS ih
FROM g GROUP BY kh ORDER BY kh""")
        where = np.searchsorted(kh, r["kh"].astype(np.uint64))
        distinct[where] = r["distinct_inputs"]
        top[where] = r["top"]
        top_hash[where] = r["ih"]
        log.query("DROP TABLE candidates")
    agents, endpoints = np.zeros(size, np.int64), np.zeros(size, np.int64)
    combos = log.arrays("SELECT kh, user_agent, endpoint FROM rows WHERE kh IS NOT NULL "
                        "GROUP BY ALL")  # fmt: skip
    index = np.searchsorted(kh, combos["kh"].astype(np.uint64))
    for column, out in (("user_agent", agents), ("endpoint", endpoints)):
        seen = {(int(i), v) for i, v in zip(index.tolist(), combos[column].tolist(),
                                            strict=True) if v is not None}  # fmt: skip
        np.add.at(out, np.array([i for i, _ in seen], np.int64), 1)
    return Keys(
        kh, [str(k) for k in a["api_key"]], a["n"].astype(np.int64),
        a["first"].astype(np.float64), a["last"].astype(np.float64), agents,
        a["errors"].astype(np.int64), a["denied"].astype(np.int64),
        a["with_input"].astype(np.int64), a["latency"].astype(np.float64), endpoints,
        distinct, hashed, top, top_hash, np.zeros(size, np.int64), np.zeros(size, np.int64),
    )  # fmt: skip


def windows(log: Log, k: Keys) -> Windows:
    a = log.arrays("SELECT kh, b, count(*) AS c FROM rows WHERE kh IS NOT NULL "
                   "GROUP BY kh, b ORDER BY kh, b")  # fmt: skip
    return Windows(k.index(a["kh"].astype(np.uint64)), a["b"].astype(np.int64),
                   a["c"].astype(np.int64))  # fmt: skip


def pairs(log: Log, k: Keys) -> Pairs:
    rows = log.query("""
SELECT kh, client_ip, count(*), min(t), max(t), count(*) FILTER (WHERE status IN (401, 403))
FROM rows WHERE client_ip IS NOT NULL GROUP BY kh, client_ip ORDER BY kh, client_ip""")
    kh = np.array([r[0] if r[0] is not None else 0 for r in rows], dtype=np.uint64)
    known = np.array([r[0] is not None for r in rows], dtype=bool)
    key = np.where(known, k.index(kh) if len(k) else 0, -1)
    p = Pairs(key, [str(r[1]) for r in rows], np.array([r[2] for r in rows], np.int64),
              np.array([r[3] for r in rows], np.float64),
              np.array([r[4] for r in rows], np.float64),
              np.array([r[5] for r in rows], np.int64))  # fmt: skip
    ips: dict[int, set[str]] = {}
    for i, ip in zip(p.key.tolist(), p.ip, strict=True):
        if i >= 0:
            ips.setdefault(i, set()).add(ip)
    for i, found in ips.items():
        k.addresses[i] = len(found)
        k.networks[i] = len({network(ip) for ip in found})
    return p


def failures(log: Log) -> Failures:
    rows = log.query("""
SELECT client_ip, b, count(*), count(DISTINCT api_key), count(*) FILTER (WHERE api_key IS NULL),
  min(t), max(t), list(DISTINCT api_key) FILTER (WHERE api_key IS NOT NULL)
FROM rows WHERE status IN (401, 403) AND client_ip IS NOT NULL GROUP BY client_ip, b
ORDER BY client_ip, b""")
    return Failures(
        [str(r[0]) for r in rows], np.array([r[1] for r in rows], np.int64),
        np.array([r[2] for r in rows], np.int64), np.array([r[3] for r in rows], np.int64),
        np.array([r[4] for r in rows], np.int64), np.array([r[5] for r in rows], np.float64),
        np.array([r[6] for r in rows], np.float64), [list(r[7] or []) for r in rows],
    )  # fmt: skip


def _picked(w: Windows, k: Keys, settings: Settings) -> tuple[list[int], list[int], list[int]]:
    """The (key, window) pairs whose rows are examined, and the segment each belongs to."""
    eligible = k.with_input >= min(settings.prada_min_queries, settings.probe_min,
                                   settings.sweep_min_queries)  # fmt: skip
    key_out: list[int] = []
    b_out: list[int] = []
    seg_out: list[int] = []
    starts = np.searchsorted(w.key, np.arange(len(k)))
    ends = np.searchsorted(w.key, np.arange(len(k)), side="right")
    per_segment = max(1, settings.sequence_max // max(1, settings.sequence_segments))
    for i in np.flatnonzero(eligible).tolist():
        lo, hi = int(starts[i]), int(ends[i])
        buckets, counts = w.b[lo:hi], w.count[lo:hi]
        if int(counts.sum()) <= settings.sequence_max:
            key_out += [i] * buckets.size
            b_out += buckets.tolist()
            seg_out += [0] * buckets.size
            continue
        cumulative = np.cumsum(counts)
        total = int(cumulative[-1])
        segments = settings.sequence_segments
        taken_until = -1
        for s in range(segments):
            start_row = (total - per_segment) * s // max(1, segments - 1)
            first = max(int(np.searchsorted(cumulative, start_row, side="right")),
                        taken_until + 1)  # fmt: skip
            have = 0
            j = first
            while j < buckets.size and have < per_segment:
                key_out.append(i)
                b_out.append(int(buckets[j]))
                seg_out.append(s)
                have += int(counts[j])
                j += 1
            taken_until = j - 1
    return key_out, b_out, seg_out


def reference_inputs(log: Log, dims: int) -> Array:
    """A deterministic sample of all traffic's input vectors (rows x features, float32)."""
    if dims == 0 or log.rows == 0:
        return np.empty((0, dims), np.float32)
    every = max(1, log.rows // REFERENCE_ROWS)
    columns = ", ".join(f"input[{j + 1}] AS x{j}" for j in range(dims))
    sql = f"SELECT {columns} FROM rows WHERE len(input) = {dims} "  # noqa: S608
    a = log.arrays(f"{sql} AND hash(rowid) % {every} = 0")
    return _matrix(a, dims)


def floats(column: Any, dtype: Any = np.float64) -> Array:
    """A fetched column as floats, NULL (a masked entry) as NaN."""
    if np.ma.isMaskedArray(column):
        return np.ma.filled(column.astype(dtype), np.nan)
    return np.asarray(column, dtype=dtype)


def _matrix(a: dict[str, Array], dims: int) -> Array:
    if dims == 0:
        return np.empty((0, 0), np.float32)
    columns = [floats(a[f"x{j}"], np.float32) for j in range(dims)]
    return np.stack(columns, axis=1) if columns[0].size else np.empty((0, dims), np.float32)


KNOTS = 1025  # quantile knots per feature: fine enough, and small enough to stay in cache


def quantiles(values: Array, reference: Array) -> Array:
    """Each value as its quantile (0..1) among the reference values, per feature, linear
    between the reference's percentiles (a small step stays small)."""
    out = np.empty(values.shape, np.float64)
    levels = np.linspace(0.0, 1.0, KNOTS)
    for j in range(values.shape[1]):
        ref = reference[:, j].astype(np.float64)
        if ref.size == 0:
            out[:, j] = 0.5
            continue
        knots = np.quantile(ref, levels)
        unique, first = np.unique(knots, return_index=True)
        last = KNOTS - 1 - np.unique(knots[::-1], return_index=True)[1]
        mid = (levels[first] + levels[last]) / 2  # a value many rows share: its mid-rank
        out[:, j] = np.interp(values[:, j].astype(np.float64), unique, mid, left=0.0, right=1.0)
    return out


def block_size(settings: Settings) -> int:
    """Inputs compared with each other: a segment is examined in blocks of this many."""
    return max(2, settings.sequence_max // max(1, settings.sequence_segments))


def sequences(log: Log, k: Keys, w: Windows, settings: Settings) -> Sequences:
    dims = len(log.inputs.names) if log.inputs.numeric else 0
    empty = np.empty(0, np.int64)
    none = Sequences(empty, empty, np.empty(0), np.empty((0, dims), np.float32),
                     np.empty((0, dims)), np.empty(0, np.uint64),
                     reference=np.empty((0, dims), np.float32))  # fmt: skip
    if dims == 0 or len(k) == 0:
        return none
    key_ids, buckets, segs = _picked(w, k, settings)
    if not key_ids:
        return none
    log.query("CREATE OR REPLACE TEMP TABLE picked AS SELECT unnest(?::UBIGINT[]) AS kh, "
              "unnest(?::BIGINT[]) AS b, unnest(?::INTEGER[]) AS seg",
              [k.kh[key_ids].tolist(), buckets, segs])  # fmt: skip
    columns = ", ".join(f"r.input[{j + 1}] AS x{j}" for j in range(dims))
    a = log.arrays(f"""
SELECT r.kh, p.seg, r.t, r.rowid AS id, r.ih, {columns}
FROM rows r JOIN picked p ON r.kh = p.kh AND r.b = p.b
WHERE len(r.input) = {dims}""")  # noqa: S608
    raw = _matrix(a, dims)
    finite = np.isfinite(raw).all(axis=1)
    key = k.index(a["kh"].astype(np.uint64))[finite]
    seg = a["seg"].astype(np.int64)[finite]
    t = a["t"].astype(np.float64)[finite]
    order = np.lexsort((a["id"].astype(np.int64)[finite], t, seg, key))
    raw = raw[finite][order]
    reference = reference_inputs(log, dims)
    reference = reference[np.isfinite(reference).all(axis=1)]
    s = Sequences(key[order], seg[order], t[order], raw, quantiles(raw, reference),
                  a["ih"].astype(np.uint64)[finite][order], reference=reference)  # fmt: skip
    change = np.flatnonzero((np.diff(s.key) != 0) | (np.diff(s.segment) != 0)) + 1
    starts = np.r_[0, change]
    ends = np.r_[change, s.key.size]
    block = block_size(settings)
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        blocks = s.bounds.setdefault(int(s.key[lo]), [])
        cuts = [*range(lo, hi, block), hi]
        if len(cuts) > 2 and cuts[-1] - cuts[-2] < block // 2:
            del cuts[-2]  # a short tail joins the block before it
        blocks += list(itertools.pairwise(cuts))
    log.query("DROP TABLE picked")
    return s


def examples(log: Log, settings: Settings, where: str, params: list[Any]) -> list[dict[str, Any]]:
    """A few rows matching `where` (time order): time, address, method, endpoint, status."""
    from custos.accesslog.report import iso

    limit = int(settings.examples)
    sql = f"SELECT t, client_ip, method, endpoint, status FROM rows WHERE {where} "  # noqa: S608
    rows = log.query(f"{sql} ORDER BY t, rowid LIMIT {limit}", params)
    return [{"ts": iso(r[0]), "client_ip": r[1], "method": r[2], "endpoint": r[3],
             "status": r[4]} for r in rows]  # fmt: skip


@dataclass
class Nearest:
    """For each examined input: the distance (quantile space) to its nearest earlier input of
    the same key and segment, and that input's row (-1 for the first of a segment)."""

    distance: Array
    previous: Array
    warm: Array  # past the segment's warm-up (enough earlier inputs to compare with)


def nearest(s: Sequences, settings: Settings) -> Nearest:
    """Blocks of one size are computed together (one batched product per BATCH blocks), on
    one BLAS thread: many small products are slower threaded, more so on a busy machine."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    size = s.key.size
    near = Nearest(np.full(size, np.nan), np.full(size, -1, np.int64), np.zeros(size, bool))
    by_size: dict[int, list[int]] = {}
    for blocks in s.bounds.values():
        for lo, hi in blocks:
            if hi - lo >= 2:
                by_size.setdefault(hi - lo, []).append(lo)
    with threadpool_limits(1):
        for m, starts in by_size.items():
            earlier = np.where(np.tril(np.ones((m, m), bool), -1), 0.0, np.inf).astype(np.float32)
            for first in range(0, len(starts), BATCH):
                _block(s, near, np.asarray(starts[first : first + BATCH]), m, earlier, settings)
    return near


BATCH = 64


def _block(s: Sequences, near: Nearest, starts: Array, m: int, earlier: Array,
           settings: Settings) -> None:  # fmt: skip
    rows = starts[:, None] + np.arange(m)[None, :]
    u = s.quantile[rows].astype(np.float32)  # blocks x m x features, quantiles: float32 is ample
    squared = (u * u).sum(axis=2)
    d2 = np.matmul(u, u.transpose(0, 2, 1))
    d2 *= -2.0
    d2 += squared[:, :, None]
    d2 += squared[:, None, :]
    d2 += earlier  # +inf on and above the diagonal: only earlier inputs
    j = np.argmin(d2, axis=2)
    best = np.sqrt(np.maximum(np.take_along_axis(d2, j[:, :, None], axis=2)[:, :, 0], 0.0))
    best[:, 0] = np.nan
    previous = j + starts[:, None]
    previous[:, 0] = -1
    near.distance[rows] = best
    near.previous[rows] = previous
    near.warm[rows[:, min(settings.prada_warmup, m) :]] = True


NULL_KEYS = 8  # pseudo-keys of natural traffic the vector detections are calibrated on


def natural(s: Sequences, settings: Settings) -> Sequences:
    """Pseudo-keys made of all traffic's inputs in a shuffled order: what a client sending
    natural inputs of this API looks like to the vector detections (whatever the features:
    a few flags and an hour make near neighbours common, ten measurements make them rare)."""
    ref = s.reference
    block = block_size(settings)
    size = min(block, ref.shape[0] // NULL_KEYS)
    empty = np.empty(0, np.int64)
    if size < 2:
        return Sequences(empty, empty, np.empty(0), ref[:0], np.empty((0, ref.shape[1])),
                         np.empty(0, np.uint64), reference=ref)  # fmt: skip
    order = np.random.default_rng(0).permutation(ref.shape[0])[: size * NULL_KEYS]
    raw = ref[order]
    key = np.repeat(np.arange(NULL_KEYS), size)
    out = Sequences(key, np.zeros_like(key), np.arange(key.size, dtype=np.float64), raw,
                    quantiles(raw, ref), np.zeros(key.size, np.uint64), reference=ref)  # fmt: skip
    for i in range(NULL_KEYS):
        out.bounds[i] = [(i * size, (i + 1) * size)]
    return out


def restricted(s: Sequences, columns: Array) -> Sequences:
    """The same sequences seen through some features only."""
    return Sequences(s.key, s.segment, s.t, s.raw[:, columns], s.quantile[:, columns], s.ih,
                     dict(s.bounds), s.reference[:, columns])  # fmt: skip


class Natural:
    """Natural traffic's pseudo-keys (`natural`), through the features a key varies: a client
    whose inputs hold some features fixed (a nightly batch at one hour) is compared with
    natural traffic over the features it does vary."""

    def __init__(self, s: Sequences, settings: Settings) -> None:
        self.base = natural(s, settings)
        self.settings = settings
        self.cache: dict[tuple[bool, ...], tuple[Sequences, Nearest]] = {}
        self.memo: dict[tuple[str, tuple[bool, ...]], Any] = {}  # what detections derive

    def through(self, columns: Array) -> tuple[Sequences, Nearest]:
        mask = tuple(bool(c) for c in columns)
        if mask not in self.cache:
            seq = restricted(self.base, np.asarray(columns, bool))
            self.cache[mask] = (seq, nearest(seq, self.settings))
        return self.cache[mask]


def varying(s: Sequences, i: int) -> Array:
    """The features key i's examined inputs do not hold fixed."""
    rows = np.concatenate([np.arange(lo, hi) for lo, hi in s.bounds[i]])
    x = s.raw[rows]
    out: Array = (x != x[:1]).any(axis=0)
    return out


def continuous(reference: Array, sample: int = 100, least: float = 0.9) -> Array:
    """Features whose values natural requests rarely share: among `sample` requests of all
    traffic, at least `least` of the values are expected to be distinct."""
    out = np.zeros(reference.shape[1], bool)
    total = max(1, reference.shape[0])
    for j in range(reference.shape[1]):
        _, counts = np.unique(reference[:, j], return_counts=True)
        c, how_many = np.unique(counts, return_counts=True)
        expected = float(((1 - (1 - c / total) ** sample) * how_many).sum())
        out[j] = expected >= least * min(sample, total)
    return out

"""Per-key and per-window aggregates of the requests, computed by DuckDB over the whole table
(one pass each, out of core beyond the memory limit), and the input sequences the vector
detections examine: per key at most `sequence_max` inputs, in `sequence_segments` contiguous
segments spread over its history, in time order, with every feature also expressed as its
quantile among all traffic (so no feature's unit or skew dominates a distance)."""

from __future__ import annotations

import ipaddress
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
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
        log.table("candidates", kh=kh[near])
        r = log.arrays("""
WITH g AS (SELECT kh, ih, count(*) AS c FROM rows SEMI JOIN candidates USING (kh)
           WHERE ih IS NOT NULL GROUP BY kh, ih)
SELECT kh, count(*) AS distinct_inputs, max(c) AS top, arg_max(ih, (c, ih)) AS ih
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
  min(t), max(t), list(DISTINCT api_key ORDER BY api_key) FILTER (WHERE api_key IS NOT NULL)
FROM rows WHERE status IN (401, 403) AND client_ip IS NOT NULL GROUP BY client_ip, b
ORDER BY client_ip, b""")
    return Failures(
        [str(r[0]) for r in rows], np.array([r[1] for r in rows], np.int64),
        np.array([r[2] for r in rows], np.int64), np.array([r[3] for r in rows], np.int64),
        np.array([r[4] for r in rows], np.int64), np.array([r[5] for r in rows], np.float64),
        np.array([r[6] for r in rows], np.float64), [list(r[7] or []) for r in rows],
    )  # fmt: skip


def _picked(w: Windows, k: Keys, settings: Settings) -> tuple[Array, Array, Array]:
    """The (key, window) pairs whose rows are examined, and the segment each belongs to:
    every window of a key with at most `sequence_max` requests; otherwise, per segment, the
    windows from the segment's evenly spread starting request until it holds its share."""
    eligible = k.with_input >= min(settings.prada_min_queries, settings.probe_min,
                                   settings.sweep_min_queries)  # fmt: skip
    starts = np.searchsorted(w.key, np.arange(len(k)))
    ends = np.searchsorted(w.key, np.arange(len(k)), side="right")
    totals = np.add.reduceat(w.count, starts) if w.count.size else np.zeros(0, np.int64)
    totals = np.where(ends > starts, totals, 0)
    per_segment = max(1, settings.sequence_max // max(1, settings.sequence_segments))
    segments = settings.sequence_segments
    keys: list[Array] = []
    windows: list[Array] = []
    labels: list[Array] = []
    whole = eligible & (totals <= settings.sequence_max)
    for i in np.flatnonzero(eligible & ~whole).tolist():
        lo, hi = int(starts[i]), int(ends[i])
        cumulative = np.cumsum(w.count[lo:hi])
        total = int(cumulative[-1])
        taken_until = -1
        for segment in range(segments):
            start_row = (total - per_segment) * segment // max(1, segments - 1)
            first = max(int(np.searchsorted(cumulative, start_row, side="right")),
                        taken_until + 1)  # fmt: skip
            if first >= hi - lo:
                break
            before = int(cumulative[first - 1]) if first else 0
            # the first window at which the segment holds its share (or the key's last)
            last = min(int(np.searchsorted(cumulative, before + per_segment)), hi - lo - 1)
            keys.append(np.full(last - first + 1, i, np.int64))
            windows.append(np.arange(lo + first, lo + last + 1))
            labels.append(np.full(last - first + 1, segment, np.int32))
            taken_until = last
    rows = np.flatnonzero(np.isin(w.key, np.flatnonzero(whole)))
    keys.append(w.key[rows].astype(np.int64))
    windows.append(rows)
    labels.append(np.zeros(rows.size, np.int32))
    picked = np.concatenate(windows)
    return np.concatenate(keys), w.b[picked], np.concatenate(labels)


def reference_inputs(log: Log, dims: int) -> Array:
    """A deterministic sample of all traffic's input vectors (rows x features, float32)."""
    if dims == 0 or log.rows == 0:
        return np.empty((0, dims), np.float32)
    every = max(1, log.rows // REFERENCE_ROWS)
    columns = ", ".join(f"input[{j + 1}] AS x{j}" for j in range(dims))
    sql = f"SELECT {columns} FROM rows WHERE len(input) = {dims} "  # noqa: S608
    a = log.arrays(f"{sql} AND rh % {every} = 0 ORDER BY rh, t")  # an order runs repeat
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
    between the reference's percentiles (a small step stays small). Features in parallel:
    np.interp releases the GIL and its binary search is most of the time."""
    out = np.empty(values.shape, np.float64)
    levels = np.linspace(0.0, 1.0, KNOTS)

    def one(j: int) -> None:
        ref = reference[:, j].astype(np.float64)
        if ref.size == 0:
            out[:, j] = 0.5
            return
        knots = np.quantile(ref, levels)
        unique, first = np.unique(knots, return_index=True)
        last = KNOTS - 1 - np.unique(knots[::-1], return_index=True)[1]
        mid = (levels[first] + levels[last]) / 2  # a value many rows share: its mid-rank
        column = np.ascontiguousarray(values[:, j], dtype=np.float64)
        out[:, j] = np.interp(column, unique, mid, left=0.0, right=1.0)

    parallel(one, range(values.shape[1]), values.shape[0] >= PARALLEL_ROWS)
    return out


PARALLEL_ROWS = 50_000  # below this, starting threads costs more than it saves


def parallel(task: Any, items: Any, worth_it: bool = True) -> None:
    """Run `task` on each item, on as many threads as there are cores (the tasks here spend
    their time in NumPy calls that release the GIL)."""
    workers = min(4, os.cpu_count() or 1)
    if not worth_it or workers < 2:
        for item in items:
            task(item)
        return
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(task, items):
            pass


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
    if not key_ids.size:
        return none
    log.table("picked", kh=k.kh[key_ids], b=buckets.astype(np.int64), seg=segs)
    columns = ", ".join(f"r.input[{j + 1}] AS x{j}" for j in range(dims))
    # keys are numbered in kh order: sorting by kh sorts by key (DuckDB sorts in parallel)
    a = log.arrays(f"""
SELECT r.kh, p.seg, r.t, r.ih, {columns}
FROM rows r JOIN picked p ON r.kh = p.kh AND r.b = p.b
WHERE len(r.input) = {dims} ORDER BY r.kh, p.seg, r.t, r.rh""")  # noqa: S608
    raw = _matrix(a, dims)
    finite = np.isfinite(raw).all(axis=1)
    if not finite.all():
        raw = raw[finite]
        a = {name: column[finite] for name, column in a.items()}
    key = k.index(a["kh"].astype(np.uint64))
    reference = reference_inputs(log, dims)
    reference = reference[np.isfinite(reference).all(axis=1)]
    s = Sequences(key, a["seg"].astype(np.int64), a["t"].astype(np.float64), raw,
                  quantiles(raw, reference), a["ih"].astype(np.uint64),
                  reference=reference)  # fmt: skip
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


def examples(log: Log, settings: Settings, by_key: list[tuple[int, int, float, float]],
             by_address: list[tuple[int, str, bool, float, float]],
             ) -> dict[int, list[dict[str, Any]]]:  # fmt: skip
    """A few rows (time order) for each wanted item: (item, key hash, from, to) or (item,
    address, refused only, from, to). One join per kind instead of a scan per item."""
    from custos.accesslog.report import iso

    limit = int(settings.examples)
    found: list[tuple[Any, ...]] = []
    if by_key:
        n, kh, t0, t1 = zip(*by_key, strict=True)
        log.table("wanted", n=np.array(n, np.int64), kh=np.array(kh, np.uint64),
                  t0=np.array(t0, np.float64), t1=np.array(t1, np.float64))  # fmt: skip
        found += log.query(_EXAMPLES.format(on="r.kh = w.kh", limit=limit))
    if by_address:
        n, ip, refused, t0, t1 = zip(*by_address, strict=True)
        log.table("wanted", n=np.array(n, np.int64), ip=np.array(ip, object),
                  refused=np.array(refused, bool), t0=np.array(t0, np.float64),
                  t1=np.array(t1, np.float64))  # fmt: skip
        found += log.query(
            _EXAMPLES.format(
                on="r.client_ip = w.ip AND (NOT w.refused OR r.status IN (401, 403))", limit=limit
            )
        )
    out: dict[int, list[dict[str, Any]]] = {}
    for n_, t, ip_, method, endpoint, status in found:
        out.setdefault(int(n_), []).append({"ts": iso(t), "client_ip": ip_, "method": method,
                                            "endpoint": endpoint, "status": status})  # fmt: skip
    return out


_EXAMPLES = """
SELECT n, unnest(min_by({{'t': r.t, 'ip': r.client_ip, 'method': r.method,
                         'endpoint': r.endpoint, 'status': r.status}}, (r.t, r.rh), {limit}),
                 recursive := true)
FROM rows r JOIN wanted w ON {on} AND r.t BETWEEN w.t0 AND w.t1 GROUP BY n ORDER BY n"""


@dataclass
class Nearest:
    """For each examined input: the distance (quantile space) to its nearest earlier input of
    the same key and segment, and that input's row (-1 for the first of a segment)."""

    distance: Array
    previous: Array
    warm: Array  # past the segment's warm-up (enough earlier inputs to compare with)


def nearest(s: Sequences, settings: Settings) -> Nearest:
    """Blocks of one size are computed together, a few at a time (their distance matrices
    stay in cache), on one BLAS thread per worker: many small products are slower threaded."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    size = s.key.size
    near = Nearest(np.full(size, np.nan), np.full(size, -1, np.int64), np.zeros(size, bool))
    by_size: dict[int, list[int]] = {}
    for blocks in s.bounds.values():
        for lo, hi in blocks:
            if hi - lo >= 2:
                by_size.setdefault(hi - lo, []).append(lo)
    if not by_size:
        return near
    # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b; |a|^2 is the same along a row, so the row's argmin
    # needs only [a, 1] . [-2b, |b|^2]: one product, no extra passes over the matrix.
    u = s.quantile.astype(np.float32)
    squared = (u * u).sum(axis=1, keepdims=True)
    left = np.concatenate([u, np.ones_like(squared)], axis=1)
    right = np.concatenate([-2.0 * u, squared], axis=1)
    # One mask for every size and one buffer per worker for every product: fresh
    # multi-megabyte arrays per block would each cost a round of page faults.
    largest = max(by_size)
    cells = max(BATCH_CELLS, largest * largest)
    mask = np.where(np.tril(np.ones((largest, largest), bool), -1), 0.0, np.inf)
    earlier = mask.astype(np.float32)  # +inf on and above the diagonal: earlier inputs only
    work = [(m, np.asarray(starts[i : i + max(1, cells // (m * m))]))
            for m, starts in by_size.items()
            for i in range(0, len(starts), max(1, cells // (m * m)))]  # fmt: skip
    buffers = threading.local()

    def product(item: tuple[int, Array]) -> None:
        m, first = item
        if not hasattr(buffers, "cells"):
            buffers.cells = np.empty(cells, np.float32)
        rows = first[:, None] + np.arange(m)[None, :]
        d2 = buffers.cells[: first.size * m * m].reshape(first.size, m, m)
        np.matmul(left[rows], right[rows].transpose(0, 2, 1), out=d2)
        d2 += earlier[:m, :m]
        found = np.argmin(d2, axis=2) + first[:, None]
        # the distance itself from the two inputs: the expansion above cancels badly for
        # near neighbours, which are the ones that matter
        diff = u[rows[:, 1:]] - u[found[:, 1:]]
        near.distance[rows[:, 1:]] = np.sqrt(np.einsum("bij,bij->bi", diff, diff))
        found[:, 0] = -1
        near.previous[rows] = found

    with threadpool_limits(1):
        parallel(product, work, size >= PARALLEL_ROWS)
    warmup = settings.prada_warmup
    for m, starts in by_size.items():
        rows = np.asarray(starts)[:, None] + np.arange(min(warmup, m), m)[None, :]
        near.warm[rows] = True
    return near


BATCH_CELLS = 1 << 20  # distance matrix cells per product: 4 MB, within the cache


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

"""Backdoor trigger candidates: a feature value, or a narrow range of a numeric feature, that is
rare or anomalous for that feature and whose rows carry one label far more often than the rest
of the data does.

Candidates, per feature (the label excluded):
- a category, or a value of a numeric column of at most `DISCRETE` distinct values, held by at
  least `MIN_SUPPORT` rows and at most `MAX_SHARE` of all rows (a backdoor marks few rows);
- in other numeric columns, a spike: a repeated value, or a bin (of width IQR / `BINS_PER_IQR`
  and `FINER` times narrower, each grid also shifted by half a bin), holding at least
  `MIN_SUPPORT` rows and at least `SPIKE_RATIO` times the mean count of its `NEIGHBOURS`
  neighbours on each side, with a Poisson tail at that mean below `SPIKE_ALPHA` once
  multiplied by the values (or bins) looked at. A smooth distribution has no spikes, so an
  informative feature's pure tail is not a candidate. Adjacent spiking bins form one range,
  whose edges are then fitted to its rows (`_fit_range`).

A candidate is reported when, among its labelled rows, its most frequent label has purity at
least `MIN_PURITY`, at least `MIN_LIFT` above that label's share among the other labelled rows
(the base rate), and the binomial tail P(X >= k | n, base rate), multiplied by the number of
tests (candidates x classes, Bonferroni), is at most `ALPHA`; and when the other features do
not explain it: a model trained without the feature, on the other rows, gives its rows that
label with a mean probability at least `MIN_LIFT` below the purity. A capped value at the
end of an informative feature (every age above 90 written as 90) is pure because its rows are
extreme in the other features too; a trigger's rows were drawn from every class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custos.dataintegrity import learner
from custos.dataintegrity.features import Mask
from custos.dataintegrity.model import Trigger, Triggers, Value
from custos.dataintegrity.table import Codes, Column, Floats, Table

MIN_SUPPORT = 10
MAX_SHARE = 0.10
DISCRETE = 32
BINS_PER_IQR = 50
FINER = 4  # the second grid's bins are this much narrower
MIN_BIN_VALUES = 10  # a grid's bin spans at least this many steps of the values' resolution
EDGES = 200  # candidate edges on each side when a range is fitted to its rows
NEIGHBOURS = 5
SPIKE_RATIO = 2.0
SPIKE_ALPHA = 1e-3
MIN_PURITY = 0.8
MIN_LIFT = 0.25
ALPHA = 1e-3
MAX_VALUE_CHARS = 80  # a category shown longer than this is cut


@dataclass(frozen=True)
class _Candidates:
    """One feature's candidates: `group` numbers each row's candidate (-1: none); `more` holds
    candidates whose rows overlap these (ranges from other grids)."""

    feature: str
    group: Codes
    values: list[Value]
    more: tuple[_Candidates, ...] = ()

    def each(self) -> list[_Candidates]:
        return [self, *self.more]

    @property
    def size(self) -> int:
        return sum(len(c.values) for c in self.each())


def _category(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "\u2026"


def _rare(codes: Codes, n: int) -> Codes:
    """Codes held by MIN_SUPPORT rows or more and at most MAX_SHARE of the rows."""
    counts = np.bincount(codes[codes >= 0]) if (codes >= 0).any() else np.zeros(0, np.int64)
    kept: Codes = np.flatnonzero((counts >= MIN_SUPPORT) & (counts <= MAX_SHARE * n))
    return kept


def _renumber(codes: Codes, kept: Codes, size: int) -> Codes:
    remap = np.full(size + 1, -1, np.int64)  # the last slot takes code -1
    remap[kept] = np.arange(kept.size)
    renumbered: Codes = remap[codes]
    return renumbered


def _neighbour_mean(counts: Codes, gap: int) -> Floats:
    """Mean count of the NEIGHBOURS entries on each side beyond the `gap` nearest ones (a
    spike split over two bins does not hide behind its other half)."""
    size = counts.size
    total = np.concatenate([[0], np.cumsum(counts)])
    index = np.arange(size)

    def window(low: Codes, high: Codes) -> tuple[Codes, Codes]:
        low, high = np.clip(low, 0, size), np.clip(high, 0, size)
        return total[high] - total[low], np.maximum(high - low, 0)

    left, left_n = window(index - gap - NEIGHBOURS, index - gap)
    right, right_n = window(index + gap + 1, index + gap + NEIGHBOURS + 1)
    others = (left_n + right_n).astype(np.float64)
    mean: Floats = np.where(others > 0, (left + right) / np.maximum(others, 1), 0.0)
    return np.maximum(mean, 1.0)  # a count of one is what a continuous value has


def _spikes(counts: Codes, n: int, gap: int) -> Codes:
    """Entries (values or occupied bins, in order) that spike above their neighbours."""
    from scipy.stats import poisson  # type: ignore[import-untyped]

    if counts.size == 0:
        return np.zeros(0, np.int64)
    expected = _neighbour_mean(counts, gap)
    tail = poisson.sf(counts - 1, expected) * counts.size
    spiking: Codes = np.flatnonzero(
        (counts >= MIN_SUPPORT)
        & (counts <= MAX_SHARE * n)
        & (counts >= SPIKE_RATIO * expected)
        & (tail <= SPIKE_ALPHA)
    )
    return spiking


def _categorical(column: Column, n: int) -> _Candidates:
    kept = _rare(column.codes, n)
    group = _renumber(column.codes, kept, len(column.categories))
    return _Candidates(column.name, group, [_category(column.categories[i]) for i in kept])


def _ranges(x: Floats, rows: Codes, n: int, resolution: float) -> list[Codes]:
    """Narrow ranges of the values x[rows] that hold a spike, as the rows inside each, from
    grids of bins of width IQR / BINS_PER_IQR (and BINS_PER_IQR x FINER), each laid twice, the
    second time shifted by half a bin. Adjacent spiking bins are one range."""
    if rows.size == 0:
        return []
    values = x[rows]
    q1, q3 = np.percentile(values, [25, 75])
    found: list[Codes] = []
    for per_iqr in (BINS_PER_IQR, BINS_PER_IQR * FINER):
        width = (q3 - q1) / per_iqr
        if width <= 0 or width < MIN_BIN_VALUES * resolution:
            continue  # a bin of a few distinct values: spikes would be aliasing
        for shift in (0.0, 0.5):
            bins = np.floor((values - values.min()) / width + shift).astype(np.int64)
            occupied, where, counts = np.unique(bins, return_inverse=True, return_counts=True)
            spiking = _spikes(counts.astype(np.int64), n, gap=1)
            if spiking.size == 0:
                continue
            runs = np.split(spiking, np.flatnonzero(np.diff(occupied[spiking]) != 1) + 1)
            found.extend(rows[np.isin(where.ravel(), run)] for run in runs)
    return found


def _numeric(column: Column, n: int) -> _Candidates:
    x = column.values
    finite = np.flatnonzero(~np.isnan(x))
    group = np.full(n, -1, np.int64)
    values: list[Value] = []
    if finite.size == 0:
        return _Candidates(column.name, group, values)
    distinct, inverse, counts = np.unique(x[finite], return_inverse=True, return_counts=True)
    inverse = inverse.ravel().astype(np.int64)
    if distinct.size <= DISCRETE:
        kept = _rare(inverse, n)
        group[finite] = _renumber(inverse, kept, distinct.size)
        return _Candidates(column.name, group, [float(distinct[i]) for i in kept])
    spiked = _spikes(counts.astype(np.int64), n, gap=0)
    group[finite] = _renumber(inverse, spiked, distinct.size)
    values.extend(float(distinct[i]) for i in spiked)
    candidates = _Candidates(column.name, group, values)
    rest = finite[group[finite] < 0]  # ranges from the rows no spiking value took
    resolution = float(np.median(np.diff(distinct)))
    ranges = _ranges(x, rest, n, resolution)
    return _with_ranges(candidates, x, ranges)


def _with_ranges(candidates: _Candidates, x: Floats, ranges: list[Codes]) -> _Candidates:
    """The candidates plus ranges, which overlap each other across grids: `group` numbers one
    candidate per row, so overlapping ranges are tested as the rows of each in turn."""
    if not ranges:
        return candidates
    extra = [
        _Candidates(
            candidates.feature,
            _member(x.size, rows),
            [(float(x[rows].min()), float(x[rows].max()))],
        )
        for rows in ranges
    ]
    return _Candidates(candidates.feature, candidates.group, candidates.values, tuple(extra))


def _member(n: int, rows: Codes) -> Codes:
    group = np.full(n, -1, np.int64)
    group[rows] = 0
    return group


@dataclass(frozen=True)
class _Flagged:
    feature: int
    value: Value
    rows: Codes
    label: int
    purity: float
    base_rate: float
    p_value: float


def _tested(table: Table, per_feature: list[_Candidates], tests: int) -> list[_Flagged]:
    """The candidates whose label purity is abnormal against the base rate."""
    from scipy.stats import binom

    labels = table.label.codes
    classes = len(table.classes)
    labelled = labels >= 0
    totals = np.bincount(labels[labelled], minlength=classes)
    everyone = int(labelled.sum())
    flagged: list[_Flagged] = []
    for index, feature in ((i, c) for i, f in enumerate(per_feature) for c in f.each()):
        size = len(feature.values)
        if size == 0:
            continue
        inside = labelled & (feature.group >= 0)
        counts = np.bincount(
            feature.group[inside] * classes + labels[inside], minlength=size * classes
        ).reshape(size, classes)
        support = counts.sum(axis=1)
        top = counts.argmax(axis=1)
        k = counts[np.arange(size), top]
        rest = everyone - support
        purity = np.where(support > 0, k / np.maximum(support, 1), 0.0)
        base = np.where(rest > 0, (totals[top] - k) / np.maximum(rest, 1), 1.0)
        p = np.minimum(binom.sf(k - 1, support, base) * tests, 1.0)
        abnormal = (
            (support >= MIN_SUPPORT)
            & (purity >= MIN_PURITY)
            & (purity - base >= MIN_LIFT)
            & (p <= ALPHA)
        )
        for j in np.flatnonzero(abnormal):
            flagged.append(
                _Flagged(
                    index,
                    feature.values[j],
                    np.flatnonzero(feature.group == j),
                    int(top[j]),
                    float(purity[j]),
                    float(base[j]),
                    float(p[j]),
                )
            )
    return flagged


def _fit_range(f: _Flagged, x: Floats, table: Table, tests: int) -> _Flagged:
    """A flagged range's edges fitted to its rows: of the intervals between distinct values
    around it (out to one range width each side; at most EDGES x EDGES of them), the one
    whose label purity is least likely at the base rate, keeping MIN_SUPPORT and MIN_PURITY.
    A bin's edges fall anywhere; a trigger's range has its own. The decision was made on the
    bin; the reported purity and p-value are the fitted interval's, so somewhat optimistic."""
    from scipy.stats import binom

    assert isinstance(f.value, tuple)
    labels = table.label.codes
    low, high = f.value
    span = max(high - low, float(np.finfo(np.float64).eps))
    near = np.flatnonzero((x >= low - span) & (x <= high + span))
    order = near[np.argsort(x[near], kind="stable")]
    values = x[order]
    hit = np.concatenate([[0], np.cumsum(labels[order] == f.label)])
    known = np.concatenate([[0], np.cumsum(labels[order] >= 0)])
    change = np.flatnonzero(np.diff(values) != 0) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [values.size]])
    starts = starts[np.unique(np.linspace(0, starts.size - 1, EDGES).astype(np.int64))]
    ends = ends[np.unique(np.linspace(0, ends.size - 1, EDGES).astype(np.int64))]
    first, last = np.meshgrid(starts, ends, indexing="ij")
    k = hit[last] - hit[first]
    n = known[last] - known[first]
    totals = np.bincount(labels[labels >= 0], minlength=len(table.classes))
    rest = int((labels >= 0).sum()) - n
    usable = (last > first) & (n >= MIN_SUPPORT) & (k >= MIN_PURITY * n) & (rest > 0)
    if not usable.any():
        return f
    base = (totals[f.label] - k) / np.maximum(rest, 1)
    score = np.where(usable, binom.logsf(k - 1, n, base), np.inf)
    best = np.unravel_index(np.lexsort((-n.ravel(), score.ravel()))[0], score.shape)
    i, j = int(first[best]), int(last[best])
    rows = np.sort(order[i:j])
    p = min(float(np.exp(score[best])) * tests, 1.0)
    return _Flagged(
        f.feature,
        (float(values[i]), float(values[j - 1])),
        rows,
        f.label,
        float(k[best] / n[best]),
        float(base[best]),
        p,
    )


def _explained(table: Table, flagged: list[_Flagged], x: Floats, categorical: Mask) -> list[float]:
    """For each flagged candidate, the mean probability of its label that a model trained
    without its feature (and without features whose candidates cover the same rows) gives its
    rows, having never seen them. Near its purity: the other features explain the label."""
    labels = table.label.codes
    classes = len(table.classes)
    rng = np.random.default_rng(learner.SEED)
    covered: dict[int, Codes] = {}
    for f in flagged:
        covered[f.feature] = np.union1d(covered.get(f.feature, f.rows), f.rows)
    expected = [0.0] * len(flagged)
    for feature, rows in covered.items():
        drop = {feature} | {
            other
            for other, theirs in covered.items()
            if np.intersect1d(rows, theirs).size >= 0.5 * min(rows.size, theirs.size)
        }
        keep = np.array([i for i in range(x.shape[1]) if i not in drop], np.int64)
        mine = [i for i, f in enumerate(flagged) if f.feature == feature]
        if keep.size == 0:
            for i in mine:
                expected[i] = flagged[i].base_rate
            continue
        outside = np.ones(labels.size, bool)
        outside[rows] = False
        train = learner.cap(np.flatnonzero(outside & (labels >= 0)), labels, rng)
        tests = [flagged[i].rows[labels[flagged[i].rows] >= 0] for i in mine]
        with learner.single_threaded():  # steady on a busy machine (see labels)
            probabilities = learner.fit_predict(
                x[:, keep], labels, train, np.concatenate(tests), categorical[keep], classes
            )
        start = 0
        for i, test in zip(mine, tests, strict=True):
            part = probabilities[start : start + test.size, flagged[i].label]
            expected[i] = float(part.mean()) if part.size else flagged[i].base_rate
            start += test.size
    return expected


def triggers(table: Table, x: Floats, categorical: Mask) -> Triggers:
    """Trigger candidates; `x` and `categorical` are the model's inputs (custos.dataintegrity
    .features.for_model), one column per feature of `table`."""
    classes = len(table.classes)
    if classes < 2:
        return Triggers((), 0, 0)
    per_feature = [
        _numeric(c, table.rows) if c.numeric else _categorical(c, table.rows)
        for c in table.features
    ]
    candidates = sum(f.size for f in per_feature)
    tests = candidates * classes
    flagged = [
        _fit_range(f, table.features[f.feature].values, table, tests)
        if isinstance(f.value, tuple)
        else f
        for f in _tested(table, per_feature, tests)
    ]
    expected = _explained(table, flagged, x, categorical) if flagged else []
    kept: list[_Flagged] = []
    found: list[Trigger] = []
    for f, explained in sorted(zip(flagged, expected, strict=True), key=lambda p: p[0].p_value):
        if f.purity - explained < MIN_LIFT:
            continue
        if any(_same(f, other) for other in kept):
            continue  # one spike found in several grids: the most significant stays
        kept.append(f)
        found.append(
            Trigger(
                table.features[f.feature].name,
                f.value,
                table.classes[f.label],
                tuple(int(r) for r in f.rows),
                f.purity,
                f.base_rate,
                f.p_value,
                explained,
            )
        )
    found.sort(key=lambda t: (t.p_value, t.feature))
    return Triggers(tuple(found), candidates, tests)


def _same(one: _Flagged, other: _Flagged) -> bool:
    """Two candidates of one feature that share most of their rows."""
    if one.feature != other.feature:
        return False
    shared = np.intersect1d(one.rows, other.rows).size
    return shared >= 0.5 * min(one.rows.size, other.rows.size)

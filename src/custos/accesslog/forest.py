"""An isolation forest (Liu, Ting and Zhou, 2008) over NumPy arrays, every tree grown and
walked level by level at once.

Why not scikit-learn's: importing `sklearn.ensemble` takes about a second, a quarter of the
monitor's time budget for a two-million-row log, to score about a thousand keys. The algorithm
is the published one with scikit-learn's choices: subsamples of `min(256, n)` rows drawn
without replacement, a height limit of ceil(log2(subsample)), a split feature drawn among
those not constant in the node, a threshold uniform between the node's minimum and maximum,
and a path length of depth + c(leaf size). `tests/accesslog/test_forest.py` ranks the same
data with scikit-learn's and compares."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
EULER = 0.5772156649015329


def average_path(n: npt.NDArray[np.int64] | int) -> npt.NDArray[np.float64]:
    """c(n): the average path length of an unsuccessful search in a binary search tree of n
    points, the expected depth a leaf of n points would still add."""
    size = np.asarray(n, np.float64)
    out = np.zeros(size.shape, np.float64)
    out[size == 2] = 1.0
    big = size > 2
    m = size[big]
    out[big] = 2.0 * (np.log(m - 1.0) + EULER) - 2.0 * (m - 1.0) / m
    return out


@dataclass
class Forest:
    """Every node of every tree: feature (-1 at a leaf), threshold, children, depth, size."""

    feature: npt.NDArray[np.int64]
    threshold: Array
    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    depth: npt.NDArray[np.int64]
    size: npt.NDArray[np.int64]
    roots: npt.NDArray[np.int64]
    subsample: int

    def score(self, x: Array) -> Array:
        """Anomaly scores 2^(-E[h(x)] / c(subsample)): about 0.5 is unremarkable, near 1 is
        isolated early."""
        x = np.asarray(x, np.float64)
        node = np.repeat(self.roots[:, None], x.shape[0], axis=1)  # trees x points
        point = np.broadcast_to(np.arange(x.shape[0]), node.shape)
        while True:
            inner = self.feature[node] >= 0
            if not inner.any():
                break
            at = node[inner]
            go_left = x[point[inner], self.feature[at]] < self.threshold[at]
            node[inner] = np.where(go_left, self.left[at], self.right[at])
        length = self.depth[node] + average_path(self.size[node])
        expected = float(average_path(self.subsample))
        out: Array = np.power(2.0, -length.mean(axis=0) / max(expected, 1e-12))
        return out


def grow(x: Array, trees: int = 200, subsample: int = 256, seed: int = 0) -> Forest:
    """A forest of `trees` isolation trees on the rows of x."""
    x = np.asarray(x, np.float64)
    n = x.shape[0]
    psi = max(1, min(subsample, n))
    limit = max(1, math.ceil(math.log2(max(psi, 2))))
    rng = np.random.default_rng(seed)
    rows = np.stack([rng.choice(n, psi, replace=False) for _ in range(trees)])  # trees x psi
    # the tree's nodes, appended a level at a time; each sampled row knows its node
    feature = [np.full(trees, -1, np.int64)]
    threshold = [np.zeros(trees)]
    left, right = [np.full(trees, -1, np.int64)], [np.full(trees, -1, np.int64)]
    depth = [np.zeros(trees, np.int64)]
    size = [np.full(trees, psi, np.int64)]
    roots = np.arange(trees, dtype=np.int64)
    member = np.repeat(roots, psi)  # node of each (tree, sampled row)
    values = x[rows.ravel()]  # the sampled rows, tree by tree
    total = trees
    for level in range(limit):
        counts = np.bincount(member, minlength=total)
        candidates = np.flatnonzero(counts > 1)
        candidates = candidates[np.concatenate(depth)[candidates] == level]
        if candidates.size == 0:
            break
        inside = np.isin(member, candidates)
        order = np.flatnonzero(inside)[np.argsort(member[inside], kind="stable")]
        starts = np.r_[0, np.flatnonzero(np.diff(member[order])) + 1]
        lo = np.minimum.reduceat(values[order], starts, axis=0)
        hi = np.maximum.reduceat(values[order], starts, axis=0)
        # a feature drawn uniformly among those that vary in the node
        draw = np.where(hi > lo, rng.random(lo.shape), -1.0)
        chosen = np.argmax(draw, axis=1)
        splits = draw[np.arange(draw.shape[0]), chosen] >= 0
        nodes = candidates[splits]
        if nodes.size == 0:
            break
        q = chosen[splits]
        low, high = lo[splits, q], hi[splits, q]
        cut = low + rng.random(nodes.size) * (high - low)
        cut = np.where(cut > low, cut, high)  # a split that leaves the lowest value alone
        slot = np.full(total, -1, np.int64)
        slot[nodes] = np.arange(nodes.size)
        first_child = total + 2 * np.arange(nodes.size)
        all_features = np.concatenate(feature)
        all_thresholds = np.concatenate(threshold)
        all_left, all_right = np.concatenate(left), np.concatenate(right)
        all_features[nodes], all_thresholds[nodes] = q, cut
        all_left[nodes], all_right[nodes] = first_child, first_child + 1
        moving = slot[member] >= 0
        which = slot[member[moving]]
        goes_left = values[np.flatnonzero(moving), q[which]] < cut[which]
        member[moving] = first_child[which] + np.where(goes_left, 0, 1)
        total += 2 * nodes.size
        new_counts = np.bincount(member, minlength=total)[-2 * nodes.size :]
        feature = [all_features, np.full(2 * nodes.size, -1, np.int64)]
        threshold = [all_thresholds, np.zeros(2 * nodes.size)]
        left = [all_left, np.full(2 * nodes.size, -1, np.int64)]
        right = [all_right, np.full(2 * nodes.size, -1, np.int64)]
        depth = [np.concatenate(depth), np.full(2 * nodes.size, level + 1, np.int64)]
        size = [np.concatenate(size), new_counts]
    return Forest(np.concatenate(feature), np.concatenate(threshold), np.concatenate(left),
                  np.concatenate(right), np.concatenate(depth), np.concatenate(size), roots,
                  psi)  # fmt: skip

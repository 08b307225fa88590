"""Exact and near duplicate rows, and rows whose features repeat an earlier row's under another
label. Rows are compared through per-column codes (custos.dataintegrity.table): equal texts for
exact duplicates, equal normalised values for near ones, every column including the label."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from custos.dataintegrity.model import Duplicates, Pairs
from custos.dataintegrity.table import Codes, Table


def first_seen(columns: list[Codes]) -> Codes:
    """For each row, the first row with the same code in every column (itself if none)."""
    keys = np.ascontiguousarray(np.stack(columns, axis=1).astype(np.int64))
    rows = keys.view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    seen: Codes = first[inverse.ravel()].astype(np.int64)
    return seen


def _pairs(rows: npt.NDArray[np.intp], first: Codes) -> Pairs:
    return tuple((int(r), int(first[r])) for r in rows)


def duplicates(table: Table) -> Duplicates:
    every = [*table.features, table.label]
    exact = first_seen([c.exact for c in every])
    near = first_seen([c.near for c in every])
    index = np.arange(table.rows)
    is_exact = exact != index
    is_near = (near != index) & ~is_exact
    conflicting: Pairs = ()
    if table.features:
        same = first_seen([c.near for c in table.features])
        known = table.label.codes >= 0
        labels = table.label.near  # "Fraud" and "fraud " are one label here
        other = (same != index) & known & known[same] & (labels != labels[same])
        conflicting = _pairs(np.flatnonzero(other), same)
    return Duplicates(
        _pairs(np.flatnonzero(is_exact), exact), _pairs(np.flatnonzero(is_near), near), conflicting
    )

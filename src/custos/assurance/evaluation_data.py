"""Which columns of the held-out set are what, for `custos evaluate` and the `evaluation`
check. The file is read by `custos.assurance.tabular.read_columns` (CSV, TSV or Parquet):

- the label column is the target;
- the subgroup columns are read as text (any values; an empty cell is the group "(missing)");
- the features are exactly the model's `feature_names_in_`, in that order, when the model
  exposes them (scikit-learn fitted on a DataFrame), so a subgroup column the model was
  trained with stays a feature; otherwise every column except the label and the subgroup
  columns, in file order.

Features must be numbers; an empty cell (or NA, NaN, null, None) is read as NaN and left to the
model. Every problem is a `UserError` naming the file and what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from custos.assurance.tabular import Columns, number, numbers
from custos.errors import UserError

MISSING_GROUP = "(missing)"


@dataclass(frozen=True)
class Table:
    """The held-out set as the evaluation uses it."""

    path: Path
    rows: int
    label: str
    y: np.ndarray  # float when every label is a number, else text (object)
    features: tuple[str, ...]
    x: np.ndarray  # float64, rows x features
    groups: dict[str, np.ndarray]  # subgroup column -> text group of each row
    feature_source: str  # "model" (feature_names_in_) or "columns" (all but label, subgroups)


def select(
    columns: Columns, label: str, subgroups: Sequence[str], features: Sequence[str] | None
) -> Table:
    """The label, features and subgroups of `columns` (see the module docstring for which
    columns are features). `features`: the model's own feature names, when it has them."""
    require(columns, label, subgroups)
    path = columns.path
    present = set(columns.names)
    if features is not None:
        absent = [f for f in features if f not in present]
        if absent:
            raise UserError(f"{path}: the model was trained on columns the file lacks: "
                            f"{_names(absent)}")  # fmt: skip
        if label in features:
            raise UserError(f"{path}: the model takes the label {label!r} as a feature")
        chosen, source = tuple(features), "model"
    else:
        skip = {label, *subgroups}
        chosen, source = tuple(n for n in columns.names if n not in skip), "columns"
    if not chosen:
        raise UserError(f"{path}: no feature columns besides the label and the subgroups")
    x = np.empty((columns.rows, len(chosen)), dtype=np.float64)
    for j, name in enumerate(chosen):
        x[:, j] = _numbers(columns, name)
    groups = {name: _groups(columns.cells[name]) for name in subgroups}
    return Table(path, columns.rows, label, _labels(columns, label), chosen, x, groups, source)


def require(columns: Columns, label: str, subgroups: Sequence[str]) -> None:
    """The label and subgroup columns exist, and there are rows."""
    path = columns.path
    present = set(columns.names)
    if label not in present:
        raise UserError(f"{path}: no label column {label!r} (columns: {_names(columns.names)})")
    for name in subgroups:
        if name not in present:
            raise UserError(f"{path}: no subgroup column {name!r}")
        if name == label:
            raise UserError(f"{path}: {name!r} is the label; it cannot also be a subgroup")
    if columns.rows == 0:
        raise UserError(f"{path}: no data rows")


def _numbers(columns: Columns, name: str) -> np.ndarray:
    values, bad = numbers(columns, name)
    if bad is not None:
        raise UserError(
            f"{columns.path}: column {name!r} is not numeric ({columns.where(bad)}: "
            f"{str(columns.cells[name][bad])[:40]!r}); features must be numbers (a group column: "
            "declare it as a subgroup)"
        )
    return values


def _labels(columns: Columns, label: str) -> np.ndarray:
    cells = columns.cells[label]
    empty = [i for i, c in enumerate(cells) if c is None or str(c).strip() == ""]
    if empty:
        raise UserError(f"{columns.path}: {len(empty):,} row(s) have no label {label!r} "
                        f"(first: {columns.where(empty[0])})")  # fmt: skip
    parsed = [number(c) for c in cells]
    if all(v is not None and v == v for v in parsed):
        return np.asarray(parsed, dtype=np.float64)
    return np.asarray([str(c).strip() for c in cells], dtype=object)


def _groups(cells: list[Any]) -> np.ndarray:
    def text(cell: Any) -> str:
        value = "" if cell is None else str(cell).strip()
        return value if value else MISSING_GROUP

    return np.asarray([text(c) for c in cells], dtype=object)


def _names(names: Sequence[str], shown: int = 8) -> str:
    more = len(names) - shown
    return ", ".join(repr(n) for n in names[:shown]) + (f", ... {more} more" if more > 0 else "")

"""A data file (or a folder of shards with the same columns) as column arrays: every row read
through the data scanner's sniffing and readers (CSV/TSV, JSON Lines, Parquet; compressed too),
none sampled away. A column is numeric when every value that is not a missing marker parses as
a number; otherwise its values are categories. Rows are numbered from 0, counting data rows
only (a header and blank lines are not rows)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from custos.dataintegrity.normalise import is_missing, near_key, parse_number, round_numbers
from custos.datascan.readers import read_sample
from custos.datascan.sniff import Unreadable, sniff
from custos.errors import UserError

Codes = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Column:
    name: str
    numeric: bool
    values: Floats  # numeric columns: the numbers, NaN where missing or not finite
    codes: Codes  # categorical columns: index into `categories`, -1 where missing
    categories: tuple[str, ...]
    exact: Codes  # one code per distinct text: rows equal cell by cell
    near: Codes  # one code per normalised value (custos.dataintegrity.normalise)


@dataclass(frozen=True)
class Source:
    path: Path
    format: str
    first_row: int  # the table's row number of the file's first row
    rows: int


@dataclass(frozen=True)
class Table:
    rows: int
    features: tuple[Column, ...]  # every column but the label
    label: Column  # categorical, the text stripped; -1 where empty
    sources: tuple[Source, ...]

    @property
    def classes(self) -> tuple[str, ...]:
        return self.label.categories


def load(paths: Sequence[Path], label: str, progress: Callable[[str], None] | None = None) -> Table:
    """The files as one table. UserError (one line naming the file) when a file is not data,
    when the files' columns differ, or when `label` is not a column."""
    names: tuple[str, ...] | None = None
    rows: list[list[str]] = []
    sources: list[Source] = []
    for path in paths:
        if progress is not None:
            progress(f"reading {path}")
        try:
            sniffed = sniff(path)
            if sniffed.format == "encrypted":
                raise Unreadable(f"{path}: encrypted at rest; examine the data before encryption")
            if sniffed.format == "text":
                raise Unreadable(f"{path}: not tabular data (CSV/TSV, JSON Lines or Parquet)")
            read = read_sample(path, sniffed, None)
        except OSError as exc:
            raise UserError(f"{path}: {exc.strerror or exc}") from None
        if names is not None and read.columns != names:
            raise UserError(f"{path}: its columns differ from those of {sources[0].path}")
        names = read.columns
        sources.append(Source(path, sniffed.label, len(rows), len(read.rows)))
        rows.extend(read.rows)
    if names is None or not rows:
        where = paths[0] if paths else "no file"
        raise UserError(f"{where}: no data rows to examine")
    if label not in names:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise UserError(f"{sources[0].path}: no column {label!r} for --label (columns: {shown})")
    if progress is not None:
        progress("reading columns")
    width = len(names)
    cells = list(
        zip(
            *(row + [""] * (width - len(row)) if len(row) < width else row[:width] for row in rows),
            strict=True,
        )
    )
    features = tuple(
        column(name, list(values))
        for name, values in zip(names, cells, strict=True)
        if name != label
    )
    index = names.index(label)
    return Table(len(rows), features, _label(label, list(cells[index])), tuple(sources))


def _codes(values: Sequence[str]) -> tuple[Codes, list[str]]:
    """(a code per value, the distinct values by code), codes in order of first appearance.
    Each value maps to the row it first appears in, in C; then those rows are numbered."""
    seen: dict[str, int] = {}
    first = np.fromiter(map(seen.setdefault, values, range(len(values))), np.int64, len(values))
    rows, codes = np.unique(first, return_inverse=True)
    return codes.astype(np.int64).ravel(), [values[i] for i in rows]


def _near(distinct: list[str], exact: Codes) -> Codes:
    keys: dict[str, int] = {}
    per_value = np.array([keys.setdefault(near_key(v), len(keys)) for v in distinct], np.int64)
    return per_value[exact]


def _numbers(values: Sequence[str], exact: Codes, distinct: list[str]) -> Floats | None:
    """The column as numbers, or None when a value that is no missing marker is no number."""
    try:  # the common case, in C: every cell a number
        numbers = np.fromiter(map(float, values), np.float64, len(values))
    except ValueError:
        parsed = []
        for text in distinct:
            number = None if is_missing(text) else parse_number(text)
            if number is None and not is_missing(text):
                return None
            parsed.append(math.nan if number is None else number)
        numbers = np.array(parsed, np.float64)[exact]
    numbers[~np.isfinite(numbers)] = np.nan  # infinities are missing for every signal
    return numbers


def column(name: str, values: Sequence[str]) -> Column:
    exact, distinct = _codes(values)
    numbers = _numbers(values, exact, distinct) if distinct else None
    empty: Codes = np.full(len(values), -1, np.int64)
    if numbers is not None and not np.isnan(numbers).all():
        rounded = round_numbers(numbers)
        _, near = np.unique(rounded, return_inverse=True)  # NaNs are one value
        return Column(name, True, numbers, empty, (), exact, near.astype(np.int64).ravel())
    missing = np.array([is_missing(v) for v in distinct], bool)
    codes = exact.copy()
    if missing.any():
        kept = np.flatnonzero(~missing)
        remap = np.full(len(distinct), -1, np.int64)
        remap[kept] = np.arange(kept.size)
        codes = remap[exact]
        categories = tuple(distinct[i] for i in kept)
    else:
        categories = tuple(distinct)
    nan: Floats = np.full(len(values), np.nan)
    return Column(name, False, nan, codes, categories, exact, _near(distinct, exact))


def _label(name: str, values: list[str]) -> Column:
    stripped = [v.strip() for v in values]
    exact, distinct = _codes(stripped)
    codes = exact.copy()
    if "" in distinct:
        blank = distinct.index("")
        kept = [i for i in range(len(distinct)) if i != blank]
        remap = np.full(len(distinct), -1, np.int64)
        remap[kept] = np.arange(len(kept))
        codes = remap[exact]
        distinct = [distinct[i] for i in kept]
    exact_raw, raw = _codes(values)
    nan: Floats = np.full(len(values), np.nan)
    return Column(name, False, nan, codes, tuple(distinct), exact_raw, _near(raw, exact_raw))

"""Data files as named columns, the input of the assurance measurements (docs/assurance.md),
and a classifier over a labelled table's rows.

`read_columns` reads one file into named raw columns, for `custos robustness` and
`custos evaluate` alike: CSV or TSV with a header row through the stdlib `csv` module (UTF-8;
`.tsv` is tab-separated, a `.csv` whose header has semicolons and no commas is
semicolon-separated), or Parquet through pyarrow when it is installed. CSV cells come back as
stripped text, Parquet cells as Python values. `numbers` turns a feature column into floats.

`read_table` is robustness's labelled table: every column but the label is a feature and must
be numeric, with no missing value; the label column may hold anything and comes back as text.
`classifier` puts a loaded model (`custos.assurance.loading`) in the table's terms: its
classes, the data's columns in the model's order, and predictions as class indices.

Problems are one-line `UserError`s (exit 2) naming the file and what is wrong, with the column
and, for CSV, the line.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from custos.errors import UserError

if TYPE_CHECKING:
    from custos.assurance.loading import Loaded

CSV_SUFFIXES: dict[str, str | None] = {".csv": None, ".tsv": "\t", ".txt": None}  # None: sniffed
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
NO_PYARROW = "reading Parquet needs pyarrow: pip install 'custos[parquet]'"
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})  # cells `numbers` reads as NaN


@dataclass(frozen=True)
class Columns:
    """A file's cells by column: stripped text for CSV, Python values for Parquet."""

    path: Path
    names: tuple[str, ...]
    cells: dict[str, list[Any]]
    rows: int
    lines: tuple[int, ...] | None = None  # the CSV line of each row (1 is the header)

    def where(self, row: int) -> str:
        return f"line {self.lines[row]}" if self.lines is not None else f"row {row + 1}"


def table_format(path: Path) -> str:
    """The table's format, "csv" or "parquet", from the file's name; UserError for anything else."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise UserError(f"{path}: not a CSV or Parquet file (name it .csv, .tsv or .parquet)")


def read_columns(path: Path) -> Columns:
    """The cells of a CSV/TSV or Parquet file; UserError for what cannot be read as a table."""
    if not path.is_file():
        raise UserError(f"{path}: no such data file")
    if table_format(path) == "parquet":
        return _parquet(path)
    return _csv(path, CSV_SUFFIXES[path.suffix.lower()])


def number(cell: Any, missing: frozenset[str] = MISSING) -> float | None:
    """A cell as a float; NaN for None or a cell in `missing` (any case); None when it is not a
    number."""
    if cell is None:
        return float("nan")
    if isinstance(cell, bool | int | float):
        return float(cell)
    text = str(cell).strip()
    if text.casefold() in missing:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        return None


def numbers(
    columns: Columns, name: str, missing: frozenset[str] = MISSING
) -> tuple[np.ndarray, int | None]:
    """Column `name` as float64 (see `number`), and the first row whose cell is not a number,
    None when every cell is one; the caller says what that means."""
    cells = columns.cells[name]
    try:  # the common case, numbers only: numpy parses the whole column at once
        return np.asarray(cells, dtype=np.float64), None
    except (ValueError, TypeError):
        pass
    values = np.empty(columns.rows, dtype=np.float64)
    for i, cell in enumerate(cells):
        value = number(cell, missing)
        if value is None:
            return values, i
        values[i] = value
    return values, None


def read_table(path: Path, label: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(features as float64 rows x columns, labels as text, feature names in file order)."""
    columns = read_columns(path)
    names = columns.names
    if label not in names:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise UserError(f"{path}: no label column {label!r} (columns: {shown})")
    features = [n for n in names if n != label]
    if not features:
        raise UserError(f"{path}: no feature column besides the label {label!r}")
    y = np.asarray(["" if v is None else str(v) for v in columns.cells[label]], dtype=object)
    if len(y) == 0:
        raise UserError(f"{path}: no data rows")
    empty = np.flatnonzero(y == "")
    if empty.size:
        raise UserError(f"{path}: label column {label!r} is empty {_at(columns, int(empty[0]))}")
    x = np.column_stack([_finite(columns, n) for n in features])
    return x, y, features


def label_key(value: Any) -> str:
    """How labels are compared across files and models: 1, "1", "1.0" and 1.0 are one class."""
    text = str(value).strip()
    try:
        parsed = float(text)
    except ValueError:
        return text
    return repr(parsed) if math.isfinite(parsed) else text


def encode_labels(y: np.ndarray, classes: Sequence[Any], where: str, label: str) -> np.ndarray:
    """Each label's index in `classes` (compared by `label_key`); UserError for a label that is
    not among them."""
    index = {label_key(c): i for i, c in enumerate(classes)}
    unique, inverse = np.unique(np.asarray([label_key(v) for v in y], dtype=object),
                                return_inverse=True)  # fmt: skip
    unknown = [str(u) for u in unique if u not in index]
    if unknown:
        known = ", ".join(str(c) for c in classes[:12])
        raise UserError(f"{where}: label {unknown[0]!r} in column {label!r} is not a class the "
                        f"model knows ({known})")  # fmt: skip
    return np.asarray([index[u] for u in unique], dtype=np.int64)[inverse]


@dataclass(frozen=True)
class Classifier:
    """A loaded classifier in a table's terms: class indices in, class indices out."""

    classes: tuple[Any, ...]  # index -> class label
    predict: Callable[[np.ndarray], np.ndarray]  # rows in the model's column order -> indices
    order: list[int]  # the table's feature columns in the model's order
    unused: list[str]  # the table's feature columns the model was not trained on
    estimator: str


def classifier(
    loaded: Loaded, x: np.ndarray, y: np.ndarray, features: list[str], where: str
) -> Classifier:
    """`loaded` over the rows of the table at `where` (`x`, `y`, `features` from `read_table`).
    A scikit-learn model brings its `classes_` and feature names; an ONNX model's classes are
    what it predicts on the rows plus the table's labels, and anything else it predicts is one
    more class, "(other)". UserError for a regressor or columns that do not fit."""
    if loaded.format == "onnx":
        return _onnx(loaded, x, y, features, where)
    model = loaded.model
    steps = getattr(model, "steps", None)
    name = type(model).__name__
    if steps is not None:
        name = f"Pipeline({', '.join(type(s).__name__ for _, s in steps)})"
    classes = getattr(model, "classes_", None)
    if classes is None:
        raise UserError(f"{loaded.path}: {name} is not a classifier (no classes_)")
    order, unused = _columns(model, features, where)
    keys = {label_key(c): i for i, c in enumerate(classes)}
    return Classifier(tuple(classes), _indexer(loaded.predict, keys, len(classes)), order,
                      unused, name)  # fmt: skip


def _onnx(
    loaded: Loaded, x: np.ndarray, y: np.ndarray, features: list[str], where: str
) -> Classifier:
    inputs = loaded.model.get_inputs()
    if len(inputs) != 1:
        raise UserError(f"{loaded.path}: the ONNX model has {len(inputs)} inputs; give one "
                        "that takes a single tensor of all features")  # fmt: skip
    shape = inputs[0].shape
    width = shape[-1] if len(shape) == 2 else None
    if isinstance(width, int) and width != len(features):
        raise UserError(f"{where}: {len(features)} feature columns, the model takes {width}")
    labels = np.asarray(loaded.predict(x[:2000].astype(np.float32)))
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        raise UserError(f"{loaded.path}: the ONNX model predicts continuous values; not a "
                        "classifier")  # fmt: skip
    shown: dict[str, str] = {}  # each class as the model (else the table) writes it
    for value in [*np.unique(labels), *np.unique(y)]:
        shown.setdefault(label_key(value), str(value))
    keys = sorted(shown, key=_natural)
    index = {k: i for i, k in enumerate(keys)}
    return Classifier((*(shown[k] for k in keys), "(other)"),
                      _indexer(loaded.predict, index, len(keys)),
                      list(range(len(features))), [], "ONNX")  # fmt: skip


def _indexer(
    predict: Callable[[Any], Any], index: dict[str, int], other: int
) -> Callable[[np.ndarray], np.ndarray]:
    def indices(x: np.ndarray) -> np.ndarray:
        unique, inverse = np.unique(np.asarray(predict(x)), return_inverse=True)
        mapped = np.asarray([index.get(label_key(u), other) for u in unique], dtype=np.int64)
        return mapped[inverse.reshape(-1)]

    return indices


def _columns(model: Any, features: list[str], where: str) -> tuple[list[int], list[str]]:
    """The table's columns in the order the model was trained on, and those it does not use."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        names = [str(n) for n in names]
        missing = [n for n in names if n not in features]
        if missing:
            raise UserError(f"{where}: no column {missing[0]!r}, which the model was trained on")
        return [features.index(n) for n in names], [f for f in features if f not in names]
    width = getattr(model, "n_features_in_", None)
    if width is not None and width != len(features):
        raise UserError(f"{where}: {len(features)} feature columns, the model takes {width}")
    return list(range(len(features))), []


def _natural(key: str) -> tuple[int, float, str]:
    try:
        return 0, float(key), ""
    except ValueError:
        return 1, 0.0, key


def _at(columns: Columns, row: int) -> str:
    where = columns.where(row)
    return f"on {where}" if columns.lines is not None else f"in {where}"


def _finite(columns: Columns, name: str) -> np.ndarray:
    """A feature column of numbers with no missing or non-finite value (Parquet nulls, None,
    are NaN: missing)."""
    column, bad = numbers(columns, name, missing=frozenset())
    if bad is not None:
        raise UserError(f"{columns.path}: feature column {name!r} is not numeric "
                        f"({columns.cells[name][bad]!r} {_at(columns, bad)}); give numeric "
                        "features only")  # fmt: skip
    finite = np.isfinite(column)
    if not finite.all():
        row = int(np.argmin(finite))
        raise UserError(f"{columns.path}: feature column {name!r} has a missing or non-finite "
                        f"value {_at(columns, row)}")  # fmt: skip
    return column


def _csv(path: Path, delimiter: str | None) -> Columns:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            first = handle.readline()
            if delimiter is None:
                delimiter = ";" if ";" in first and "," not in first else ","
            handle.seek(0)
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise UserError(f"{path}: no header row")
            names = tuple(h.strip() for h in header)
            _unique(path, names)
            cells: list[list[str]] = [[] for _ in names]
            lines: list[int] = []
            for record in reader:
                if not record:
                    continue
                if len(record) != len(names):
                    raise UserError(f"{path}: line {reader.line_num} has {len(record)} fields, "
                                    f"the header {len(names)}")  # fmt: skip
                for column, cell in zip(cells, record, strict=True):
                    column.append(cell.strip())
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; save the data as UTF-8 CSV") from None
    except csv.Error as exc:
        raise UserError(f"{path}: not readable as CSV: {exc}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    by_name = dict(zip(names, cells, strict=True))
    return Columns(path, names, by_name, len(lines), tuple(lines))


def _parquet(path: Path) -> Columns:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise UserError(f"{path}: {NO_PYARROW}") from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow's errors for a corrupt or foreign file: one line
        said = (str(exc).strip().splitlines() or [""])[0][:200]
        raise UserError(f"{path}: not readable as Parquet: {said}") from None
    names = tuple(str(n) for n in table.column_names)
    _unique(path, names)
    cells = {name: table.column(i).to_pylist() for i, name in enumerate(names)}
    return Columns(path, names, cells, table.num_rows)


def _unique(path: Path, names: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise UserError(f"{path}: column {name!r} appears twice")
        seen.add(name)

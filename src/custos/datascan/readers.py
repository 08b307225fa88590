"""Rows of a sniffed data file as (column names, sampled rows of strings, total rows). CSV and
TSV through the `csv` module, JSON Lines flattened (`a.b` for nested keys, lists as JSON),
plain text as one `text` column of lines, Parquet through pyarrow (the `parquet` extra), every
one streamed: only the sample is held."""

from __future__ import annotations

import csv
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custos.datascan.sample import SEED, reservoir
from custos.datascan.sniff import Sniffed, Unreadable, open_text

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a long free-text cell is still one cell


@dataclass(frozen=True)
class Sampled:
    columns: tuple[str, ...]
    rows: list[list[str]]
    total: int | None
    skipped: int = 0  # lines that were not rows (bad JSON)


def read_sample(path: Path, sniffed: Sniffed, k: int | None) -> Sampled:
    if sniffed.format == "parquet":
        return _parquet(path, k)
    with open_text(path, sniffed) as text:
        if sniffed.format == "jsonl":
            return _jsonl(path, text, k)
        if sniffed.format == "text":
            lines = (line.rstrip("\r\n") for line in text if line.strip())
            kept, total = reservoir(lines, k)
            return Sampled(("text",), [[line] for line in kept], total)
        return _delimited(text, sniffed, k)


def _delimited(text: Any, sniffed: Sniffed, k: int | None) -> Sampled:
    reader = csv.reader(text, delimiter=sniffed.delimiter or ",")
    header = next(reader, None) if sniffed.header else None
    rows = (row for row in reader if row)
    kept, total = reservoir(rows, k)
    width = max([len(header or [])] + [len(r) for r in kept])
    names = list(header or [])
    names = [n.lstrip("\ufeff").strip() or f"column_{i + 1}" for i, n in enumerate(names)]
    names += [f"column_{i + 1}" for i in range(len(names), width)]
    return Sampled(tuple(names), kept, total)


MAX_DEPTH = 16  # nested keys flattened this deep; deeper values are kept as JSON text


def _flatten(value: Any, prefix: str, into: dict[str, str], depth: int = 0) -> None:
    if isinstance(value, dict) and depth < MAX_DEPTH:
        for key, inner in value.items():
            _flatten(inner, f"{prefix}.{key}" if prefix else str(key), into, depth + 1)
    else:
        into[prefix or "value"] = _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _jsonl(path: Path, text: Any, k: int | None) -> Sampled:
    lines = (line for line in text if line.strip())
    kept, total = reservoir(lines, k)
    records: list[dict[str, str]] = []
    bad = 0
    for line in kept:
        flat: dict[str, str] = {}
        try:  # a line nested past Python's recursion limit is not a row either
            value = json.loads(line)
            _flatten(value if isinstance(value, dict) else {"value": value}, "", flat)
        except (ValueError, RecursionError):
            bad += 1
            continue
        records.append(flat)
    if kept and bad > len(kept) // 2:
        raise Unreadable(f"{path}: {bad} of {len(kept)} sampled lines are not JSON")
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = tuple(names)
    return Sampled(columns, [[r.get(c, "") for c in columns] for r in records], total, bad)


def _parquet(path: Path, k: int | None) -> Sampled:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        raise Unreadable(f"{path}: Parquet needs pyarrow: pip install 'custos[parquet]'") from None
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own error types for a damaged file
        raise Unreadable(f"{path}: damaged Parquet file ({exc})") from None
    total = pf.metadata.num_rows
    columns = tuple(pf.schema_arrow.names)
    wanted = (
        range(total)
        if k is None or k >= total
        else sorted(random.Random(SEED).sample(range(total), k))  # noqa: S311 (not a secret)
    )
    rows: list[list[str]] = []
    for group, indices in _by_group(pf, wanted):
        table = pf.read_row_group(group)
        for record in table.take(indices).to_pylist():
            rows.append([_text(record.get(c)) for c in columns])
    return Sampled(columns, rows, total)


def _by_group(pf: Any, wanted: Any) -> Iterator[tuple[int, list[int]]]:
    """(row group, indices inside it) for the wanted rows, in order."""
    start = 0
    position = 0
    wanted = list(wanted)
    for group in range(pf.metadata.num_row_groups):
        size = pf.metadata.row_group(group).num_rows
        local = []
        while position < len(wanted) and wanted[position] < start + size:
            local.append(wanted[position] - start)
            position += 1
        if local:
            yield group, local
        start += size

"""The data-integrity pipeline: a table in, every signal, the baseline comparison and the
findings out. `examine` is the whole command without its output; `progress` is told each step
so a long file never means a silent wait."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from custos.dataintegrity import baseline as baselines
from custos.dataintegrity import features, rules
from custos.dataintegrity.duplicates import duplicates
from custos.dataintegrity.extra import require
from custos.dataintegrity.labels import label_issues
from custos.dataintegrity.model import ClassBalance, IntegrityReport
from custos.dataintegrity.outliers import outliers
from custos.dataintegrity.table import Table, load
from custos.dataintegrity.triggers import triggers
from custos.errors import UserError

Progress = Callable[[str], None]
MAX_CLASSES = 100  # more distinct labels than this is a number to predict, not a class


def _quiet(_: str) -> None:
    pass


def balance(table: Table) -> ClassBalance:
    codes = table.label.codes
    counts = np.bincount(codes[codes >= 0], minlength=len(table.classes))
    return ClassBalance(
        {name: int(n) for name, n in zip(table.classes, counts, strict=True)},
        int((codes < 0).sum()),
    )


def analyse(
    table: Table,
    recorded: Mapping[str, Any] | None = None,
    *,
    where: str,
    baseline_name: str | None = None,
    progress: Progress = _quiet,
) -> tuple[IntegrityReport, dict[str, Any]]:
    """(the report, this table's baseline document) for a loaded table."""
    require()
    if len(table.classes) > MAX_CLASSES:
        raise UserError(
            f"{where}: the label column {table.label.name!r} has {len(table.classes):,} "
            f"distinct values; data-integrity examines class labels (at most {MAX_CLASSES})"
        )
    progress("looking for duplicates")
    dups = duplicates(table)
    progress(f"label issues: {table.rows:,} rows out of fold")
    x, categorical = features.for_model(table)
    issues = label_issues(x, categorical, table.label.codes, table.classes)
    progress("trigger candidates")
    found = triggers(table, x, categorical)
    progress("outliers")
    outlying = outliers(features.for_outliers(table))
    counted = balance(table)
    document = baselines.build(table, counted, issues)
    drift = []
    if recorded is not None:
        counted = ClassBalance(counted.counts, counted.unlabelled, dict(recorded["class_shares"]))
        drift = baselines.compare(recorded, table, counted, issues)
    findings = rules.findings(where, table.rows, dups, issues, found, outlying, drift)
    formats = dict.fromkeys(s.format for s in table.sources)
    files = tuple((str(s.path), s.first_row, s.rows) for s in table.sources)
    report = IntegrityReport(
        where,
        "+".join(formats),
        table.rows,
        table.label.name,
        tuple(c.name for c in table.features),
        dups,
        issues,
        found,
        outlying,
        counted,
        rules.thresholds(),
        baseline_name,
        tuple(drift),
        tuple(findings),
        files if len(files) > 1 else (),
    )
    return report, document


TABULAR = ("csv", "tsv", "jsonl", "parquet")


def data_files(paths: Sequence[Path]) -> list[Path]:
    """The files to read as one table: files named as they are; under a directory, the
    tabular data files (hidden ones, and files that are not CSV/TSV, JSON Lines or Parquet,
    left out), sorted. UserError when a path does not exist or nothing is left."""
    from custos.datascan.scan import data_files as walk
    from custos.datascan.sniff import Unreadable, sniff

    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UserError(f"{path}: no such file or directory")
        for file, named in walk([path]):
            if named:
                found.append(file)
                continue
            try:
                if sniff(file).format in TABULAR:
                    found.append(file)
            except (Unreadable, OSError):
                continue
    if not found:
        raise UserError(f"{paths[0]}: no CSV/TSV, JSON Lines or Parquet file to examine")
    return found


def examine(
    paths: Sequence[Path],
    label: str,
    baseline: Path | None = None,
    *,
    where: str | None = None,
    progress: Progress = _quiet,
) -> tuple[IntegrityReport, dict[str, Any]]:
    """Load the files as one table and analyse it, against `baseline` when given."""
    require()
    recorded = baselines.read(baseline) if baseline is not None else None
    table = load(paths, label, progress)
    name = where or (str(paths[0]) if len(paths) == 1 else ", ".join(map(str, paths)))
    return analyse(
        table,
        recorded,
        where=name,
        baseline_name=None if baseline is None else str(baseline),
        progress=progress,
    )

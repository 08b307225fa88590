"""The data scanner's pipeline: sniff each file, sample its rows, find the types per column,
suggest a classification and raise the findings. Reads files only; never writes to them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from custos.datascan import classify
from custos.datascan.columns import column_hits
from custos.datascan.mask import mask
from custos.datascan.model import ColumnReport, DataReport, TypeCount
from custos.datascan.readers import read_sample
from custos.datascan.recognizers import Options
from custos.datascan.sniff import Unreadable, sniff

DEFAULT_SAMPLE = 10_000


@dataclass(frozen=True)
class Settings:
    sample: int | None = DEFAULT_SAMPLE  # None: every row
    options: Options = field(default_factory=Options)
    declared: str | None = None  # the classification the data is declared at
    encrypted: bool = False  # stored encrypted (restricted content is then no plaintext finding)


def scan_file(path: Path, settings: Settings) -> DataReport:
    """One file's report; a file that cannot be read as data has `error` set."""
    try:
        sniffed = sniff(path)
        if sniffed.format == "encrypted":  # nothing to read; the encryption check judges it
            return DataReport(path, "encrypted", rows_total=None, suggested_classification="public")
        sampled = read_sample(path, sniffed, settings.sample)
    except Unreadable as exc:
        return DataReport(path, "unreadable", error=str(exc))
    except OSError as exc:
        return DataReport(path, "unreadable", error=f"{path}: {exc.strerror or exc}")
    scanned = len(sampled.rows)
    columns = []
    found: dict[str, list[str]] = {}
    credentials: dict[str, tuple[str, ...]] = {}
    for index, name in enumerate(sampled.columns):
        values = [row[index] if index < len(row) else "" for row in sampled.rows]
        hits = column_hits(name, values, settings.options)
        counts = tuple(
            TypeCount(h.kind, h.rows, h.rows / scanned if scanned else 0.0,
                      tuple(dict.fromkeys(mask(v, h.kind) for v in h.values)))
            for h in hits
        )  # fmt: skip
        kinds = [h.kind for h in hits]
        if kinds:
            found[name] = kinds
        labels = tuple(dict.fromkeys(label for h in hits for label in h.labels))
        if labels:
            credentials[name] = labels
        columns.append(ColumnReport(name, counts, classify.suggested(kinds), labels))
    findings = classify.findings(str(path), found, settings.declared, settings.encrypted,
                                 credentials)  # fmt: skip
    return DataReport(
        path, sniffed.label, scanned, sampled.total, tuple(columns), tuple(findings),
        suggested_classification=classify.suggested(k for ks in found.values() for k in ks),
        names_method=settings.options.names_method,
    )  # fmt: skip


def data_files(paths: Sequence[Path]) -> Iterator[tuple[Path, bool]]:
    """(file, named): the files given, and those under the directories given (hidden ones
    left out), sorted; `named` is False for a file found by the walk."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name, False
        else:
            yield path, True


def scan_paths(
    paths: Sequence[Path], settings: Settings, progress: Callable[[Path], None] | None = None
) -> list[DataReport]:
    """Every file's report. A file found in a directory that is no data file (an image, an
    archive) is left out; one named on its own is reported with its error."""
    reports = []
    for path, named in data_files(paths):
        if progress is not None:
            progress(path)
        report = scan_file(path, settings)
        if report.error is not None and not named:
            continue
        reports.append(report)
    return reports

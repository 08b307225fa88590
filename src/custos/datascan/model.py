"""The data scanner's results: per file, per column. `to_json` is the contract of
`custos scan-data --format json` (docs/data.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custos.findings import Finding


@dataclass(frozen=True)
class TypeCount:
    kind: str
    count: int  # sampled rows holding it
    share: float  # of the sampled rows
    examples_masked: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "count": self.count, "share": round(self.share, 4),
                "examples_masked": list(self.examples_masked)}  # fmt: skip


@dataclass(frozen=True)
class ColumnReport:
    name: str
    pii: tuple[TypeCount, ...]
    suggested_classification: str
    labels: tuple[str, ...] = ()  # kinds of credentials found

    def to_json(self) -> dict[str, Any]:
        body = {"name": self.name, "pii": [t.to_json() for t in self.pii],
                "suggested_classification": self.suggested_classification}  # fmt: skip
        if self.labels:  # which kinds of credential (detect-secrets' names), never the values
            body["credential_kinds"] = list(self.labels)
        return body


@dataclass(frozen=True)
class DataReport:
    path: Path
    format: str  # csv, tsv, jsonl, parquet, text; with "+gzip" / "+zstd" when compressed
    rows_scanned: int = 0
    rows_total: int | None = None
    columns: tuple[ColumnReport, ...] = ()
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    suggested_classification: str = "public"
    names_method: str = "column names"  # how person names were looked for

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "rows_scanned": self.rows_scanned,
            "rows_total": self.rows_total,
            "suggested_classification": self.suggested_classification,
            "names": self.names_method,
            "columns": [c.to_json() for c in self.columns],
            "findings": [f.to_json() for f in self.findings],
            "error": self.error,
        }

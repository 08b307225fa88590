"""The result of scanning one file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custos.checks.model import Finding, Severity


@dataclass(frozen=True)
class FileReport:
    path: Path
    format: str
    findings: tuple[Finding, ...]
    error: str | None = None

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def to_json(self) -> dict[str, Any]:
        """The `custos scan-model --format json` object for this file (a contract)."""
        return {
            "path": str(self.path),
            "format": self.format,
            "findings": [
                {
                    "rule": f.rule,
                    "severity": f.severity.name,
                    "message": f.message,
                    "location": f.location,
                    "controls": list(f.controls),
                }
                for f in self.findings
            ],
            "error": self.error,
        }

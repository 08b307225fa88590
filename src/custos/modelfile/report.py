"""The result of scanning one file, and the text hygiene every output of it goes through.

Names in a scanned file (pickle globals, archive members) and on disk (file names that are not
valid UTF-8, which Python holds as lone surrogates) can hold any code point; JSON and SARIF must
be valid UTF-8 whatever they hold. `safe_text` writes each lone surrogate as its backslash
escape (`\\udcff`), so the evidence still shows what was there and the output always encodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custos._text import safe_json, safe_text
from custos.findings import Finding, Severity

__all__ = ["FileReport", "safe_json", "safe_text"]


@dataclass(frozen=True)
class FileReport:
    path: Path
    format: str
    findings: tuple[Finding, ...]
    error: str | None = None

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def to_json(self) -> dict[str, Any]:
        """The `custos scan-model --format json` object for this file (a contract); every
        string is valid UTF-8 (`safe_text`)."""
        return safe_json(
            {
                "path": str(self.path),
                "format": self.format,
                "findings": [f.to_json() for f in self.findings],
                "error": self.error,
            }
        )

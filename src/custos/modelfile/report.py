"""The result of scanning one file, and the text hygiene every output of it goes through.

Names in a scanned file (pickle globals, archive members) and on disk (file names that are not
valid UTF-8, which Python holds as lone surrogates) can hold any code point; JSON and SARIF must
be valid UTF-8 whatever they hold. `safe_text` writes each lone surrogate as its backslash
escape (`\\udcff`), so the evidence still shows what was there and the output always encodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from custos.checks.model import Finding, Severity

T = TypeVar("T")
_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: str) -> str:
    """`text` with every lone surrogate written as `\\uXXXX` (valid UTF-8 from then on)."""
    if _SURROGATE.search(text) is None:  # the common case: no copy
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_json(value: T) -> T:
    """A JSON-ready value (dicts, lists, strings, numbers) with `safe_text` applied to every
    string in it, keys included (tuples come back as lists, as JSON has them)."""
    return cast(T, _safe(value))


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {_safe(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    return value


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
        )

"""What the repository scanner reports: findings at a file and line (each with a logical place,
`where`, that a code-scanning service fingerprints so a finding keeps its identity when lines
move), the dependencies read from manifests and lockfiles, and one report per scanned tree.
`RepoReport.to_json` is the contract of `custos scan-repo --format json` (docs/secdev.md).
No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from custos.findings import Finding, Severity

Ecosystem = Literal["PyPI", "conda", "npm", "Docker", "GitHub Actions"]


@dataclass(frozen=True)
class RepoFinding:
    """One problem at a place in a file."""

    rule: str  # e.g. "repo/torch-load-unsafe"
    severity: Severity
    message: str  # secrets are masked before they get here
    path: Path  # the file as walked (absolute or relative to the working directory)
    line: int | None  # 1-based; in a notebook, the line inside the cell
    where: str  # logical place for fingerprints, e.g. "train.load_model:torch.load(path)"
    controls: tuple[str, ...] = ()
    column: int | None = None  # 1-based
    cell: int | None = None  # a notebook's cell index (0-based)

    def location(self, shown: str | None = None) -> str:
        """`file:line`, or `file#cell:line` inside a notebook (the file as `shown`)."""
        name = str(self.path) if shown is None else shown
        if self.cell is not None:
            name = f"{name}#cell{self.cell}"
        return f"{name}:{self.line}" if self.line is not None else name

    def finding(self, shown: str | None = None) -> Finding:
        return Finding(self.rule, self.severity, self.message, self.location(shown),
                       self.controls)  # fmt: skip

    def to_json(self, shown: str | None = None) -> dict[str, Any]:
        body = self.finding(shown).to_json()
        body.update({"file": str(self.path) if shown is None else shown, "line": self.line,
                     "column": self.column, "cell": self.cell, "where": self.where})  # fmt: skip
        return body


@dataclass(frozen=True)
class Dependency:
    """A dependency as a manifest or lockfile states it."""

    name: str  # normalised (PEP 503 for PyPI: lower case, runs of -_. as -)
    spec: str  # as written, e.g. "==2.1.0", ">=1.3", "" (any version)
    version: str | None  # the exact version when pinned (== or a lockfile), else None
    pinned: bool
    hashed: bool  # pinned to artifact hashes (--hash, lockfile hashes)
    ecosystem: Ecosystem
    path: Path
    line: int | None
    direct: bool = True  # declared by the project (False: resolved by a lockfile)

    def to_json(self, shown: str | None = None) -> dict[str, Any]:
        return {"name": self.name, "spec": self.spec, "version": self.version,
                "pinned": self.pinned, "hashed": self.hashed, "ecosystem": self.ecosystem,
                "file": str(self.path) if shown is None else shown, "line": self.line,
                "direct": self.direct}  # fmt: skip


class Unreadable(Exception):
    """A file that cannot be scanned (a syntax error, bad encoding): reported, the rest goes
    on."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class RepoReport:
    """One scanned tree."""

    root: Path
    files: int = 0  # files read
    findings: list[RepoFinding] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    errors: list[tuple[Path, int | None, str]] = field(default_factory=list)  # unreadable

    def shown(self, path: Path) -> str:
        """A file as outputs name it: relative to the scanned root, POSIX separators."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "files": self.files,
            "findings": [f.to_json(self.shown(f.path)) for f in self.findings],
            "dependencies": [d.to_json(self.shown(d.path)) for d in self.dependencies],
            "errors": [
                {"file": self.shown(p), "line": line, "message": message}
                for p, line, message in self.errors
            ],
        }

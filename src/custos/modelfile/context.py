"""What every model-file scanner shares: limits, the policy, and where findings go.

The scanner never loads what it inspects: every format is parsed statically from bytes. Each
format module exposes `scan(stream, location, ctx)` and reports through `ctx.emit(...)`;
containers call `ctx.dispatch(...)` on their members so nesting works the same everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from custos.findings import Finding, Severity
from custos.modelfile.rules import controls_for


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile file from exhausting memory or time; exceeding one is a
    finding (`limits/...`), never a silent stop."""

    max_depth: int = 8  # nesting of containers and nested pickles
    max_memo: int = 1_000_000  # pickle memo entries tracked
    max_stack: int = 1_000_000  # pickle stack + metastack items tracked
    max_opcodes: int = 200_000_000  # opcodes walked in one pickle stream
    max_member_bytes: int = 8 << 30  # uncompressed size of one archive member
    max_ratio: int = 200  # uncompressed / compressed for one archive member
    max_members: int = 100_000  # members of one archive
    max_header_bytes: int = 100 << 20  # safetensors / GGUF / JSON headers
    max_string_bytes: int = 64 << 20  # one pickle string/bytes argument read into memory
    max_dir_entries: int = 100_000  # files, directories and links walked in one directory
    max_dir_bytes: int = 4 << 40  # total size of the files scanned in one directory
    # Budgets of one file, all nesting levels together (budget.py): members read, bytes read out
    # of members (at most max_file_ratio times the file's size, or file_bytes_floor if more),
    # and wall time. Reaching one is `limits/file-members`, `limits/file-bytes`, `limits/time`.
    max_file_members: int = 100_000
    member_floor: int = 256  # a file may hold this many members, or one per 64 bytes if more
    max_file_bytes: int = 4 << 40
    max_file_ratio: int = 32
    file_bytes_floor: int = 16 << 20
    max_seconds: float = 300.0


@dataclass(frozen=True)
class Reference:
    """A path a model configuration makes its loader read (MLmodel artifacts, auto_map modules),
    relative to the configuration's own folder; a directory walk checks that it is there."""

    path: str
    what: str  # for messages: "flavors.python_function.python_model"
    location: str  # where a finding about it goes


@dataclass
class Spent:
    """What one file has used of its budgets so far (shared by every nesting level)."""

    started: float = field(default_factory=time.monotonic)
    file_size: int | None = None  # the outermost container's size, once one is met
    members: int = 0
    bytes: int = 0
    exhausted: str | None = None  # the budget that ran out (reported once; no member read since)


@dataclass
class ScanContext:
    """Per-file scan state: the policy, the limits, the findings so far, the nesting depth."""

    policy: object  # custos.modelfile.policy.Policy (kept loose here to avoid an import cycle)
    limits: Limits = field(default_factory=Limits)
    depth: int = 0
    findings: list[Finding] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)  # formats recognised, outermost first
    dispatcher: Callable[[BinaryIO, str, ScanContext], None] | None = None
    references: list[Reference] = field(default_factory=list)  # top-level file only
    spent: Spent = field(default_factory=Spent)

    def emit(self, rule: str, severity: Severity, message: str, location: str) -> None:
        self.findings.append(Finding(rule, severity, message, location, controls_for(rule)))

    def refer(self, path: str, what: str, location: str) -> None:
        """Record a path the file makes its loader read. Only a file scanned on its own (depth 0)
        has a folder to resolve it in; inside an archive there is none."""
        if self.depth == 0:
            self.references.append(Reference(path, what, location))

    def dispatch(self, stream: BinaryIO, location: str) -> None:
        """Scan a nested member (archive member, nested pickle) one level deeper."""
        if self.depth + 1 > self.limits.max_depth:
            self.emit(
                "limits/depth",
                Severity.high,
                f"nesting deeper than {self.limits.max_depth} levels; not inspected further",
                location,
            )
            return
        assert self.dispatcher is not None
        self.depth += 1
        try:
            self.dispatcher(stream, location, self)
        finally:
            self.depth -= 1

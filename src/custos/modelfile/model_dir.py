"""A model directory scanned as one model: every file by content, then what ties them together.

`scan_directory(root, ...)` walks `root` (sorted, depth first, iteratively, never following a
symbolic link out of it) and scans each regular file with the dispatcher, so each file keeps
its own report and locations. Then, across files:

- every path a configuration makes its loader read (MLmodel artifacts and code folders,
  `auto_map` modules; `ctx.refer`) is resolved in the configuration's folder: absent is
  `model-dir/missing-reference`, reaching outside `root` through a link is
  `model-dir/reference-escape`;
- Python modules and native extensions (`.py`, `.pyc`, `.so`, `.pyd`) are
  `model-dir/python-module`: code a loader imports from the folder (`trust_remote_code`,
  MLflow code paths), named with the configurations that point at them.

Bounds: `Limits.max_dir_entries` entries and `Limits.max_dir_bytes` bytes of files scanned.
Reaching one stops the walk with a high finding saying where; links out of the directory,
broken links, FIFOs, sockets and devices are reported, never opened. Findings that belong to no
file (a bound, a folder that cannot be listed) go in a report for the directory itself,
format `directory`, after the files'.
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from pathlib import Path

from custos.findings import Finding, Severity
from custos.modelfile.context import Limits, Reference
from custos.modelfile.dispatch import UNREADABLE, scan_file_context
from custos.modelfile.paths import ESCAPE
from custos.modelfile.report import FileReport
from custos.modelfile.rules import RULES, controls_for, rule

SYMLINK = rule(
    "path/symlink-outside",
    Severity.medium,
    "A symbolic link in a scanned directory points outside it; its target was not scanned.",
)
BROKEN = rule(
    "path/symlink-broken",
    Severity.low,
    "A symbolic link in a scanned directory whose target does not exist (or loops); "
    "nothing was scanned for it.",
)
SPECIAL = rule(
    "path/special-file",
    Severity.medium,
    "A FIFO, socket or device in a scanned directory; it was not read (a loader reading a "
    "FIFO can block forever).",
)
PYTHON = rule(
    "model-dir/python-module",
    Severity.medium,
    "A Python module or native extension in a model directory: code a loader imports from "
    "the folder (trust_remote_code, MLflow code paths). Not analysed yet.",
)
MISSING = rule(
    "model-dir/missing-reference",
    Severity.medium,
    "A path a model configuration makes its loader read is not in the model directory; "
    "what would be loaded there could not be checked.",
)
TOO_MANY = rule(
    "model-dir/too-many-files",
    Severity.high,
    "A directory holds more entries than the limit; the rest of it was not scanned.",
)
TOO_LARGE = rule(
    "model-dir/too-large",
    Severity.high,
    "The files of a directory add up to more than the size limit; the rest was not scanned.",
)
CODE_SUFFIXES = {".py": "Python module", ".pyc": "compiled Python module",
                 ".so": "native extension", ".pyd": "native extension"}  # fmt: skip


def scan_directory(root: Path, policy: object, limits: Limits | None = None) -> list[FileReport]:
    """Scan every file under `root` and resolve what the files refer to (see the module doc)."""
    walk = _Walk(root, root.resolve(), policy, limits or Limits())
    walk.run()
    return walk.finish()


@dataclasses.dataclass
class _Walk:
    root: Path
    base: Path
    policy: object
    limits: Limits
    reports: list[FileReport] = dataclasses.field(default_factory=list)
    references: dict[int, list[Reference]] = dataclasses.field(default_factory=dict)
    notes: list[Finding] = dataclasses.field(default_factory=list)
    entries: int = 0
    total: int = 0
    stopped: bool = False

    def run(self) -> None:
        pending = [self.root]
        while pending and not self.stopped:
            folder = pending.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError as err:
                self.note(UNREADABLE.id, f"cannot list the folder: {err.strerror}", folder)
                continue
            folders: list[Path] = []
            for entry in entries:
                self.entries += 1
                path = Path(entry.path)
                if self.entries > self.limits.max_dir_entries:
                    self.stop(TOO_MANY.id, f"more than {self.limits.max_dir_entries} entries "
                              f"(files, folders, links): {path} and the rest were not scanned",
                              path)  # fmt: skip
                    break
                try:
                    if entry.is_symlink():
                        self.link(path)
                    elif entry.is_dir(follow_symlinks=False):
                        folders.append(path)
                    elif entry.is_file(follow_symlinks=False):
                        self.file(path, entry.stat(follow_symlinks=False).st_size)
                    else:
                        self.alone(path, "special", SPECIAL.id, "not a regular file; not read")
                except OSError as err:
                    self.note(UNREADABLE.id, f"cannot read: {err.strerror}", path)
                if self.stopped:
                    break
            pending.extend(reversed(folders))

    def file(self, path: Path, size: int) -> None:
        if self.total + size > self.limits.max_dir_bytes:
            self.stop(TOO_LARGE.id, f"{self.total} bytes scanned; {path} ({size} bytes) would "
                      f"pass the {self.limits.max_dir_bytes}-byte limit: it and the rest were "
                      "not scanned", path)  # fmt: skip
            return
        self.total += size
        report, ctx = scan_file_context(path, self.policy, self.limits)
        if ctx.references:
            self.references[len(self.reports)] = ctx.references
        self.reports.append(report)

    def link(self, path: Path) -> None:
        target = os.readlink(path)
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # a loop
            real = None
        if real is not None and not real.is_relative_to(self.base):
            self.alone(path, "symlink", SYMLINK.id,
                       f"links to {target!r}, outside {self.root}; not scanned")  # fmt: skip
        elif real is None or not real.exists():
            self.alone(path, "symlink", BROKEN.id,
                       f"links to {target!r}, which does not exist; not scanned")  # fmt: skip
        elif real.is_file():
            self.file(path, real.stat().st_size)
        elif not real.is_dir():  # a folder inside is walked where it is
            self.alone(path, "special", SPECIAL.id, f"links to {target!r}, not a regular file")

    def alone(self, path: Path, kind: str, rule_id: str, message: str) -> None:
        """A report for an entry that is not scanned, holding the one finding that says why."""
        self.reports.append(FileReport(path, kind, (self.finding(rule_id, message, path),)))

    def note(self, rule_id: str, message: str, path: Path) -> None:
        self.notes.append(self.finding(rule_id, message, path))

    def stop(self, rule_id: str, message: str, path: Path) -> None:
        self.note(rule_id, message, path)
        self.stopped = True

    def finding(self, rule_id: str, message: str, path: Path | str) -> Finding:
        return Finding(rule_id, RULES[rule_id].severity, message, str(path), controls_for(rule_id))

    def finish(self) -> list[FileReport]:
        pointed: dict[Path, list[str]] = defaultdict(list)  # file -> configurations naming it
        for index, references in self.references.items():
            report = self.reports[index]
            added = [self.resolve(report.path, ref, pointed) for ref in references]
            findings = report.findings + tuple(f for f in added if f is not None)
            self.reports[index] = dataclasses.replace(report, findings=findings)
        for index, report in enumerate(self.reports):
            kind = CODE_SUFFIXES.get(report.path.suffix.lower())
            if kind is None or report.format in ("symlink", "special"):
                continue
            message = f"{kind} {report.path.name}: code that can load with the model"
            real = _real(report.path)  # named itself, or a folder holding it (code paths)
            named = [n for p in (real, *real.parents) if p in pointed for n in pointed[p]]
            if named:
                message += "; named by " + "; ".join(sorted(set(named))[:5])
            found = self.finding(PYTHON.id, message, report.path)
            self.reports[index] = dataclasses.replace(report, findings=(*report.findings, found))
        if self.notes:
            self.reports.append(FileReport(self.root, "directory", tuple(self.notes)))
        return self.reports

    def resolve(
        self, config: Path, ref: Reference, pointed: dict[Path, list[str]]
    ) -> Finding | None:
        """Check one reference in the folder of the file that made it (escapes were reported,
        and never recorded, by the format scanner)."""
        candidate = config.parent / ref.path
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            message = f"{ref.what} names {ref.path!r:.200}, which is not in {config.parent}"
            return self.finding(MISSING.id, message, ref.location)
        if not real.is_relative_to(self.base):
            message = (f"{ref.what} names {ref.path!r:.200}, which leads outside {self.root} "
                       "through a symbolic link; not followed")  # fmt: skip
            return self.finding(ESCAPE.id, message, ref.location)
        pointed[real].append(f"{config.name} {ref.what}")
        return None


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path

"""The walk: every file of a repository tree sorted by what reads it (Python, notebooks,
dependency manifests and lockfiles, Dockerfiles, CI workflows, configuration files), read as
text once and handed to the rule modules. Manifests are read first: the pinned torch version
decides whether a bare `torch.load` is unsafe. Advisories matched to the pinned dependencies
(`custos.intel`) become findings with the version that fixes them.

Directories that hold no project code (VCS metadata, virtual environments, caches, build
output, `node_modules`) are skipped, as are files above MAX_BYTES and binary files."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from custos.findings import Severity
from custos.repo import containers, deps, notebooks, pysinks, secrets, workflows
from custos.repo.model import Dependency, RepoFinding, RepoReport, Unreadable
from custos.repo.rules import UNREADABLE_CONTROLS, VULNERABLE_CONTROLS

if TYPE_CHECKING:
    from custos.intel.index import Index, Match

MAX_BYTES = 2 << 20  # larger "source" files are generated or data, not code
SKIPPED_DIRS = frozenset({
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "site-packages",
    ".eggs", "build", "dist", ".custos", ".idea", ".vscode",
})  # fmt: skip
KEPT_HIDDEN = frozenset({".github", ".gitlab", ".circleci", ".devcontainer"})
CONFIG_SUFFIXES = frozenset({
    ".yaml", ".yml", ".json", ".toml", ".cfg", ".ini", ".conf", ".env", ".properties", ".sh",
    ".bash", ".txt", ".md", ".js", ".ts", ".tf", ".tfvars",
})  # fmt: skip
Progress = Callable[[int], None]


@dataclass
class Files:
    """A tree's files by what reads them."""

    python: list[Path] = field(default_factory=list)
    notebooks: list[Path] = field(default_factory=list)
    manifests: list[Path] = field(default_factory=list)
    dockerfiles: list[Path] = field(default_factory=list)
    workflows: list[Path] = field(default_factory=list)
    configs: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(v) for v in vars(self).values())


def walk(root: Path) -> Iterator[Path]:
    """Regular files under root (root itself when it is a file), skipping SKIPPED_DIRS,
    hidden directories other than CI folders, and symbolic links (they may leave the tree)."""
    if root.is_file():
        yield root
        return
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS
                         and (not d.startswith(".") or d in KEPT_HIDDEN))  # fmt: skip
        base = Path(folder)
        for name in sorted(names):
            path = base / name
            if not path.is_symlink():
                yield path


def sort(root: Path, paths: Iterable[Path]) -> Files:
    out = Files()
    for path in paths:
        name = path.name
        relative = path.relative_to(root).as_posix() if path != root else name
        if name.endswith(".py"):
            out.python.append(path)
        elif name.endswith(".ipynb"):
            out.notebooks.append(path)
        elif deps.is_manifest(name):
            out.manifests.append(path)
        elif containers.is_dockerfile(name):
            out.dockerfiles.append(path)
        elif workflows.is_workflow(relative):
            out.workflows.append(path)
        elif path.suffix.lower() in CONFIG_SUFFIXES or name.startswith(".env"):
            out.configs.append(path)
    return out


def _text(path: Path) -> str | None:
    """The file as text, or None when it is too large or binary."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    if b"\0" in raw[:8192]:
        return None
    return raw.decode("utf-8", errors="replace")


Reader = Callable[[str, Path], list[RepoFinding]]


def scan(root: Path, *, index: Index | None = None, progress: Progress | None = None) -> RepoReport:
    """Every rule on every file under root."""
    files = sort(root, walk(root))
    report = RepoReport(root if root.is_dir() else root.parent)
    done = 0

    def each(paths: list[Path], reader: Reader | None, notebook: bool = False) -> None:
        nonlocal done
        for path in paths:
            text = _read(report, path)
            if text is not None:
                if reader is not None:
                    _guarded(report, path, reader, text)
                if notebook:
                    for cell, source in _cells(text):
                        report.findings += secrets.scan_secrets(source, path, cell=cell)
                else:
                    report.findings += secrets.scan_secrets(text, path)
            done += 1
            if progress is not None:
                progress(done)

    def manifest(text: str, path: Path) -> list[RepoFinding]:
        report.dependencies += deps.parse_dependencies(text, path)
        return []

    each(files.manifests, manifest)
    report.dependencies = deps.declared(report.dependencies)
    lockfiles = {p.name for p in files.manifests}
    report.findings += deps.dependency_findings(report.dependencies, lockfiles_present=lockfiles)
    torch = torch_pin(report.dependencies)

    def python(text: str, path: Path) -> list[RepoFinding]:
        return pysinks.scan_python(text, path, torch_pinned=torch, repo_root=report.root)

    def notebook(text: str, path: Path) -> list[RepoFinding]:
        return notebooks.scan_notebook(text, path, torch_pinned=torch, repo_root=report.root)

    each(files.python, python)
    each(files.notebooks, notebook, notebook=True)
    each(files.dockerfiles, containers.scan_dockerfile)
    each(files.workflows, workflows.scan_workflow)
    each(files.configs, None)
    if index is not None:
        report.findings += vulnerable(index.match(report.dependencies))
    report.findings.sort(key=lambda f: (str(f.path), f.cell or 0, f.line or 0, f.rule))
    return report


def _read(report: RepoReport, path: Path) -> str | None:
    text = _text(path)
    if text is not None:
        report.files += 1
    return text


def _guarded(report: RepoReport, path: Path, reader: Reader, text: str) -> None:
    """One file's rules; a file that cannot be parsed is reported and the walk goes on."""
    try:
        report.findings += reader(text, path)
    except Unreadable as exc:
        message = " ".join(exc.message.split())  # parsers' messages may span lines (PyYAML's)
        report.errors.append((path, exc.line, message))
        report.findings.append(RepoFinding(
            "repo/unreadable", Severity.low, f"not scanned: {message}", path, exc.line,
            "unreadable", UNREADABLE_CONTROLS,
        ))  # fmt: skip


def _cells(text: str) -> Sequence[tuple[int, str]]:
    try:
        return notebooks.code_cells(text)
    except Unreadable:
        return ()


def torch_pin(found: Sequence[Dependency]) -> str | None:
    """The pinned torch version, when one manifest or lockfile pins it."""
    versions = {d.version for d in found if d.name == "torch" and d.version}
    return next(iter(versions)) if len(versions) == 1 else None


def vulnerable(matches: Sequence[Match]) -> list[RepoFinding]:
    """Known vulnerabilities of pinned dependencies: one finding per vulnerability and
    dependency. Databases publish one vulnerability under several ids (GHSA, PYSEC, CVE);
    matches whose ids or aliases meet are one finding, named by its most severe record."""
    out = []
    for group in _same_vulnerability(matches):
        m = max(group, key=lambda g: (int(g.severity), g.advisory.startswith("GHSA")))
        d = m.dependency
        ids = sorted({a for g in group for a in (g.advisory, *g.aliases)} - {m.advisory})
        fixes = [g.fixed_in for g in group if g.fixed_in]
        fix = f"; fixed in {max(fixes, key=_version_key)}" if fixes else (
            "; no fixed version published")  # fmt: skip
        also = f" ({', '.join(ids[:4])})" if ids else ""
        out.append(RepoFinding(
            "repo/vulnerable-dependency", m.severity,
            f"{d.name} {d.version}: {m.advisory}{also}: {m.summary or 'known vulnerability'}"
            f"{fix}", d.path, d.line, f"vuln:{d.name}:{m.advisory}", VULNERABLE_CONTROLS,
        ))  # fmt: skip
    return out


def _same_vulnerability(matches: Sequence[Match]) -> list[list[Match]]:
    groups: list[tuple[set[str], list[Match]]] = []
    for m in matches:
        key = (m.dependency.path, m.dependency.name, m.dependency.version)
        names = {f"{key}|{a}" for a in (m.advisory, *m.aliases)}
        joined = [g for g in groups if g[0] & names]
        merged_names, merged = set(names), [m]
        for g in joined:
            merged_names |= g[0]
            merged += g[1]
            groups.remove(g)
        groups.append((merged_names, merged))
    return [g[1] for g in groups]


def _version_key(text: str) -> tuple[int, object]:
    """The later of two fixed versions (PEP 440 when it parses, else as text)."""
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(text))
    except InvalidVersion:
        return (0, text)

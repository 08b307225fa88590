"""inventory-completeness: AI artifacts on disk versus the assets declared in custos.yaml.

Runs once per AI system. Two kinds of gap:
- an artifact discovered under the project (model, dataset, endpoint, pipeline or log source)
  that no declared asset of any system covers: a "shadow" artifact nobody controls. A declared
  directory covers everything beneath it, except that a repository asset covers only code
  (serving and training code): models, datasets and logs kept in a repository need their own
  declaration, or a repository declared at "." would hide every shadow model inside it.
- an asset of this system whose location (path or glob) matches nothing today. URLs are skipped:
  whether they answer is the endpoint checks' business.
Undeclared artifacts are not owned by any system yet, so each system's evidence reports them.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from custos._hashing import sha256_path
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Examined, Finding, Outcome, Severity
from custos.inventory.discover import Discovered, scan_tree
from custos.inventory.locations import expand, is_url
from custos.inventory.schema import Manifest

REPORTED_KINDS = frozenset({"model", "dataset", "endpoint", "pipeline", "log_source"})
CODE_KINDS = frozenset({"endpoint", "pipeline"})  # what a repository asset's location covers
HASHED_KINDS = frozenset({"model", "dataset"})
MAX_HASH_BYTES = 1 << 30  # bigger artifacts are recorded by size only


@dataclass(frozen=True)
class Survey:
    found: tuple[Discovered, ...]
    examined: tuple[Examined, ...]
    truncated: bool


@functools.lru_cache(maxsize=16)
def survey(base_dir: Path, run_at: dt.datetime) -> Survey:
    """Discover and hash once per project per scan run (the check runs once per system).

    The run's time is part of the key so that a long-lived process (the web server) sees the
    disk as it is at each new scan rather than as it was at the first.
    """
    discovery = scan_tree(base_dir)
    examined = tuple(_examine(base_dir, item) for item in discovery.found)
    return Survey(discovery.found, examined, discovery.truncated)


def _examine(base_dir: Path, item: Discovered) -> Examined:
    path = base_dir / item.path
    size = _size(path)
    digest = None
    if item.kind in HASHED_KINDS and size is not None and size <= MAX_HASH_BYTES:
        digest = sha256_path(path)
    return Examined(item.path, digest, size)


def _size(path: Path) -> int | None:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return None


def _absolute(path: Path) -> Path:
    """Absolute and normalised, without resolving symlinks (a link is declared by its name)."""
    return Path(os.path.normpath(path.absolute()))


@dataclass(frozen=True)
class Declared:
    """What the assets of every system name on disk today, split by what they may cover."""

    assets: tuple[Path, ...]  # model, dataset, endpoint, pipeline and log-source locations
    repositories: tuple[Path, ...]

    def covers(self, path: Path, kind: str) -> bool:
        if covered(path, self.assets):
            return True
        return kind in CODE_KINDS and covered(path, self.repositories)


def declared_paths(base_dir: Path, manifest: Manifest) -> Declared:
    assets: set[Path] = set()
    repositories: set[Path] = set()
    for system in manifest.systems:
        for asset in system.assets:
            if is_url(asset.location):
                continue
            into = repositories if asset.kind == "repository" else assets
            into.update(_absolute(p) for p in expand(base_dir, asset.location))
    return Declared(tuple(sorted(assets)), tuple(sorted(repositories)))


def covered(path: Path, declared: tuple[Path, ...]) -> bool:
    """Declared itself, under a declared directory, or a directory holding a declared file."""
    return any(path == d or path.is_relative_to(d) or d.is_relative_to(path) for d in declared)


class InventoryCompleteness(Check):
    name = "inventory-completeness"
    version = 1
    title = "Every AI artifact on disk is declared, and every declared asset exists"
    evidences = ("custos:ai:ai-inventory", "iso27002:2022:5.9")

    def run(self, target: Target, context: CheckContext) -> Outcome:
        base_dir = _absolute(context.base_dir)
        disk = survey(base_dir, context.now)
        declared = declared_paths(base_dir, context.manifest)
        findings: list[Finding] = []
        for item in disk.found:
            if item.kind not in REPORTED_KINDS or declared.covers(base_dir / item.path, item.kind):
                continue
            findings.append(
                Finding(
                    "inventory-completeness/undeclared-artifact",
                    Severity.high if item.kind == "model" else Severity.medium,
                    f"{item.path} is an undeclared {item.kind} ({item.format}): {item.reason} "
                    "Declare it as an asset in custos.yaml, or remove it.",
                    item.path,
                )
            )
        undeclared = len(findings)
        urls = 0
        for asset in target.system.assets:
            if is_url(asset.location):
                urls += 1
            elif not expand(base_dir, asset.location):
                findings.append(
                    Finding(
                        "inventory-completeness/declared-missing",
                        Severity.high,
                        f"asset {asset.id!r} ({asset.kind}) is declared at {asset.location!r}, "
                        "but nothing is there; restore it, fix the location or remove the asset.",
                        asset.location,
                    )
                )
        summary = (
            f"{len(disk.found)} artifact(s) found, {undeclared} undeclared; "
            f"{len(findings) - undeclared} of {len(target.system.assets) - urls} declared "
            "local asset(s) missing"
        )
        if urls:
            summary += f"; {urls} URL asset(s) not checked"
        if disk.truncated:
            summary += "; the search stopped at its file limit, so the rest is unknown"
        if findings:
            return Outcome("fail", summary, tuple(findings), disk.examined)
        if disk.truncated:  # completeness is unproven: an error, never a pass
            return Outcome("error", summary, (), disk.examined)
        return Outcome("pass", summary, (), disk.examined)

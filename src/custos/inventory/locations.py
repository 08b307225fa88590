"""Where an asset lives: a URL, a glob, or a plain path relative to custos.yaml."""

from __future__ import annotations

import re
from pathlib import Path

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_GLOB_CHARS = set("*?[")


def is_url(location: str) -> bool:
    return bool(_URL.match(location))


def is_glob(location: str) -> bool:
    return not is_url(location) and any(ch in location for ch in _GLOB_CHARS)


def resolve(base_dir: Path, location: str) -> Path:
    path = Path(location)
    return path if path.is_absolute() else base_dir / path


def files_of(base_dir: Path, location: str) -> list[Path]:
    """The regular files a non-URL location holds today: the files it names, and every file
    under the directories it names (symlinks not followed), in order."""
    found: list[Path] = []
    for item in expand(base_dir, location):
        if item.is_dir():
            found.extend(p for p in sorted(item.rglob("*")) if p.is_file() and not p.is_symlink())
        elif item.is_file():
            found.append(item)
    return found


def expand(base_dir: Path, location: str) -> list[Path]:
    """The files or directories a non-URL location names today (sorted; empty if none)."""
    if is_url(location):
        return []
    if is_glob(location):
        pattern = location
        if Path(pattern).is_absolute():
            anchor = Path(Path(pattern).anchor)
            return sorted(anchor.glob(str(Path(pattern).relative_to(anchor))))
        return sorted(base_dir.glob(pattern))
    path = resolve(base_dir, location)
    return [path] if path.exists() else []

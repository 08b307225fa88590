"""Streaming SHA-256 of files and directories (never holds a file in memory)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(path: Path) -> str:
    """A directory's digest: SHA-256 over sorted `relative-path NUL file-digest LF` lines."""
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        # The name's bytes as on disk: a name that is not UTF-8 is hashed, not an error.
        rel = os.fsencode(item.relative_to(path).as_posix())
        digest.update(rel + b"\0" + sha256_file(item).encode() + b"\n")
    return digest.hexdigest()


def sha256_path(path: Path) -> str:
    return sha256_tree(path) if path.is_dir() else sha256_file(path)

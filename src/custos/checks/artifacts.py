"""Artifacts as the checks name and hash them: a path as the user wrote it, and the files a
model (a file or a folder) stands for. Shared by the signature and baseline checks, which
otherwise do not know each other."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


def display(path: Path, base_dir: Path) -> str:
    """A path as the user wrote it: relative to custos.yaml when inside it, else absolute."""
    return path.relative_to(base_dir).as_posix() if path.is_relative_to(base_dir) else str(path)


def model_files(model: Path) -> list[Path]:
    """The files a signature covers: the file itself, or every file under the directory."""
    from custos.integrity.digests import GIT_PATHS

    if model.is_file():
        return [model]
    return sorted(
        p
        for p in model.rglob("*")
        if p.is_file() and PurePosixPath(p.relative_to(model).as_posix()).parts[0] not in GIT_PATHS
    )

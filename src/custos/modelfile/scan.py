"""The scanner's entry point: files and directories, each directory scanned as one model.

Everything a caller needs is `scan_paths`; the pipeline under it is `dispatch` (one file, by
content) and `model_dir` (a folder, with what its files refer to).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from custos.modelfile.context import Limits
from custos.modelfile.dispatch import scan_file
from custos.modelfile.model_dir import scan_directory
from custos.modelfile.report import FileReport


def scan_paths(
    paths: Iterable[Path], policy: object, limits: Limits | None = None
) -> list[FileReport]:
    """Scan files and directories (each directory as one model: model_dir). Raises
    FileNotFoundError first if a path does not exist."""
    paths = list(paths)
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise FileNotFoundError(f"no such file or directory: {path}")
    reports: list[FileReport] = []
    for path in paths:
        if path.is_dir():
            reports.extend(scan_directory(path, policy, limits))
        else:
            reports.append(scan_file(path, policy, limits))
    return reports

"""Paths that model files name: whether one stays inside the folder it is relative to.

Shared by the formats whose loaders open files a model names (ONNX external data, MLmodel
artifacts, Hugging Face `auto_map` modules) and by the directory walk.
"""

from __future__ import annotations

from custos.findings import Severity
from custos.modelfile.rules import rule

ESCAPE = rule(
    "model-dir/reference-escape",
    Severity.high,
    "A model configuration makes its loader read a path that is absolute or leaves the model "
    "folder (or reaches outside through a symbolic link); it was not followed.",
)


def escapes(path: str) -> bool:
    """Absolute, drive-qualified, UNC, NUL-bearing or '..'-climbing relative paths."""
    norm = path.replace("\\", "/")
    if not norm or norm.startswith("/") or "\0" in norm or (len(norm) > 1 and norm[1] == ":"):
        return True
    depth = 0
    for part in norm.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False

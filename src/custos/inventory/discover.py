"""Discovering a repository's AI artifacts: model files, datasets, serving code, training
pipelines, notebooks, Dockerfiles and access logs.

Model files are recognised by their bytes (magic numbers and structure), not by their names: a
renamed pickle is still a pickle, and a `.pkl` full of text is not a model. Nothing found is ever
deserialised, imported or executed. At most 4 KiB is read from the start of a binary file
(64 KiB of text for code, notebooks and logs, plus a zip archive's central directory at its
end), so a scan of a large model store costs little more than listing it.
"""

from __future__ import annotations

import csv
import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from custos.errors import UserError
from custos.inventory.model_formats import (
    BINARY_HEAD,
    is_saved_model,
    sniff_model,
    zip_model,
    zip_names,
)

Kind = Literal[
    "model", "dataset", "endpoint", "pipeline", "repository", "log_source", "notebook", "dockerfile"
]

MAX_FILES = 100_000
TEXT_HEAD = 64 * 1024
SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".custos",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".ipynb_checkpoints",
        "site-packages",
    }
)  # fmt: skip
TEXT_SUFFIXES = frozenset(
    {".py", ".ipynb", ".yaml", ".yml", ".csv", ".tsv", ".jsonl", ".ndjson", ".log"}
)
LOG_DIRS = frozenset({"logs", "log"})


@dataclass(frozen=True)
class Discovered:
    """One artifact found under the root; `path` is relative to it (POSIX separators)."""

    path: str
    kind: Kind
    format: str
    reason: str


@dataclass(frozen=True)
class Discovery:
    found: tuple[Discovered, ...]
    files_seen: int
    truncated: bool  # the file budget ran out: what is under the rest of the tree is unknown


def discover(root: Path, max_files: int = MAX_FILES) -> list[Discovered]:
    """The AI artifacts under `root`, sorted by path."""
    return list(scan_tree(root, max_files).found)


def scan_tree(root: Path, max_files: int = MAX_FILES) -> Discovery:
    """Walk `root` (skipping caches, VCS and virtualenvs) and classify each regular file."""
    if not root.is_dir():
        raise UserError(f"{root} is not a directory; give the folder to search for AI artifacts")
    base = root.resolve()
    found: list[Discovered] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(base):  # symlinked dirs are listed, not entered
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        if "saved_model.pb" in filenames and is_saved_model(here / "saved_model.pb"):
            reason = "A directory holding a TensorFlow SavedModel (saved_model.pb)."
            found.append(Discovered(_rel(here, base), "model", "savedmodel", reason))
            dirnames[:] = []  # its variables/ and assets/ belong to the model
            continue
        for name in sorted(filenames):
            if seen >= max_files:
                return Discovery(tuple(sorted(found, key=_key)), seen, True)
            seen += 1
            item = _classify_file(base, here / name)
            if item is not None:
                found.append(item)
    return Discovery(tuple(sorted(found, key=_key)), seen, False)


def _key(item: Discovered) -> tuple[str, str]:
    return (item.path, item.kind)


def _rel(path: Path, base: Path) -> str:
    rel = path.relative_to(base).as_posix()
    return rel or "."


def _classify_file(base: Path, path: Path) -> Discovered | None:
    if path.is_symlink() and not path.resolve().is_relative_to(base):
        return None  # never read outside the tree we were asked to search
    try:
        if not path.is_file():  # sockets, FIFOs (reading one would block), broken links
            return None
        size = path.stat().st_size
        if size == 0:
            return None
        rel = _rel(path, base)
        in_logs = any(part.lower() in LOG_DIRS for part in Path(rel).parts[:-1])
        limit = TEXT_HEAD if path.suffix.lower() in TEXT_SUFFIXES or in_logs else BINARY_HEAD
        with path.open("rb") as handle:
            head = handle.read(limit)
        found = classify(rel, head, size, in_logs)
        if found is None and head.startswith(b"PK\x03\x04"):
            model = zip_model(zip_names(path, size))
            found = Discovered(rel, "model", *model) if model is not None else None
    except OSError:
        return None  # unreadable: nothing can be said about it
    return found


def classify(rel: str, head: bytes, size: int, in_logs: bool = False) -> Discovered | None:
    """Classify one file from its relative path, its first bytes and its size."""
    name = rel.rsplit("/", 1)[-1]
    lower = name.lower()
    suffix = Path(lower).suffix

    def hit(kind: Kind, fmt: str, reason: str) -> Discovered:
        return Discovered(rel, kind, fmt, reason)

    if lower in ("dockerfile", "containerfile") or lower.startswith("dockerfile."):
        return hit("dockerfile", "dockerfile", "A container build file.")
    if lower.endswith((".dockerfile", ".containerfile")):
        return hit("dockerfile", "dockerfile", "A container build file.")
    if lower == "dvc.yaml":
        return hit("pipeline", "dvc", "A DVC pipeline definition (dvc.yaml).")
    if name == "MLproject":
        return hit("pipeline", "mlflow", "An MLflow project definition (MLproject).")
    if suffix == ".ipynb" and (b'"cells"' in head or b'"nbformat"' in head):
        return hit("notebook", "notebook", "A Jupyter notebook (JSON with cells).")
    model = sniff_model(head, size, suffix)
    if model is not None:
        return hit("model", *model)
    if head.startswith(b"PAR1"):
        return hit("dataset", "parquet", "Parquet magic number PAR1.")
    if head.startswith(b"ARROW1") or (suffix in (".arrow", ".feather") and _arrow_stream(head)):
        return hit("dataset", "arrow", "Apache Arrow IPC data.")
    if head.startswith(b"FEA1"):
        return hit("dataset", "feather", "Feather v1 magic number FEA1.")
    if suffix in (".tfrecord", ".tfrecords") and _tfrecord(head, size):
        return hit("dataset", "tfrecord", "TFRecord framing (length, CRC, payload).")
    text = _text(head)
    if text is None:
        return None
    lines = _complete_lines(text, cut=len(head) < size)
    if suffix == ".py":
        return _classify_python(rel, text)
    if suffix in (".yaml", ".yml") and "pipelineInfo:" in text and "deploymentSpec:" in text:
        return hit("pipeline", "kubeflow", "A compiled Kubeflow pipeline specification.")
    access = _access_log(lines) if in_logs or suffix == ".log" else None
    if access is not None:
        return hit("log_source", "access-log", f"Its first lines are {access}.")
    if suffix in (".csv", ".tsv") and _csv_header(text, "\t" if suffix == ".tsv" else None):
        return hit("dataset", suffix[1:], f"A {suffix[1:].upper()} table with a header row.")
    if suffix in (".jsonl", ".ndjson") and _json_lines(lines):
        return hit("dataset", "jsonl", "JSON Lines records.")
    return None


# -- datasets -----------------------------------------------------------------------------------


def _arrow_stream(head: bytes) -> bool:
    return head.startswith(b"\xff\xff\xff\xff")


def _tfrecord(head: bytes, size: int) -> bool:
    return len(head) >= 12 and 8 + 4 + struct.unpack_from("<Q", head)[0] + 4 <= size


def _csv_header(text: str, delimiter: str | None) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        return False
    delimiter = delimiter or max((",", ";", "|", "\t"), key=first.count)
    fields = [f.strip() for f in next(csv.reader([first], delimiter=delimiter))]
    if not fields or any(not f or len(f) > 128 or _numeric(f) for f in fields):
        return False
    return len(fields) > 1 or re.fullmatch(r"[A-Za-z_][\w .-]*", fields[0]) is not None


def _numeric(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _json_lines(lines: list[str]) -> bool:
    if not lines:
        return False
    try:
        return all(isinstance(json.loads(line), dict | list) for line in lines[:5])
    except ValueError:
        return False


# -- code and logs ------------------------------------------------------------------------------

_ROUTE = re.compile(
    r"^\s*@\s*[A-Za-z_]\w*\.(?P<verb>get|post|put|delete|patch|head|options|route|api_route"
    r"|websocket)\s*\(|\.(?P<call>add_api_route|add_url_rule)\(",
    re.MULTILINE,
)
_FLASK_IDIOMS = frozenset({"route", "add_url_rule"})
# Calls that train: scikit-learn/Keras fit, Hugging Face Trainer, PyTorch loops, boosters.
_TRAINS = re.compile(
    r"\.fit\(|\bTrainer\(|\bmodel\.train\(|\.backward\(\)|\b(xgb|lgb|xgboost|lightgbm)\.train\("
)
_HTTP_LINE = re.compile(r'"(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) \S+ HTTP/\d(\.\d)?" \d{3}\b')


def _imports(text: str, module: str) -> bool:
    return re.search(rf"^\s*(from|import)\s+{module}\b", text, re.MULTILINE) is not None


def _classify_python(rel: str, text: str) -> Discovered | None:
    parts = rel.split("/")
    name = parts[-1]
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return None  # tests exercise apps and models; they are not part of the system
    if "tests" in parts[:-1] or "test" in parts[:-1]:
        return None
    route = _ROUTE.search(text)
    if route is not None:
        if _imports(text, "fastapi"):
            fmt = "fastapi"
        elif _imports(text, "flask"):
            fmt = "flask"
        else:  # no import seen: Flask's idioms are route() and add_url_rule()
            idiom = route.group("verb") or route.group("call")
            fmt = "flask" if idiom in _FLASK_IDIOMS else "fastapi"
        reason = f"Python code that declares HTTP routes: {route.group(0).strip()}...)."
        return Discovered(rel, "endpoint", fmt, reason)
    if _imports(text, "airflow") and "DAG(" in text:
        return Discovered(rel, "pipeline", "airflow", "An Airflow DAG definition.")
    if _imports(text, "kfp"):
        return Discovered(rel, "pipeline", "kubeflow", "A Kubeflow Pipelines definition.")
    trains = _TRAINS.search(text)
    if trains is not None:
        call = trains.group(0).rstrip("()")
        reason = f"Python code that trains a model: it calls {call}(...)."
        return Discovered(rel, "pipeline", "python", reason)
    return None


def _access_log(lines: list[str]) -> str | None:
    """What kind of HTTP access lines the first 20 lines hold, if any."""
    for line in lines[:20]:
        if _HTTP_LINE.search(line):
            return "HTTP access log lines"
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and _access_record(record):
                return "JSON access records (method, path, status)"
    return None


def _access_record(record: dict[str, object]) -> bool:
    keys = {k.lower() for k in record}
    return (
        bool(keys & {"method", "http_method", "verb"})
        and bool(keys & {"path", "url", "uri", "route", "endpoint"})
        and bool(keys & {"status", "status_code", "response_status"})
    )


# -- helpers ------------------------------------------------------------------------------------


def _text(head: bytes) -> str | None:
    """`head` as text, or None when it looks binary."""
    if b"\x00" in head:
        return None
    text = head.decode("utf-8", errors="replace")
    return None if text.count("\ufffd") > len(text) // 100 + 1 else text


def _complete_lines(text: str, cut: bool) -> list[str]:
    """Non-empty lines, without the last one when the read limit `cut` it short."""
    lines = text.split("\n")
    if cut and len(lines) > 1:
        lines = lines[:-1]
    return [line.strip() for line in lines if line.strip()]

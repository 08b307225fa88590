"""Baselines: per-file digests of a model recorded now, to notice any drift later.

A baseline is a JSON file (format `custos-baseline/1`), by default
`<project>/.custos/baselines/<name>.json`::

    {"format": "custos-baseline/1", "name": "fraud-model", "path": "models/fraud",
     "algorithm": "sha256", "created_at": "2025-01-31T12:00:00Z", "ignore": [],
     "files": {"weights.bin": "9f0e…", "config.json": "ab12…"}}

Digests come from the same engine as signing, so a baseline and a signature agree on every file.
`diff_digests` is the pure comparison; `record`, `load` and `drift` do the I/O.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custos._files import write_atomic
from custos.errors import DataError, UserError
from custos.integrity.digests import file_digests, relative_ignores

FORMAT = "custos-baseline/1"
ALGORITHM = "sha256"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Baseline:
    name: str
    path: str  # the model, relative to the project when inside it
    algorithm: str
    files: Mapping[str, str]  # relative POSIX path -> hex digest
    created_at: dt.datetime
    ignore: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "path": self.path,
            "algorithm": self.algorithm,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "ignore": list(self.ignore),
            "files": dict(sorted(self.files.items())),
        }

    @classmethod
    def from_json(cls, data: Any, source: Path) -> Baseline:
        """Parse a baseline document; any problem is a `DataError` naming `source`."""
        if not isinstance(data, dict):
            raise DataError(source, "not a baseline (expected a JSON object)")
        if data.get("format") != FORMAT:
            raise DataError(source, f"format is {data.get('format')!r}, expected {FORMAT!r}")
        if data.get("algorithm") != ALGORITHM:
            raise DataError(source, f"unsupported algorithm {data.get('algorithm')!r}")
        files = data.get("files")
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v)
            for k, v in files.items()
        ):
            raise DataError(source, "'files' must map paths to 64-digit hex SHA-256 digests")
        ignore = data.get("ignore", [])
        if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
            raise DataError(source, "'ignore' must be a list of paths")
        try:
            created = dt.datetime.fromisoformat(str(data.get("created_at")).replace("Z", "+00:00"))
        except ValueError:
            raise DataError(source, "'created_at' is not an ISO 8601 timestamp") from None
        return cls(
            name=str(data.get("name", source.stem)),
            path=str(data.get("path", "")),
            algorithm=ALGORITHM,
            files=dict(files),
            created_at=created,
            ignore=tuple(ignore),
        )


@dataclass(frozen=True)
class Drift:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        return {"clean": self.clean, "added": list(self.added), "removed": list(self.removed),
                "changed": list(self.changed)}  # fmt: skip


def diff_digests(recorded: Mapping[str, str], current: Mapping[str, str]) -> Drift:
    """Files added, removed and changed since the baseline, each sorted (pure)."""
    return Drift(
        added=tuple(sorted(current.keys() - recorded.keys())),
        removed=tuple(sorted(recorded.keys() - current.keys())),
        changed=tuple(sorted(k for k in recorded.keys() & current.keys()
                             if recorded[k] != current[k])),
    )  # fmt: skip


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UserError(
            f"--name {name!r}: use letters, digits, '.', '_' and '-' (a file name, no slashes)"
        )
    return name


def default_baseline_path(project: Path, name: str) -> Path:
    return project / ".custos" / "baselines" / f"{check_name(name)}.json"


def default_name(model: Path) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", model.resolve().name).lstrip(".-_") or "model"


def record(
    model: Path,
    baseline_file: Path,
    name: str,
    project: Path,
    ignore: Sequence[Path | str] = (),
    now: dt.datetime | None = None,
) -> Baseline:
    """Hash `model` and write its baseline to `baseline_file` (replacing an older one)."""
    if not model.exists():
        raise UserError(f"{model}: no such file or directory")
    ignored = _ignores(model, baseline_file, ignore)
    baseline = Baseline(
        name=check_name(name),
        path=_display_path(model, project),
        algorithm=ALGORITHM,
        files=file_digests(model, ignored),
        created_at=now or dt.datetime.now(dt.UTC).replace(microsecond=0),
        ignore=ignored,
    )
    write_atomic(baseline_file, (json.dumps(baseline.to_json(), indent=2) + "\n").encode())
    return baseline


def load(baseline_file: Path) -> Baseline:
    try:
        text = baseline_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"{baseline_file}: no baseline recorded yet (run `custos baseline PATH` first)"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(baseline_file, f"not valid JSON: {exc.msg}", exc.lineno) from None
    return Baseline.from_json(data, baseline_file)


def drift(baseline: Baseline, model: Path, baseline_file: Path | None = None) -> Drift:
    """Hash `model` now, with the baseline's ignores, and compare."""
    if not model.exists():
        raise UserError(f"{model}: no such file or directory")
    ignored = baseline.ignore
    if baseline_file is not None:
        ignored = _ignores(model, baseline_file, baseline.ignore)
    return diff_digests(baseline.files, file_digests(model, ignored))


def _ignores(model: Path, baseline_file: Path, extra: Sequence[Path | str]) -> tuple[str, ...]:
    ignored = relative_ignores(model, extra)
    if model.is_dir():
        try:  # a baseline stored inside the model must not drift because it was written
            inside = baseline_file.resolve().relative_to(model.resolve()).as_posix()
        except ValueError:
            return ignored
        if inside not in ignored:
            ignored = (*ignored, inside)
    return ignored


def _display_path(model: Path, project: Path) -> str:
    try:
        return model.resolve().relative_to(project.resolve()).as_posix() or "."
    except ValueError:
        return model.resolve().as_posix()

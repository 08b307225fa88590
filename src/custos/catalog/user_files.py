"""Adding a user's own frameworks and mappings to their catalog directory.

Files are validated exactly like shipped ones and checked against the merged catalog before
anything is written; the copy is atomic (write to a temporary file, then rename), so a failed
import never leaves a half-written file behind.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from custos._files import write_atomic
from custos._yaml import read_yaml
from custos.catalog.atlas import atlas_framework
from custos.catalog.loader import (
    FRAMEWORKS_DIR,
    MAPPINGS_DIR,
    LoadedFramework,
    load_catalog,
    parse_data_file,
    user_catalog_dir,
)
from custos.catalog.schema import FrameworkFile
from custos.errors import CustosError


@dataclass(frozen=True)
class Imported:
    kind: str  # "framework" or "mappings"
    id: str
    destination: Path
    replaces_shipped: bool
    entries: int
    warnings: tuple[str, ...]


def _write_atomically(destination: Path, text: str) -> None:
    try:
        write_atomic(destination, text.encode("utf-8"))
    except OSError as exc:
        raise CustosError(f"{destination}: cannot write: {exc.strerror}") from exc


def import_file(source: Path, user_dir: Path | None = None) -> Imported:
    """Validate `source` (framework or mapping file) and copy it into the user's catalog."""
    directory = user_dir if user_dir is not None else user_catalog_dir()
    loaded = parse_data_file(source)
    merged = load_catalog(directory, extra_files=[source])  # raises on conflicts
    if isinstance(loaded, LoadedFramework):
        ident = loaded.spec.framework.id
        destination = directory / FRAMEWORKS_DIR / f"{ident}.yaml"
        kind, entries = "framework", len(loaded.spec.controls)
        shipped = ident in load_catalog(include_user=False).frameworks
    else:
        ident = loaded.spec.id
        destination = directory / MAPPINGS_DIR / f"{ident}.yaml"
        kind, entries, shipped = "mappings", len(loaded.spec.mappings), False
    _write_atomically(destination, source.read_text(encoding="utf-8"))
    return Imported(kind, ident, destination, shipped, entries, merged.warnings)


def import_atlas(source: Path, user_dir: Path | None = None) -> Imported:
    """Convert a MITRE ATLAS.yaml (v5 or v6 layout) and install it as the ATLAS framework."""
    directory = user_dir if user_dir is not None else user_catalog_dir()
    framework = atlas_framework(read_yaml(source).data, source)
    text = dump_framework(framework)
    destination = directory / FRAMEWORKS_DIR / f"{framework.framework.id}.yaml"
    with tempfile.TemporaryDirectory() as scratch:
        candidate = Path(scratch) / destination.name
        candidate.write_text(text, encoding="utf-8")
        merged = load_catalog(directory, extra_files=[candidate])
    _write_atomically(destination, text)
    return Imported(
        "framework",
        framework.framework.id,
        destination,
        True,
        len(framework.controls),
        merged.warnings,
    )


def dump_framework(framework: FrameworkFile) -> str:
    """A framework model as a catalog YAML file."""
    data = framework.model_dump(mode="json", exclude_defaults=True)
    data["format"] = framework.format
    ordered = {"format": data.pop("format"), **data}
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)

"""Reading catalog data files (shipped and the user's own) into a `Catalog`.

Shipped files live in the package under `data/`; a user's imported frameworks and mappings live
under `<CUSTOS_HOME or the platform config dir>/catalog/`. A user framework with the same id as
a shipped one replaces it (a newer ATLAS release, a licensed copy of ISO text the user owns).

Problems inside one file (schema, duplicate ids, ids outside the prefix, a parent missing from
the same framework) are errors naming the file and line. References *between* frameworks that do
not resolve (a mapping end, a counter, a parent in another framework) become warnings, because
a user's newer framework may legitimately retire an id a shipped mapping still names; the shipped
catalog itself is tested to have none.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import platformdirs

from custos._validation import validate_model
from custos._yaml import YamlDocument, read_yaml
from custos.catalog.catalog import Catalog
from custos.catalog.model import (
    AttestationPrompt,
    Control,
    ControlId,
    Framework,
    FrameworkId,
    KeyDate,
    Mapping,
    Origin,
    Verification,
)
from custos.catalog.schema import (
    FRAMEWORK_FORMAT,
    MAPPING_FORMAT,
    ControlSpec,
    FrameworkFile,
    MappingFile,
)
from custos.errors import DataError

FRAMEWORKS_DIR = "frameworks"
MAPPINGS_DIR = "mappings"


def shipped_data_dir() -> Path:
    """The directory of catalog data files that ship inside the package."""
    return Path(str(resources.files("custos.catalog") / "data"))


def user_catalog_dir() -> Path:
    """Where `custos catalog import` keeps a user's own frameworks and mappings."""
    home = os.environ.get("CUSTOS_HOME")
    base = Path(home) if home else platformdirs.user_config_path("custos")
    return base / "catalog"


def _format_of(doc: YamlDocument) -> str:
    if not isinstance(doc.data, dict):
        raise DataError(doc.path, "expected a mapping with a 'format' key at the top", 1)
    fmt = doc.data.get("format")
    if fmt not in (FRAMEWORK_FORMAT, MAPPING_FORMAT):
        raise DataError(
            doc.path,
            f"unknown format {fmt!r}; expected {FRAMEWORK_FORMAT!r} or {MAPPING_FORMAT!r}",
            doc.line_of(["format"]),
        )
    return str(fmt)


@dataclass(frozen=True)
class LoadedFramework:
    spec: FrameworkFile
    doc: YamlDocument


@dataclass(frozen=True)
class LoadedMappings:
    spec: MappingFile
    doc: YamlDocument


def parse_data_file(path: Path) -> LoadedFramework | LoadedMappings:
    """Read one catalog data file of either kind and validate it (errors name file:line)."""
    doc = _cached_read(path)
    if _format_of(doc) == FRAMEWORK_FORMAT:
        framework = validate_model(FrameworkFile, doc)
        _check_framework(framework, doc)
        return LoadedFramework(framework, doc)
    return LoadedMappings(validate_model(MappingFile, doc), doc)


def _cached_read(path: Path) -> YamlDocument:
    try:
        stat = path.stat()
    except OSError:
        return read_yaml(path)  # raises the right DataError
    return _read_cached(path.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read_cached(path: Path, _mtime: int, _size: int) -> YamlDocument:
    return read_yaml(path)


def _check_framework(spec: FrameworkFile, doc: YamlDocument) -> None:
    prefix = spec.framework.prefix + ":"
    problems: list[tuple[int | None, str]] = []
    seen: set[str] = set()
    for index, control in enumerate(spec.controls):
        if not control.id.startswith(prefix):
            problems.append(
                (
                    doc.line_of(["controls", index, "id"]),
                    f"control id {control.id!r} does not start with the prefix {prefix!r}",
                )
            )
        if control.id in seen:
            problems.append(
                (doc.line_of(["controls", index, "id"]), f"duplicate control id {control.id!r}")
            )
        seen.add(control.id)
    for index, control in enumerate(spec.controls):
        parent = control.parent
        if parent and parent.startswith(prefix) and parent not in seen:
            problems.append(
                (
                    doc.line_of(["controls", index, "parent"]),
                    f"parent {parent!r} of {control.id!r} is not in this framework",
                )
            )
    if problems:
        (line, message), *more = problems
        raise DataError(doc.path, message, line, more)


def _to_control(spec: ControlSpec, framework: FrameworkId) -> Control:
    verification = None
    if spec.verification is not None:
        attestation = spec.verification.attestation
        verification = Verification(
            checks=tuple(spec.verification.checks),
            attestation=(
                AttestationPrompt(attestation.prompt, tuple(attestation.evidence_examples))
                if attestation
                else None
            ),
        )
    return Control(
        id=ControlId(spec.id),
        framework=framework,
        ref=spec.ref,
        title=spec.title,
        kind=spec.kind,
        group=spec.group,
        parent=ControlId(spec.parent) if spec.parent else None,
        guidance=spec.guidance.strip() if spec.guidance else None,
        statement=spec.statement.strip() if spec.statement else None,
        rationale=spec.rationale.strip() if spec.rationale else None,
        verification=verification,
        counters=tuple(ControlId(c) for c in spec.counters),
        applicability=spec.applicability.model_dump() if spec.applicability else {},
        attributes={key: tuple(values) for key, values in spec.attributes.items()},
    )


def _to_framework(loaded: LoadedFramework, origin: Origin) -> tuple[Framework, list[Control]]:
    meta = loaded.spec.framework
    fid = FrameworkId(meta.id)
    controls = [_to_control(spec, fid) for spec in loaded.spec.controls]
    framework = Framework(
        id=fid,
        name=meta.name,
        version=meta.version,
        prefix=meta.prefix,
        publisher=meta.publisher,
        source_url=meta.source_url,
        licence=meta.licence,
        attribution=meta.attribution,
        description=meta.description,
        notice=meta.notice,
        dates=tuple(
            KeyDate(
                date=d.date.isoformat(),
                label=d.label,
                applies_to=tuple(ControlId(c) for c in d.applies_to),
                note=d.note,
            )
            for d in meta.dates
        ),
        control_ids=tuple(c.id for c in controls),
        origin=origin,
        path=loaded.doc.path,
    )
    return framework, controls


def _yaml_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _collect(directory: Path) -> tuple[list[LoadedFramework], list[LoadedMappings]]:
    frameworks: list[LoadedFramework] = []
    mappings: list[LoadedMappings] = []
    for sub in (FRAMEWORKS_DIR, MAPPINGS_DIR):
        for path in _yaml_files(directory / sub):
            loaded = parse_data_file(path)
            if isinstance(loaded, LoadedFramework):
                frameworks.append(loaded)
            else:
                mappings.append(loaded)
    return frameworks, mappings


def load_catalog(
    user_dir: Path | None = None,
    *,
    include_user: bool = True,
    extra_files: Iterable[Path] = (),
) -> Catalog:
    """Load the shipped catalog, then the user's own files (which may replace frameworks).

    `extra_files` are validated as if they were in the user directory (used to check a file
    before `catalog import` copies it in).
    """
    shipped_fw, shipped_maps = _collect(shipped_data_dir())
    user_fw: list[LoadedFramework] = []
    user_maps: list[LoadedMappings] = []
    if include_user:
        user_fw, user_maps = _collect(user_dir if user_dir is not None else user_catalog_dir())
    for path in extra_files:
        loaded = parse_data_file(path)
        if isinstance(loaded, LoadedFramework):
            user_fw = [f for f in user_fw if f.spec.framework.id != loaded.spec.framework.id]
            user_fw.append(loaded)
        else:
            user_maps = [m for m in user_maps if m.spec.id != loaded.spec.id]
            user_maps.append(loaded)

    chosen: dict[str, tuple[LoadedFramework, Origin]] = {}
    for loaded in shipped_fw:
        fid = loaded.spec.framework.id
        if fid in chosen:
            raise DataError(loaded.doc.path, f"framework id {fid!r} is shipped twice")
        chosen[fid] = (loaded, "shipped")
    for loaded in user_fw:
        chosen[loaded.spec.framework.id] = (loaded, "user")

    frameworks: dict[FrameworkId, Framework] = {}
    controls: dict[ControlId, Control] = {}
    owner: dict[ControlId, Path] = {}
    for loaded, origin in chosen.values():
        framework, framework_controls = _to_framework(loaded, origin)
        for index, control in enumerate(framework_controls):
            if control.id in controls:
                raise DataError(
                    loaded.doc.path,
                    f"control id {control.id!r} is already defined in {owner[control.id]}",
                    loaded.doc.line_of(["controls", index, "id"]),
                )
            controls[control.id] = control
            owner[control.id] = loaded.doc.path
        frameworks[framework.id] = framework

    mapping_sets: dict[str, LoadedMappings] = {m.spec.id: m for m in shipped_maps}
    for loaded_map in user_maps:
        mapping_sets[loaded_map.spec.id] = loaded_map
    mappings = [
        Mapping(
            source=ControlId(m.source),
            target=ControlId(m.target) if m.target else None,
            relationship=m.relationship,
            rationale=m.rationale,
            mapping_set=loaded_map.spec.id,
        )
        for loaded_map in mapping_sets.values()
        for m in loaded_map.spec.mappings
    ]
    warnings = _dangling_references(controls, mapping_sets.values())
    resolved = [
        m for m in mappings if m.source in controls and (m.target is None or m.target in controls)
    ]
    return Catalog(frameworks, controls, tuple(resolved), tuple(warnings))


def _dangling_references(
    controls: dict[ControlId, Control], mapping_sets: Iterable[LoadedMappings]
) -> list[str]:
    warnings: list[str] = []
    for control in controls.values():
        if control.parent and control.parent not in controls:
            warnings.append(f"{control.id}: parent {control.parent} is not in the catalog")
        for counter in control.counters:
            if counter not in controls:
                warnings.append(f"{control.id}: counters {counter}, which is not in the catalog")
    for loaded in mapping_sets:
        for index, m in enumerate(loaded.spec.mappings):
            for end in (m.source, m.target):
                if end is not None and end not in controls:
                    line = loaded.doc.line_of(["mappings", index])
                    warnings.append(
                        f"{loaded.doc.path}:{line}: mapping end {end} is not in the catalog; "
                        "the mapping is ignored"
                    )
    return warnings

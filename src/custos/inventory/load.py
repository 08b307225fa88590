"""Reading `custos.yaml`: schema validation, then every cross-reference checked.

Each problem is one line `custos.yaml:LINE: where: what to do`, and all of them are reported
together (exit 2), so a user can fix the file in one pass. Nothing is written anywhere before
the manifest is known to be good.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from custos._validation import validate_model
from custos._yaml import YamlDocument, read_yaml
from custos.catalog.catalog import Catalog
from custos.errors import DataError
from custos.inventory.locations import expand, is_glob, is_url, resolve
from custos.inventory.schema import Asset, Manifest

MANIFEST_NAME = "custos.yaml"
THREAT_FRAMEWORKS = frozenset({"mitre-atlas", "owasp-ml", "owasp-llm"})


@dataclass(frozen=True)
class LoadedManifest:
    manifest: Manifest
    path: Path

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def find_manifest(path: Path) -> Path:
    """`path` itself if it is a file, else `path/custos.yaml`."""
    return path / MANIFEST_NAME if path.is_dir() else path


def load_manifest(path: Path, catalog: Catalog) -> LoadedManifest:
    """Read, validate and cross-check a manifest; DataError lists every problem found."""
    manifest_path = find_manifest(path)
    doc = read_yaml(manifest_path)
    if not isinstance(doc.data, dict):
        raise DataError(manifest_path, "expected a mapping (organisation, systems, ...)", 1)
    manifest = validate_model(Manifest, doc)
    problems = list(_cross_check(manifest, doc, catalog))
    if problems:
        (line, message), *more = problems
        raise DataError(manifest_path, message, line, more)
    return LoadedManifest(manifest, manifest_path)


Problem = tuple[int | None, str]


def _duplicates(values: Iterable[str]) -> set[str]:
    return {value for value, count in Counter(values).items() if count > 1}


def _cross_check(manifest: Manifest, doc: YamlDocument, catalog: Catalog) -> Iterable[Problem]:
    system_ids = [s.id for s in manifest.systems]
    asset_ids = [a.id for s in manifest.systems for a in s.assets]
    for index, system in enumerate(manifest.systems):
        if system.id in _duplicates(system_ids):
            yield doc.line_of(["systems", index, "id"]), f"duplicate system id {system.id!r}"
        for a_index, asset in enumerate(system.assets):
            where: list[str | int] = ["systems", index, "assets", a_index]
            if asset.id in _duplicates(asset_ids):
                yield (
                    doc.line_of([*where, "id"]),
                    f"duplicate asset id {asset.id!r}; asset ids must be unique in the file",
                )
            location = asset.location
            plain_path = not is_url(location) and not is_glob(location)
            if plain_path and not expand(doc.path.parent, location):
                yield (
                    doc.line_of([*where, "location"]),
                    f"asset {asset.id!r}: {location!r} does not exist (relative to "
                    f"{doc.path.parent}); fix the path, use a glob, or remove the asset",
                )
            yield from _integrity_files(asset, where, doc)
    yield from _signing_files(manifest, doc)
    known_systems = set(system_ids)
    known_assets = set(asset_ids)

    def control_exists(ref: str, where: list[str | int], what: str) -> Iterable[Problem]:
        if ref not in catalog.controls:
            yield doc.line_of(where), f"unknown {what} {ref!r}; see `custos catalog search`"

    for index, risk in enumerate(manifest.risks):
        base: list[str | int] = ["risks", index]
        if risk.id in _duplicates(r.id for r in manifest.risks):
            yield doc.line_of([*base, "id"]), f"duplicate risk id {risk.id!r}"
        for t_index, threat in enumerate(risk.threats):
            if threat not in catalog.controls:
                yield from control_exists(threat, [*base, "threats", t_index], "threat id")
            elif catalog.control(threat).framework not in THREAT_FRAMEWORKS:
                yield (
                    doc.line_of([*base, "threats", t_index]),
                    f"{threat!r} is not a threat; use an ATLAS technique or an OWASP entry",
                )
        for c_index, control in enumerate(risk.controls):
            yield from control_exists(control, [*base, "controls", c_index], "control id")
        for s_index, system_id in enumerate(risk.systems):
            if system_id not in known_systems:
                yield doc.line_of([*base, "systems", s_index]), f"unknown system {system_id!r}"
        for a_index, asset_id in enumerate(risk.assets):
            if asset_id not in known_assets:
                yield doc.line_of([*base, "assets", a_index]), f"unknown asset {asset_id!r}"

    for index, att in enumerate(manifest.attestations):
        base = ["attestations", index]
        if att.id in _duplicates(a.id for a in manifest.attestations):
            yield doc.line_of([*base, "id"]), f"duplicate attestation id {att.id!r}"
        yield from control_exists(att.control, [*base, "control"], "control id")
        for s_index, system_id in enumerate(att.systems):
            if system_id not in known_systems:
                yield doc.line_of([*base, "systems", s_index]), f"unknown system {system_id!r}"

    for index, exclusion in enumerate(manifest.exclusions):
        base = ["exclusions", index]
        yield from control_exists(exclusion.control, [*base, "control"], "control id")
        for s_index, system_id in enumerate(exclusion.systems):
            if system_id not in known_systems:
                yield doc.line_of([*base, "systems", s_index]), f"unknown system {system_id!r}"


def _integrity_files(asset: Asset, where: list[str | int], doc: YamlDocument) -> Iterable[Problem]:
    # A signature or baseline file that does not exist yet is not a manifest error: the
    # model-signature and artifact-baseline checks report it as a finding, naming the file.
    for field, value in (("signature", asset.signature), ("baseline", asset.baseline)):
        if value is not None and is_url(asset.location):
            yield (
                doc.line_of([*where, field]),
                f"asset {asset.id!r}: {field}: a remote asset ({asset.location}) is "
                "checked where it is stored; remove this field",
            )


def _signing_files(manifest: Manifest, doc: YamlDocument) -> Iterable[Problem]:
    """The trust anchors `signing:` names must be files next to custos.yaml (or absolute)."""
    signing = manifest.signing
    if signing is None:
        return
    named: list[tuple[list[str | int], str]] = []
    if signing.public_key is not None:
        named.append((["signing", "public_key"], signing.public_key))
    for index, chain in enumerate(signing.certificate_chain or ()):
        named.append((["signing", "certificate_chain", index], chain))
    for where, value in named:
        if not resolve(doc.path.parent, value).is_file():
            what = "public key" if where[1] == "public_key" else "certificate chain file"
            yield (
                doc.line_of(where),
                f"signing.{where[1]}: {what} {value!r} does not exist (relative to "
                f"{doc.path.parent})",
            )

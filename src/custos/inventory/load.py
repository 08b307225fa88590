"""Reading `custos.yaml`: schema validation, then every cross-reference checked.

Each problem is one line `custos.yaml:LINE: where: what to do`, and all of them are reported
together (exit 2), so a user can fix the file in one pass. Nothing is written anywhere before
the manifest is known to be good.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from custos._validation import validate_model
from custos._yaml import YamlDocument, read_yaml
from custos.catalog.catalog import Catalog
from custos.errors import DataError, UserError
from custos.inventory.locations import expand, is_glob, is_url, resolve
from custos.inventory.references import reference_problems
from custos.inventory.schema import Asset, Manifest, is_retired

MANIFEST_NAME = "custos.yaml"


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
    if path.is_dir() and not manifest_path.exists():
        here = "" if path.resolve() == Path.cwd() else f" {shlex.quote(str(path))}"
        raise UserError(f"{manifest_path}: file not found; run `custos init{here}` to create one")
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


def _cross_check(manifest: Manifest, doc: YamlDocument, catalog: Catalog) -> Iterable[Problem]:
    for index, system in enumerate(manifest.systems):
        for a_index, asset in enumerate(system.assets):
            where: list[str | int] = ["systems", index, "assets", a_index]
            location = asset.location
            plain_path = not is_url(location) and not is_glob(location)
            # a retired asset may be gone already: the `retention` check wants it gone
            if plain_path and not is_retired(system, asset) and not expand(doc.path.parent,
                                                                           location):  # fmt: skip
                yield (
                    doc.line_of([*where, "location"]),
                    f"asset {asset.id!r}: {location!r} does not exist (relative to "
                    f"{doc.path.parent}); fix the path, use a glob, or remove the asset",
                )
            yield from _integrity_files(asset, where, doc)
    yield from _signing_files(manifest, doc)
    for where, message in reference_problems(manifest, catalog):
        yield doc.line_of(where), message


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

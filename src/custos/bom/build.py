"""A loaded manifest and its project directory -> a CycloneDX 1.6 `Bom` for one AI system, or for
every system in the project.

What each asset becomes (bom-ref `asset:<id>`; asset ids are unique in a manifest):

- model: a `machine-learning-model` component with the SHA-256 of its file (of each file, as
  nested `file` components, when it is a directory or a glob), its format recognised by content
  (`custos:format`), `custos:signature` (`verified`, `invalid`, `unsigned`, `unverified` when
  the manifest names no trust anchor or only a Sigstore identity (that needs the network), or
  `unknown` for a remote model), the model card as an external reference of type `model-card`
  with its SHA-256, and a `modelCard` (see `custos.bom.card`);
- dataset: a `data` component with its hashes and a `data` entry (type dataset, classification,
  contents URL, owner as governance);
- log_source: a `data` component (type other) without hashes: a log grows by design;
- pipeline: an `application` component with its hashes;
- repository: an `application` component; the dependencies its manifests and lockfiles state
  (`custos.repo.deps`) become `library` components identified by purl;
- endpoint: a service with its URL.

Every asset carries `custos:kind`, `custos:location`, `custos:lifecycle` and, when the manifest
gives them, `custos:classification` and `custos:owner`. The graph: the project depends on its
systems, a system on its assets and on its repositories' libraries, a repository on its
libraries. Signatures are verified offline with the model-signature check's trust anchor
(`signing:`); nothing is written, nothing is sent anywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.dependency import Dependency as CdxDependency
from cyclonedx.model.service import Service
from packageurl import PackageURL

from custos import __version__
from custos._hashing import sha256_file
from custos.assurance.model_cards import MAX_CARD_BYTES, card_candidates
from custos.bom.card import CardFacts, mentions, model_card_json, read_card
from custos.checks.artifacts import display, model_files
from custos.errors import UserError
from custos.inventory.discover import TEXT_HEAD, classify
from custos.inventory.locations import expand, files_of, is_glob, is_url, resolve
from custos.inventory.model_formats import is_saved_model, zip_model, zip_names
from custos.inventory.schema import AISystem, Asset, Manifest, is_retired
from custos.inventory.tier import system_tier
from custos.repo.model import Dependency, Unreadable

PROJECT_REF = "project"
# Worst first: an asset with several models reports the worst state among them.
SIGNATURE_STATES = ("invalid", "unsigned", "unverified", "verified")
_PURL_TYPES = {"PyPI": "pypi", "conda": "conda", "npm": "npm", "Docker": "docker",
               "GitHub Actions": "github"}  # fmt: skip
_SUFFIX_FORMATS = {
    ".safetensors": "safetensors", ".onnx": "onnx", ".gguf": "gguf", ".pt": "pytorch",
    ".pth": "pytorch", ".ckpt": "pytorch", ".h5": "hdf5", ".keras": "keras", ".joblib": "joblib",
    ".pkl": "pickle", ".pickle": "pickle", ".tflite": "tflite", ".npy": "numpy", ".npz": "numpy",
    ".pb": "tensorflow", ".mlmodel": "coreml", ".pmml": "pmml",
}  # fmt: skip
MAX_CONFIG_BYTES = 1 << 20  # a Hugging Face config.json is a few KiB


@dataclass(frozen=True)
class BuiltBom:
    """The library's Bom, and what it cannot hold yet: JSON fields to merge into the component
    with the given bom-ref (`modelCard` on models, `data` on datasets and logs)."""

    bom: Bom
    subject: str  # bom-ref of metadata.component: a system's, or PROJECT_REF
    extras: Mapping[str, Mapping[str, Any]]
    warnings: tuple[str, ...] = ()


def build_bom(
    manifest: Manifest, base_dir: Path, system_id: str | None = None, *, now: dt.datetime
) -> BuiltBom:
    """The BOM of one system (`system_id`) or of the whole project (None). UserError when the
    system does not exist or an artifact cannot be read."""
    if now.tzinfo is None:  # the schema's date-time needs an offset
        raise ValueError("now must be timezone-aware")
    systems = _chosen(manifest, system_id)
    builder = _Builder(manifest, base_dir, systems)
    supplier = OrganizationalEntity(name=manifest.organisation.name)
    if system_id is None:
        subject = Component(
            type=ComponentType.APPLICATION,
            name=manifest.organisation.name,
            bom_ref=PROJECT_REF,
            description=manifest.organisation.scope,
            supplier=supplier,
            properties=_properties([("custos:systems", str(len(systems)))]),
        )
        builder.nodes[PROJECT_REF] = subject
        for system in systems:
            component = _system_component(system, supplier)
            builder.add(component)
            builder.edge(PROJECT_REF, _system_ref(system))
            builder.add_system(system)
    else:
        subject = _system_component(systems[0], supplier)
        builder.nodes[_system_ref(systems[0])] = subject
        builder.add_system(systems[0])
    builder.finish_libraries()
    tool = Component(
        type=ComponentType.APPLICATION, name="custos", version=__version__, bom_ref="tool:custos"
    )
    metadata = BomMetaData(component=subject, timestamp=now, supplier=supplier)
    metadata.tools.components.add(tool)
    bom = Bom(
        serial_number=uuid.UUID(int=0),  # serialize.to_json derives the real one from content
        metadata=metadata,
        components=builder.components,
        services=builder.services,
        dependencies=builder.dependencies(),
    )
    return BuiltBom(bom, str(subject.bom_ref), builder.extras, tuple(builder.warnings))


def _chosen(manifest: Manifest, system_id: str | None) -> list[AISystem]:
    if system_id is None:
        return list(manifest.systems)
    for system in manifest.systems:
        if system.id == system_id:
            return [system]
    known = ", ".join(s.id for s in manifest.systems)
    raise UserError(f"no AI system {system_id!r} in custos.yaml (systems: {known})")


def _system_ref(system: AISystem) -> str:
    return f"system:{system.id}"


def _asset_ref(asset: Asset) -> str:
    return f"asset:{asset.id}"


def _properties(pairs: Iterable[tuple[str, str | None]]) -> list[Property]:
    return [Property(name=name, value=value) for name, value in pairs if value]


def _system_component(system: AISystem, supplier: OrganizationalEntity) -> Component:
    act = system.eu_ai_act
    return Component(
        type=ComponentType.APPLICATION,
        name=system.name,
        bom_ref=_system_ref(system),
        description=system.purpose,
        supplier=supplier,
        properties=_properties([
            ("custos:system", system.id),
            ("custos:owner", system.owner),
            ("custos:lifecycle", system.lifecycle),
            ("custos:eu-ai-act-role", act.role),
            ("custos:eu-ai-act-tier", system_tier(act).tier),
        ]),
    )  # fmt: skip


@dataclass
class _Library:
    """One dependency as every manifest of the BOM states it (keyed by purl)."""

    dependency: Dependency
    purl: PackageURL
    manifests: set[str] = field(default_factory=set)
    direct: bool = False


class _Builder:
    """Collects components, services, graph edges and extras; reads artifacts, writes nothing."""

    def __init__(self, manifest: Manifest, base: Path, systems: list[AISystem]) -> None:
        self.manifest = manifest
        self.base = base
        self.components: list[Component] = []
        self.services: list[Service] = []
        self.nodes: dict[str, Component | Service] = {}
        self.edges: dict[str, set[str]] = {}
        self.extras: dict[str, dict[str, Any]] = {}
        self.warnings: list[str] = []
        self.libraries: dict[str, _Library] = {}
        self.library_users: dict[str, set[str]] = {}  # purl -> refs that depend on it
        # Datasets a model card may name, across the systems in this BOM (only those have refs).
        self.datasets = [a for s in systems for a in s.assets if a.kind == "dataset"]

    def add(self, node: Component | Service) -> None:
        ref = str(node.bom_ref)
        self.nodes[ref] = node
        self.edges.setdefault(ref, set())
        if isinstance(node, Service):
            self.services.append(node)
        else:
            self.components.append(node)

    def edge(self, source: str, target: str) -> None:
        self.edges.setdefault(source, set()).add(target)

    def dependencies(self) -> list[CdxDependency]:
        """One entry per component and service (as the library's register_dependency makes
        them), nested file components included."""
        refs = set(self.nodes) | set(self.edges)
        for component in self.components:
            refs.update(str(c.bom_ref) for c in component.components)
        return [
            CdxDependency(
                ref=BomRef(ref),
                dependencies=[
                    CdxDependency(ref=BomRef(t)) for t in sorted(self.edges.get(ref, ()))
                ],
            )
            for ref in sorted(refs)
        ]

    # -- systems and assets -----------------------------------------------------------------

    def add_system(self, system: AISystem) -> None:
        system_ref = _system_ref(system)
        for asset in system.assets:
            node = self._asset(system, asset)
            self.add(node)
            self.edge(system_ref, str(node.bom_ref))
            if asset.kind == "repository":
                for purl in self._repository_libraries(asset):
                    self.library_users.setdefault(purl, set()).update(
                        {system_ref, _asset_ref(asset)}
                    )

    def _asset(self, system: AISystem, asset: Asset) -> Component | Service:
        retired = is_retired(system, asset)
        common = [
            ("custos:kind", asset.kind),
            ("custos:location", asset.location),
            ("custos:classification", asset.classification),
            ("custos:owner", asset.owner),
            ("custos:lifecycle", "retired" if retired else "active"),
        ]
        if asset.kind == "endpoint":
            return self._endpoint(asset, common)
        if asset.kind == "model":
            return self._model(asset, common)
        if asset.kind in ("dataset", "log_source"):
            return self._data(asset, common)
        component_type = ComponentType.APPLICATION  # a pipeline or a repository: code
        # A repository's tree is summarised by its dependencies, not by hashing every file.
        files = [] if asset.kind == "repository" else self._files(asset)
        return self._component(component_type, asset, common, files)

    def _files(self, asset: Asset) -> list[Path]:
        return [] if is_url(asset.location) else files_of(self.base, asset.location)

    def _component(
        self,
        component_type: ComponentType,
        asset: Asset,
        props: list[tuple[str, str | None]],
        files: list[Path],
        external: Iterable[ExternalReference] = (),
    ) -> Component:
        """A component with the SHA-256 of its file, or nested `file` components with theirs
        when the asset stands for several files (a directory or a glob)."""
        ref = _asset_ref(asset)
        references = list(external)
        if is_url(asset.location):  # where a remote asset lives: a repository's is its VCS
            kind = asset.kind == "repository"
            where = ExternalReferenceType.VCS if kind else ExternalReferenceType.DISTRIBUTION
            references.append(ExternalReference(type=where, url=XsUri(asset.location)))
        component = Component(
            type=component_type,
            name=asset.id,
            bom_ref=ref,
            description=asset.notes,
            properties=_properties(props),
            external_references=references,
        )
        if len(files) == 1:
            component.hashes.add(self._hash(asset, files[0]))
        else:
            for path in files:
                shown = display(path, self.base)
                component.components.add(
                    Component(
                        type=ComponentType.FILE,
                        name=shown,
                        bom_ref=f"{ref}:file:{shown}",
                        hashes=[self._hash(asset, path)],
                    )
                )
        return component

    def _hash(self, asset: Asset, path: Path) -> HashType:
        try:
            digest = sha256_file(path)
        except OSError as exc:
            shown = display(path, self.base)
            raise UserError(
                f"asset {asset.id}: cannot read {shown}: {exc.strerror or exc}"
            ) from None
        return HashType(alg=HashAlgorithm.SHA_256, content=digest)

    def _endpoint(self, asset: Asset, props: list[tuple[str, str | None]]) -> Service:
        url = asset.url or (asset.location if is_url(asset.location) else None)
        return Service(
            name=asset.id,
            bom_ref=_asset_ref(asset),
            description=asset.notes,
            endpoints=[XsUri(url)] if url else [],
            # `auth:` names the variable holding the key the endpoint requires; without it the
            # manifest does not say, so the field is left out rather than set to false.
            authenticated=True if asset.auth else None,
            properties=_properties(props),
        )

    def _data(self, asset: Asset, props: list[tuple[str, str | None]]) -> Component:
        files = self._files(asset)
        log = asset.kind == "log_source"
        declared = asset.log_format if log and asset.log_format != "auto" else None
        fmt = declared or _formats(files, in_logs=log)
        props = [*props, ("custos:format", fmt), ("custos:label", asset.label)]
        # A log grows by design: its digest today says nothing about tomorrow's file.
        component = self._component(ComponentType.DATA, asset, props, [] if log else files)
        data: dict[str, Any] = {"type": "other" if log else "dataset", "name": asset.id}
        if asset.classification:
            data["classification"] = asset.classification
        data["contents"] = {"url": asset.location}
        if asset.notes:
            data["description"] = asset.notes
        if asset.owner:
            data["governance"] = {"owners": [{"contact": {"name": asset.owner}}]}
        self.extras[_asset_ref(asset)] = {"data": [data]}
        return component

    # -- models -----------------------------------------------------------------------------

    def _model(self, asset: Asset, props: list[tuple[str, str | None]]) -> Component:
        if is_url(asset.location):
            props = [*props, ("custos:signature", "unknown")]
            return self._component(ComponentType.MACHINE_LEARNING_MODEL, asset, props, [])
        models = _models(expand(self.base, asset.location))
        signatures = {self._signature_file(asset, m) for m in models}
        files = list(
            dict.fromkeys(f for m in models for f in model_files(m) if f not in signatures)
        )
        state, signer = self._signature(asset, models)
        props = [
            *props,
            ("custos:format", _model_formats(models)),
            ("custos:signature", state if models else None),
            ("custos:signer", signer),
        ]
        card = next((c for m in models for c in card_candidates(m) if c.is_file()), None)
        facts: CardFacts | None = None
        external: list[ExternalReference] = []
        if card is not None:
            try:
                with card.open("rb") as handle:
                    text = handle.read(MAX_CARD_BYTES).decode("utf-8", errors="replace")
            except OSError as exc:
                shown = display(card, self.base)
                raise UserError(f"asset {asset.id}: cannot read {shown}: {exc.strerror}") from None
            facts = read_card(text)
            external.append(
                ExternalReference(
                    type=ExternalReferenceType.MODEL_CARD,
                    url=XsUri(display(card, self.base)),
                    hashes=[self._hash(asset, card)],
                )
            )
        component = self._component(
            ComponentType.MACHINE_LEARNING_MODEL, asset, props, files, external
        )
        family, architecture = _architecture(models)
        modelcard = model_card_json(facts, self._trained_on(facts), family, architecture)
        if modelcard is not None:
            self.extras[_asset_ref(asset)] = {"modelCard": modelcard}
        return component

    def _signature_file(self, asset: Asset, model: Path) -> Path:
        from custos.integrity.sign import default_signature_path

        if asset.signature is not None:
            return resolve(self.base, asset.signature)
        return default_signature_path(model)

    def _signature(self, asset: Asset, models: list[Path]) -> tuple[str, str | None]:
        """The worst state among the asset's models, and the signer when all verified."""
        states: list[str] = []
        signer: str | None = None
        signing = self.manifest.signing
        for model in models:
            signature = self._signature_file(asset, model)
            if not signature.is_file():
                states.append("unsigned")
            elif signing is None or signing.sigstore is not None:
                # No anchor: a signature that verifies with the key it carries proves nothing.
                # Sigstore: verification needs the network, which a BOM never uses.
                states.append("unverified")
            else:
                # model-signing loads only when a signature is there to verify (~0.5 s)
                from custos.checks.model_signature import expected_signer
                from custos.integrity.verify import verify

                result = verify(
                    model, expected_signer(signing, self.base), signature, signing.ignore_paths
                )
                if result.ok:
                    states.append("verified")
                    signer = result.signer
                elif all(d.kind == "unsigned" for d in result.differences):
                    states.append("unsigned")
                else:
                    states.append("invalid")
        if signing is not None and signing.sigstore is not None and "unverified" in states:
            self.warnings.append(
                f"asset {asset.id}: Sigstore signatures are verified online; the BOM says "
                "'unverified' (`custos scan` verifies them)"
            )
        worst = min(states, key=SIGNATURE_STATES.index, default="unsigned")
        return worst, signer if worst == "verified" else None

    def _trained_on(self, facts: CardFacts | None) -> list[str]:
        """bom-refs of the datasets the card's training-data section (or front matter) names:
        by asset id, by location, or by file name."""
        if facts is None:
            return []
        found = []
        for asset in self.datasets:
            names = [asset.id]
            if not is_url(asset.location) and not is_glob(asset.location):
                names.append(asset.location)
                if Path(asset.location).suffix:  # a bare folder name would match any word
                    names.append(Path(asset.location).name)
            if any(mentions(facts.training_data, n) or n in facts.datasets for n in names):
                found.append(_asset_ref(asset))
        return sorted(set(found))

    # -- libraries --------------------------------------------------------------------------

    def _repository_libraries(self, asset: Asset) -> list[str]:
        """The purls of what the repository's manifests and lockfiles state (recorded in
        self.libraries); a remote repository is not read."""
        from custos.repo import deps
        from custos.repo.scan import walk

        if is_url(asset.location):
            self.warnings.append(
                f"asset {asset.id}: remote repository ({asset.location}); its dependencies are "
                "not in the BOM (declare its checkout as the location)"
            )
            return []
        found: list[Dependency] = []
        for root in expand(self.base, asset.location):
            for path in walk(root):
                if not deps.is_manifest(path.name):
                    continue
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                    found += deps.parse_dependencies(text, path)
                except OSError as exc:
                    raise UserError(
                        f"asset {asset.id}: cannot read {display(path, self.base)}: {exc.strerror}"
                    ) from None
                except Unreadable as exc:
                    where = display(path, self.base) + (f":{exc.line}" if exc.line else "")
                    self.warnings.append(f"{where}: dependencies not read: {exc.message}")
        return [self._library(dep) for dep in _attach_ranges(found)]

    def _library(self, dep: Dependency) -> str:
        purl = PackageURL(type=_PURL_TYPES.get(dep.ecosystem, "generic"), name=dep.name,
                          version=dep.version)  # fmt: skip
        key = purl.to_string()
        library = self.libraries.setdefault(key, _Library(dep, purl))
        library.manifests.add(display(dep.path, self.base))
        library.direct = library.direct or dep.direct
        return key

    def finish_libraries(self) -> None:
        for key, library in sorted(self.libraries.items()):
            dep = library.dependency
            props = [("custos:manifest", m) for m in sorted(library.manifests)]
            props += [("custos:direct", "true" if library.direct else "false")]
            if dep.version is None:  # unpinned: what was asked for is all there is to say
                props.append(("custos:spec", dep.spec))
            self.add(
                Component(
                    type=ComponentType.LIBRARY,
                    name=dep.name,
                    version=dep.version,
                    purl=library.purl,
                    bom_ref=key,
                    properties=_properties(props),
                )
            )
            for user in self.library_users.get(key, ()):
                self.edge(user, key)


def _attach_ranges(found: list[Dependency]) -> list[Dependency]:
    """A range a manifest declares (`numpy>=1.26`) and the version the repository's lockfile
    pins for it are one library: the range is credited to the pinned version when exactly one
    is pinned, instead of becoming a second, versionless component."""
    pinned: dict[tuple[str, str], set[str]] = {}
    for dep in found:
        if dep.version is not None:
            pinned.setdefault((dep.ecosystem, dep.name), set()).add(dep.version)
    out = []
    for dep in found:
        versions = pinned.get((dep.ecosystem, dep.name), set())
        if dep.version is None and len(versions) == 1 and "://" not in dep.spec:
            dep = replace(dep, version=next(iter(versions)))
        out.append(dep)
    return out


# -- formats --------------------------------------------------------------------------------------


def _models(paths: list[Path]) -> list[Path]:
    # As the model-signature check: a glob such as `models/*` also matches the signatures.
    chosen = set(paths)
    return [p for p in paths if not (p.name.endswith(".sig") and p.with_suffix("") in chosen)]


def _file_format(path: Path, *, in_logs: bool = False) -> str | None:
    """The format by content (as `custos init` recognises it), else by the file's suffix."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(TEXT_HEAD)
        found = classify(path.name, head, size, in_logs) if size else None
        if found is not None:
            return found.format
        if head.startswith(b"PK\x03\x04"):
            model = zip_model(zip_names(path, size))
            if model is not None:
                return model[0]
    except OSError:
        return None  # hashing the file says why, with the asset's name
    suffix = path.suffix.lower()
    return _SUFFIX_FORMATS.get(suffix) or (suffix[1:] or None)


def _formats(files: list[Path], *, in_logs: bool = False) -> str | None:
    found = sorted({f for f in (_file_format(p, in_logs=in_logs) for p in files) if f})
    return ",".join(found) or None


_WEIGHT_FORMATS = frozenset({*_SUFFIX_FORMATS.values(), "pytorch-zip"})


def _model_formats(models: list[Path]) -> str | None:
    """The formats of the models: a SavedModel directory as such, another directory by the
    weight files inside it (its config and tokenizer files are not the model's format)."""
    found: set[str] = set()
    for model in models:
        if model.is_dir():
            saved = model / "saved_model.pb"
            if saved.is_file() and is_saved_model(saved):
                found.add("savedmodel")
                continue
            inside = (_file_format(f) for f in model_files(model))
            found.update(f for f in inside if f in _WEIGHT_FORMATS)
        elif fmt := _file_format(model):
            found.add(fmt)
    return ",".join(sorted(found)) or None


def _architecture(models: list[Path]) -> tuple[str | None, str | None]:
    """(architectureFamily, modelArchitecture) from a Hugging Face `config.json` inside a model
    directory (`model_type`, `architectures[0]`), when there is exactly one such answer."""
    answers: set[tuple[str | None, str | None]] = set()
    for model in models:
        config = model / "config.json"
        if not model.is_dir() or not config.is_file():
            continue
        try:
            with config.open("rb") as handle:
                data = json.loads(handle.read(MAX_CONFIG_BYTES))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        family = data.get("model_type")
        names = data.get("architectures")
        first = names[0] if isinstance(names, list) and names else None
        answers.add((
            family if isinstance(family, str) and family else None,
            first if isinstance(first, str) and first else None,
        ))  # fmt: skip
    return answers.pop() if len(answers) == 1 else (None, None)

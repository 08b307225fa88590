"""artifact-baseline: models, datasets, pipelines and repositories match their recorded baseline.

A baseline is the per-file SHA-256 list `custos baseline` records (see custos.integrity.baseline),
by default `<project>/.custos/baselines/<asset id>.json`, or the asset's `baseline:` file. Any
file changed, removed or added since is a finding, so a change nobody approved (re-recorded the
baseline for) shows up. Logs are left out: they are meant to grow.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from custos._hashing import sha256_file
from custos.checks.artifacts import display, model_files
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Examined, Finding, Outcome, Severity
from custos.inventory.locations import expand, is_url, resolve
from custos.inventory.schema import BASELINE_KINDS, Asset, Manifest


def baseline_file(asset: Asset, base_dir: Path) -> Path:
    """Where the asset's baseline lives: its `baseline:` file, else the default by asset id."""
    if asset.baseline is not None:
        return resolve(base_dir, asset.baseline)
    return base_dir / ".custos" / "baselines" / f"{asset.id}.json"


def asset_at(manifest: Manifest, base_dir: Path, path: Path) -> Asset | None:
    """The declared asset whose (plain, local) location is `path`, if any."""
    wanted = path.resolve()
    for system in manifest.systems:
        for asset in system.assets:
            if not is_url(asset.location) and resolve(base_dir, asset.location).resolve() == wanted:
                return asset
    return None


def declared_baseline(project: Path, path: Path, name: str | None) -> tuple[str, Path] | None:
    """For `custos baseline`: the asset's id and baseline file, when custos.yaml declares it.

    The asset is the one named `name` or, without a name, the one located at `path`. No
    manifest, one that does not validate, or no such asset: None (the command's own defaults).
    """
    from custos._validation import validate_model
    from custos._yaml import read_yaml
    from custos.errors import DataError
    from custos.inventory.load import find_manifest

    manifest_path = find_manifest(project)
    if not manifest_path.is_file():
        return None
    try:
        manifest = validate_model(Manifest, read_yaml(manifest_path))
    except DataError:
        return None
    if name is not None:
        assets = [a for s in manifest.systems for a in s.assets if a.id == name]
        asset = assets[0] if assets else None
    else:
        asset = asset_at(manifest, project, path)
    return (asset.id, baseline_file(asset, project)) if asset is not None else None


def record_command(asset: Asset) -> str:
    return f"custos baseline {asset.location} --name {asset.id}"


def _covered(name: str, ignored: tuple[str, ...]) -> bool:
    return any(PurePosixPath(name).is_relative_to(PurePosixPath(i)) for i in ignored)


class ArtifactBaseline(Check):
    name = "artifact-baseline"
    version = 1
    title = "Artifacts have not changed since their recorded baseline"
    kinds = frozenset(BASELINE_KINDS)
    evidences = (
        "custos:ai:model-backup",
        "custos:ai:model-provenance",
        "custos:ai:data-provenance",
        "custos:ai:data-poisoning",
        "custos:ai:model-versioning",
        "custos:ai:model-change-management",
        "custos:ai:ml-configuration",
        "custos:ai:training-audit-trail",
        "iso27002:2022:8.32",
        "iso27002:2022:8.9",
    )

    def run(self, target: Target, context: CheckContext) -> Outcome:
        from custos.integrity import baseline as baselines

        asset = target.asset
        assert asset is not None
        if is_url(asset.location):
            return Outcome("not_applicable", "remote artifact: baseline it where it is stored")
        base = context.base_dir
        paths = expand(base, asset.location)
        if not paths:
            return Outcome("error", f"{asset.location} matches no file to compare")
        if len(paths) > 1:  # `custos baseline` records one file or directory
            return Outcome(
                "error",
                f"{asset.location} matches {len(paths)} paths; a baseline covers one file or "
                "directory, so declare each as its own asset",
            )
        (artifact,) = paths
        stored = baseline_file(asset, base)
        shown = display(artifact, base)
        if not stored.is_file():
            examined = (*_files(artifact, base, ()), Examined(display(stored, base)))
            return Outcome(
                "fail",
                "no baseline recorded",
                (
                    Finding(
                        "artifact-baseline/missing",
                        Severity.low,
                        f"{shown}: no baseline at {display(stored, base)}; record one with "
                        f"`{record_command(asset)}` (run where custos.yaml is)",
                        shown,
                    ),
                ),
                examined,
            )
        recorded = baselines.load(stored)
        found = baselines.drift(recorded, artifact, stored)
        since = f"since the baseline of {recorded.created_at:%Y-%m-%d}"
        findings = [
            Finding(f"artifact-baseline/{change}", severity, f"{where}: {change} {since}", where)
            for change, severity, files in (
                ("changed", Severity.high, found.changed),
                ("removed", Severity.high, found.removed),
                ("added", Severity.medium, found.added),
            )
            for where in (self._where(artifact, shown, name) for name in files)
        ]
        examined = (
            *_files(artifact, base, recorded.ignore),
            Examined(display(stored, base), sha256_file(stored), stored.stat().st_size),
        )
        if findings:
            summary = (
                f"{len(found.changed)} changed, {len(found.removed)} removed, "
                f"{len(found.added)} added {since}"
            )
            return Outcome("fail", summary, tuple(findings), examined)
        summary = (
            f"{len(recorded.files)} file(s) match the baseline of {recorded.created_at:%Y-%m-%d}"
        )
        return Outcome("pass", summary, examined=examined)

    @staticmethod
    def _where(artifact: Path, shown: str, name: str) -> str:
        # A single-file artifact's baseline names the file itself; a directory's, its members.
        return f"{shown}/{name}" if artifact.is_dir() else shown


def _files(artifact: Path, base: Path, ignored: tuple[str, ...]) -> list[Examined]:
    found = []
    for path in model_files(artifact):
        if artifact.is_dir() and _covered(path.relative_to(artifact).as_posix(), ignored):
            continue
        found.append(Examined(display(path, base), sha256_file(path), path.stat().st_size))
    return found

"""`custos bom [SYSTEM]`: the AI bill of materials of one AI system, or of every system in the
project, as CycloneDX 1.6 JSON (custos.bom). Needs `pip install 'custos[bom]'`.

The document goes to stdout, or atomically to `--output`; warnings (a remote repository whose
dependencies were not read, a lockfile that did not parse) go to stderr. The timestamp is the
current time, or SOURCE_DATE_EPOCH when set (reproducible builds); everything else depends only
on the manifest and the artifacts' bytes. `--validate` checks the document against the CycloneDX
1.6 schema bundled with cyclonedx-python-lib first (opt-in: importing jsonschema's format
checkers costs about 3 s); the tests always do.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from enum import StrEnum
from pathlib import Path

import typer

from custos.errors import CustosError, UserError

MISSING_LIBRARY = "custos bom needs cyclonedx-python-lib: pip install 'custos[bom]'"


class BomFormat(StrEnum):
    cyclonedx = "cyclonedx"


def bom_cmd(
    system: str | None = typer.Argument(
        None, metavar="SYSTEM", help="The AI system's id in custos.yaml (default: every system)."
    ),
    path: Path = typer.Option(
        Path("."),
        "--dir",
        help="The project directory holding custos.yaml, or the manifest file itself.",
    ),
    output_format: BomFormat = typer.Option(
        BomFormat.cyclonedx, "--format", "-f", help="cyclonedx: CycloneDX 1.6 JSON."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the BOM to this file (atomically) instead of stdout."
    ),
    validate: bool = typer.Option(
        False,
        "--validate",
        help="Check the document against the CycloneDX 1.6 JSON schema bundled with "
        "cyclonedx-python-lib before writing it (its json-validation extra; about 3 s).",
    ),
) -> None:
    """Write the AI bill of materials: models (hashes, format, signature status, model card),
    datasets (hashes, classification), endpoints, pipelines and the libraries the
    repositories' manifests and lockfiles pin, with the dependency graph.

    Example: custos bom fraud-scoring --dir examples/fraud-detection -o fraud-scoring.cdx.json
    """
    text, warnings = render(path, system, output_format, now=_now(), validate=validate)
    from custos.cli.output import err_console, warn

    for message in warnings:
        warn(message)
    if output is None:
        sys.stdout.write(text)
        return
    from custos._files import write_atomic

    try:
        write_atomic(output, text.encode("utf-8"))
    except OSError as exc:
        raise UserError(f"{output}: cannot write: {exc.strerror or exc}") from None
    err_console.print(f"wrote {output}", soft_wrap=True, markup=False)


def render(
    path: Path,
    system: str | None,
    output_format: BomFormat,
    *,
    now: dt.datetime,
    validate: bool = False,
) -> tuple[str, tuple[str, ...]]:
    """(the BOM's text, warnings) for the project at `path`; UserError on bad input."""
    assert output_format is BomFormat.cyclonedx  # the only format; the enum keeps --help honest
    try:
        import cyclonedx  # noqa: F401
        import packageurl  # noqa: F401
    except ImportError:
        raise UserError(MISSING_LIBRARY) from None
    from custos.bom.build import build_bom
    from custos.bom.serialize import to_json
    from custos.catalog.loader import load_catalog
    from custos.inventory.load import find_manifest, load_manifest

    manifest_path = find_manifest(path)
    if not manifest_path.is_file():
        raise UserError(f"no manifest at {manifest_path}: run `custos init` or pass --dir DIR")
    loaded = load_manifest(manifest_path, load_catalog())
    built = build_bom(loaded.manifest, loaded.base_dir, system, now=now)
    text = to_json(built)
    if validate:
        _validate(text)
    return text, built.warnings


def _validate(text: str) -> None:
    # Opt-in: jsonschema's format checkers take ~3 s to import, five times the BOM itself.
    from cyclonedx.exception import MissingOptionalDependencyException

    from custos.bom.serialize import schema_error

    try:
        problem = schema_error(text)
    except MissingOptionalDependencyException:
        raise UserError(
            "--validate needs cyclonedx-python-lib's json-validation extra: "
            "pip install 'cyclonedx-python-lib[json-validation]'"
        ) from None
    if problem is not None:  # our bug, not the user's input: exit 3
        first = problem.splitlines()[0] if problem else problem
        raise CustosError(f"the generated BOM is not valid CycloneDX 1.6: {first}")


def _now() -> dt.datetime:
    """SOURCE_DATE_EPOCH (seconds since 1970, reproducible builds) or the current UTC time."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise UserError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None

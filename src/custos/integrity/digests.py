"""Per-file digests of a model, computed by model-signing's own hashing engine.

Signing, verification and baselines all hash through `model_signing.hashing`, so a digest
Custos records is byte-for-byte the one an OpenSSF model signature carries (and `model_signing
verify` accepts Custos signatures). Resource names are POSIX paths relative to the model
directory; a single-file model has one resource named ".".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

from model_signing import hashing, manifest

from custos.errors import UserError

# model-signing leaves these out by default when signing a directory (they are repository
# plumbing, not model content); its signatures record them among `ignore_paths`.
GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
HASH_TYPES = ("sha256", "blake2", "blake3")
HashType = Literal["sha256", "blake2", "blake3"]


@dataclass(frozen=True)
class HashSpec:
    """How a model is serialized into resources: what model-signing calls the serialization."""

    method: str = "files"  # "files": one digest per file; "shards": one per file slice
    hash_type: str = "sha256"
    shard_size: int | None = None
    allow_symlinks: bool = False

    @classmethod
    def from_serialization(cls, params: Mapping[str, Any]) -> HashSpec:
        """The spec recorded in a signature's `predicate.serialization`."""
        method = params.get("method")
        if method not in ("files", "shards"):
            raise ValueError(f"unknown serialization method {method!r}")
        shard = params.get("shard_size") if method == "shards" else None
        # The statement travels as a protobuf Struct, whose numbers come back as floats.
        if isinstance(shard, float) and shard.is_integer():
            shard = int(shard)
        if method == "shards" and not (isinstance(shard, int) and shard > 0):
            raise ValueError("shard serialization without a positive integer shard_size")
        # model-signing records BLAKE2 as "blake2b" but configures it as "blake2".
        hash_type = {"blake2b": "blake2"}.get(str(params.get("hash_type")), params.get("hash_type"))
        if hash_type not in HASH_TYPES:
            raise ValueError(f"unsupported hash type {params.get('hash_type')!r}")
        return cls(
            method=str(method),
            hash_type=str(hash_type),
            shard_size=shard,
            allow_symlinks=params.get("allow_symlinks") is True,
        )


FILES_SHA256 = HashSpec()


_SHARD = re.compile(r"^(.*):(\d+):(\d+)$")


def file_of(resource: str, sharded: bool = False) -> str:
    """The file a resource belongs to: shard resources are `path:start:end`."""
    match = _SHARD.match(resource) if sharded else None
    return match.group(1) if match else resource


def relative_ignores(model: Path, paths: Iterable[Path | str]) -> tuple[str, ...]:
    """Ignore paths as POSIX paths relative to the model directory (what a signature records).

    A relative path is taken relative to the model directory; an absolute one must lie inside it.
    """
    root = model.resolve()
    result: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_absolute():
            try:
                rel = PurePosixPath(path.resolve().relative_to(root).as_posix())
            except ValueError:
                raise UserError(f"--ignore {raw}: not inside the model {model}") from None
        else:
            rel = PurePosixPath(path.as_posix())
        if ".." in rel.parts or str(rel) in ("", "."):
            raise UserError(f"--ignore {raw}: must name a path inside the model {model}")
        if str(rel) not in result:
            result.append(str(rel))
    return tuple(result)


def hash_manifest(
    model: Path,
    ignore: Sequence[str] = (),
    spec: HashSpec = FILES_SHA256,
    *,
    ignore_git: bool = True,
) -> manifest.Manifest:
    """Hash `model` (file or directory) with model-signing's engine, files hashed in parallel.

    `ignore` holds paths relative to the model; git plumbing is left out unless `ignore_git`
    is false.
    """
    if not model.exists():
        raise UserError(f"{model}: no such file or directory")
    config = hashing.Config()  # type: ignore[no-untyped-call]  # library __init__ is unannotated
    if spec.method == "shards":
        config.use_shard_serialization(
            hashing_algorithm=cast(HashType, spec.hash_type),
            shard_size=spec.shard_size or 1_000_000_000,
        )
    else:
        config.use_file_serialization(hashing_algorithm=cast(HashType, spec.hash_type))
    config.set_ignored_paths(paths=list(ignore), ignore_git_paths=ignore_git)
    config.set_allow_symlinks(spec.allow_symlinks)
    try:
        return config.hash(model)
    except ValueError as exc:
        # Symlinks, sockets, unsupported hash types: the library says which path.
        raise UserError(f"{model}: {exc}") from None
    except OSError as exc:
        raise UserError(f"{exc.filename or model}: cannot read ({exc.strerror})") from None


def resource_digests(m: manifest.Manifest) -> dict[str, str]:
    """Resource name -> hex digest, sorted by name."""
    return {rd.identifier: rd.digest.digest_hex for rd in m.resource_descriptors()}


def file_digests(model: Path, ignore: Sequence[str] = ()) -> dict[str, str]:
    """Per-file SHA-256 of a model, keyed by path relative to it (the file name for a file)."""
    digests = resource_digests(hash_manifest(model, ignore))
    if model.is_file():
        return {model.name: digests["."]}
    return digests

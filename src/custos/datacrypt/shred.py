"""Crypto-shredding: what a file is before it goes (digests, format, KEK), destroying the key
material that opens it, and finding what would still open or repeat it afterwards.

A Custos file's segments open only with its data key, which exists only wrapped by a KEK in
the header. Shredding overwrites that wrapped key in place, so this copy can never be opened,
then removes the file. A copy made earlier (a backup, a sync) still holds the wrapped key and
opens with the KEK: only destroying the KEK (`Keks.destroy`) makes every copy unrecoverable.
A plaintext file can only be overwritten and removed, which flash storage and copy-on-write
filesystems may not honour; the caller must ask for it explicitly.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from custos._hashing import sha256_file
from custos.datacrypt.format import MAGIC, WRAP_NONCE_SIZE, WRAPPED_SIZE, FormatError
from custos.datacrypt.keks import overwrite_and_remove, sync_directory
from custos.datacrypt.stream import decrypt_chunks, read_header, unwrap
from custos.inventory.discover import SKIP_DIRS

AGE_MAGIC = b"age-encryption.org/v1\n"
AGE_HEADER_MAX = 64 * 1024  # an age header with many recipients still fits
Format = Literal["custos", "age", "plaintext"]
Method = Literal["crypto-shred", "overwrite"]
KeyOf = Callable[[str], bytes | None]  # KEK id -> its key, or None when it is not at hand
SHRED_EVENT = "asset-shredded"  # the ledger event `custos shred` appends, `retention` reads


@dataclass(frozen=True)
class Victim:
    """One file about to be shredded, as the deletion record describes it."""

    path: Path
    size: int
    sha256: str
    format: Format
    kek_id: str | None
    key_region: tuple[int, int]  # the bytes [start, end) whose loss makes the file unopenable
    plaintext_sha256: str | None  # None: an encrypted file whose KEK was not at hand
    plaintext_size: int | None

    @property
    def method(self) -> Method:
        return "overwrite" if self.format == "plaintext" else "crypto-shred"


def survey(path: Path, key_of: KeyOf) -> Victim:
    """Describe `path` without changing it. For a Custos file whose KEK is at hand, every
    segment is authenticated and the plaintext's digest recorded (so the `retention` check can
    recognise a plaintext copy later); FormatError or AuthenticationError if it does not open."""
    size = path.stat().st_size
    digest = sha256_file(path)
    with path.open("rb") as handle:
        head = handle.read(max(len(MAGIC), len(AGE_MAGIC)))
    if head.startswith(MAGIC):
        return _custos(path, size, digest, key_of)
    if head.startswith(AGE_MAGIC):
        end = _age_header_end(path)
        return Victim(path, size, digest, "age", None, (0, end), None, None)
    return Victim(path, size, digest, "plaintext", None, (0, size), digest, size)


def _custos(path: Path, size: int, digest: str, key_of: KeyOf) -> Victim:
    with path.open("rb") as handle:
        header = read_header(handle)
        region = (header.size - WRAP_NONCE_SIZE - WRAPPED_SIZE, header.size)
        kek = key_of(header.kek_id)
        if kek is None:
            return Victim(path, size, digest, "custos", header.kek_id, region, None, None)
        plain, count = hashlib.sha256(), 0
        for chunk in decrypt_chunks(handle, header, unwrap(header, kek)):
            plain.update(chunk)
            count += len(chunk)
    return Victim(path, size, digest, "custos", header.kek_id, region, plain.hexdigest(), count)


def _age_header_end(path: Path) -> int:
    """The end of an age header: the line starting '---' (its MAC), which follows the
    recipient stanzas that hold the wrapped file key."""
    with path.open("rb") as handle:
        head = handle.read(AGE_HEADER_MAX)
    at = head.find(b"\n---")
    end = head.find(b"\n", at + 1) if at >= 0 else -1
    if end < 0:
        raise FormatError("an age file whose header does not end within 64 KiB")
    return end + 1


def deletion_record(
    system: str, asset: str, location: str, victims: Iterable[Victim], base: Path,
    destroyed_keks: Iterable[str], reason: str | None,
) -> dict[str, Any]:  # fmt: skip
    """The ledger payload of a shredding (who and when are the entry's actor and time)."""
    files = [_file_record(v, base) for v in victims]
    return {
        "event": SHRED_EVENT, "system": system, "asset": asset, "location": location,
        "files": files, "keks_destroyed": sorted(destroyed_keks), "reason": reason,
    }  # fmt: skip


def _file_record(v: Victim, base: Path) -> dict[str, Any]:
    return {
        "path": _relative(v.path, base), "size": v.size, "sha256": v.sha256,
        "format": v.format, "method": v.method, "kek": v.kek_id,
        "plaintext_sha256": v.plaintext_sha256, "plaintext_size": v.plaintext_size,
    }  # fmt: skip


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def destroy(victim: Victim) -> None:
    """Overwrite the key material (all of a plaintext file) with random bytes, fsync, remove
    the file and fsync its directory."""
    if victim.format == "plaintext":
        overwrite_and_remove(victim.path)
        return
    start, end = victim.key_region
    with victim.path.open("r+b") as handle:
        handle.seek(start)
        handle.write(os.urandom(end - start))
        handle.flush()
        os.fsync(handle.fileno())
    victim.path.unlink()
    sync_directory(victim.path.parent)


def project_files(root: Path, max_files: int = 100_000) -> Iterator[Path]:
    """Regular files under `root`, where asset discovery looks (caches, VCS, virtualenvs and
    .custos/ skipped; symlinks not followed)."""
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            seen += 1
            if seen > max_files:
                return
            yield path


def kek_of(path: Path) -> str | None:
    """The KEK id in a Custos file's header (None: not a Custos file, or unreadable)."""
    try:
        with path.open("rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                return None
            handle.seek(0)
            return read_header(handle).kek_id
    except (OSError, FormatError):
        return None


def files_under_keks(root: Path, keks: Iterable[str], skip: Iterable[Path] = ()) -> list[Path]:
    """Custos files under `root` (besides `skip`) encrypted under one of `keks`: what
    destroying those KEKs would make unrecoverable."""
    wanted, skipped = set(keks), {p.resolve() for p in skip}
    return [p for p in project_files(root)
            if p.resolve() not in skipped and kek_of(p) in wanted]  # fmt: skip


def copies(root: Path, digests: dict[str, int]) -> Iterator[tuple[Path, str]]:
    """Files under `root` whose bytes have one of the given SHA-256 digests (digest -> size;
    only files of a wanted size are hashed, so a large tree costs a listing)."""
    sizes = set(digests.values())
    for path in project_files(root):
        try:
            size = path.stat().st_size
            if size == 0 or size not in sizes:  # an empty file repeats every empty file
                continue
            digest = sha256_file(path)
        except OSError:
            continue
        if digest in digests:
            yield path, digest

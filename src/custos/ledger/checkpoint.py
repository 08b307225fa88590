"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed-note envelopes, Ed25519 keys.

A checkpoint commits the log to (origin, size, root). Using the C2SP formats (the ones Go's
sumdb, Sigstore and Sigsum use) means an auditor can check Custos' checkpoints with tools we
did not write, and witnesses can cosign them. Keys are strings in the Go `note` package format:
verifier `<name>+<key id hex>+<base64(0x01 || public key)>`, signer
`PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || seed)>`; key id = SHA-256(name || 0x0A ||
0x01 || public key)[:4]. Error messages never include a signer key string.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from custos.errors import UserError
from custos.ledger.merkle import HASH_SIZE

_ED25519 = b"\x01"
_SIG_PREFIX = "\u2014 "  # em dash, space
_MAX_NOTE_CHARS = 1 << 16
_MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class CheckpointError(UserError):
    """A checkpoint or key is malformed, unsigned by the trusted key, or badly signed."""


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed claim: the tree of `size` leaves from `origin` has root hash `root`."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin or _CONTROL.search(self.origin):
            raise CheckpointError(f"checkpoint origin {self.origin!r} must be one non-empty line")
        if not 0 <= self.size < 1 << 64:
            raise CheckpointError(f"checkpoint size {self.size} is not a 64-bit unsigned integer")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError(f"checkpoint root is {len(self.root)} bytes, not {HASH_SIZE}")
        for line in self.extensions:
            if not line or "\n" in line or _CONTROL.search(line):
                raise CheckpointError("checkpoint extension lines must be non-empty single lines")

    def body(self) -> str:
        """The note text that gets signed: origin, size, base64 root, extensions; LF-ended."""
        root = base64.b64encode(self.root).decode()
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )


@dataclass(frozen=True)
class VerifierKey:
    """A parsed verifier key: the (name, key id) pair signature lines are matched on."""

    name: str
    key_id: bytes
    public: Ed25519PublicKey


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte C2SP signed-note key id of an Ed25519 key."""
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_key).digest()[:4]


def generate_log_key(name: str) -> tuple[str, str]:
    """A new Ed25519 log key as (signer key string, verifier key string)."""
    _check_name(name)
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes_raw()
    kid = key_id(name, public).hex()
    signer = f"PRIVATE+KEY+{name}+{kid}+{_b64(_ED25519 + seed)}"
    verifier = f"{name}+{kid}+{_b64(_ED25519 + public)}"
    return signer, verifier


def verifier_of(signer: str) -> str:
    """The verifier key string matching a signer key string."""
    name, _, private = _parse_signer(signer)
    public = private.public_key().public_bytes_raw()
    return f"{name}+{key_id(name, public).hex()}+{_b64(_ED25519 + public)}"


def sign_note(text: str, signer: str) -> str:
    """A C2SP signed note: `text` (LF-ended, no blank last line), a blank line, one signature."""
    if not text.endswith("\n") or text.endswith("\n\n") or _CONTROL.search(text):
        raise CheckpointError("note text must end in one newline and hold no control characters")
    name, kid, private = _parse_signer(signer)
    signature = private.sign(text.encode("utf-8"))
    return f"{text}\n{_SIG_PREFIX}{name} {_b64(kid + signature)}\n"


def sign_checkpoint(checkpoint: Checkpoint, signer: str) -> str:
    return sign_note(checkpoint.body(), signer)


def open_note(note: str, verifier: str) -> str:
    """The text of a signed note, once a signature by `verifier` checks out.

    Signatures by other keys are ignored (cosigners, rotated keys); a signature that names our
    key but does not verify refuses the whole note, as C2SP signed-note recommends.
    """
    key = parse_verifier_key(verifier)
    if len(note) > _MAX_NOTE_CHARS:
        raise CheckpointError(f"signed note is longer than {_MAX_NOTE_CHARS} characters")
    if _CONTROL.search(note):
        raise CheckpointError("signed note holds control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise CheckpointError("signed note has no blank line before its signature lines")
    text, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise CheckpointError(f"signed note has more than {_MAX_SIGNATURES} signatures")
    verified = False
    for number, line in enumerate(lines, start=1):
        name, kid, signature = _parse_signature_line(number, line)
        if name != key.name or kid != key.key_id:
            continue
        try:
            key.public.verify(signature, text.encode("utf-8"))
        except InvalidSignature:
            raise CheckpointError(
                f"signature line {number}: signature by {name} does not match the note"
            ) from None
        verified = True
    if not verified:
        raise CheckpointError(f"signed note carries no signature by key {key.name}")
    return text


def parse_and_verify(note: str, verifier: str, *, origin: str | None = None) -> Checkpoint:
    """The checkpoint in a signed note, verified against `verifier` (and `origin` if given)."""
    checkpoint = parse_body(open_note(note, verifier))
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint


def parse_body(text: str) -> Checkpoint:
    """A checkpoint from note text. Only call on text `open_note` has verified."""
    lines = text[:-1].split("\n") if text.endswith("\n") else []
    if len(lines) < 3 or not all(lines):
        raise CheckpointError("checkpoint needs origin, size and root lines, none empty")
    origin, size, root, *extensions = lines
    if not _SIZE.fullmatch(size) or int(size) >= 1 << 64:
        raise CheckpointError(
            f"checkpoint size {size!r} must be a decimal below 2**64 without leading zeros"
        )
    return Checkpoint(origin, int(size), _unb64(root, "checkpoint root"), tuple(extensions))


def _parse_signature_line(number: int, line: str) -> tuple[str, bytes, bytes]:
    if not line.startswith(_SIG_PREFIX):
        raise CheckpointError(f"signature line {number} does not start with an em dash and space")
    name, space, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    if not space or not name or "+" in name or any(c.isspace() for c in name):
        raise CheckpointError(f"signature line {number}: malformed key name")
    raw = _unb64(encoded, f"signature line {number}")
    if len(raw) < 5:
        raise CheckpointError(f"signature line {number}: signature too short")
    return name, raw[:4], raw[4:]


def parse_verifier_key(verifier: str) -> VerifierKey:
    """Parse and check a verifier key string (its key id must match its name and key)."""
    parts = verifier.split("+", 2)  # base64 may hold "+"; names and ids cannot
    if len(parts) != 3:
        raise CheckpointError("verifier key must look like <name>+<key id hex>+<base64 key>")
    name, kid_hex, encoded = parts
    _check_name(name)
    raw = _unb64(encoded, "verifier key")
    if len(raw) != 33 or raw[:1] != _ED25519:
        raise CheckpointError(f"verifier key {name}: not an Ed25519 key (type 0x01, 32 bytes)")
    if kid_hex.lower() != key_id(name, raw[1:]).hex():
        raise CheckpointError(f"verifier key {name}: key id {kid_hex} does not match the key")
    return VerifierKey(name, bytes.fromhex(kid_hex), Ed25519PublicKey.from_public_bytes(raw[1:]))


@functools.lru_cache(maxsize=4)  # one key per log; parsing it costs more than signing
def _parse_signer(signer: str) -> tuple[str, bytes, Ed25519PrivateKey]:
    parts = signer.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise CheckpointError("signer key must look like PRIVATE+KEY+<name>+<id>+<base64 seed>")
    name, kid_hex, encoded = parts[2:]
    _check_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise CheckpointError(f"signer key {name}: key is not valid base64") from None
    if len(raw) != 33 or raw[:1] != _ED25519:
        raise CheckpointError(f"signer key {name}: not an Ed25519 key (type 0x01, 32 bytes)")
    private = Ed25519PrivateKey.from_private_bytes(raw[1:])
    kid = key_id(name, private.public_key().public_bytes_raw())
    if kid_hex.lower() != kid.hex():
        raise CheckpointError(f"signer key {name}: key id {kid_hex} does not match the key")
    return name, kid, private


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
        raise CheckpointError(f"key name {name!r} must be non-empty, without spaces or '+'")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str, what: str) -> bytes:
    """Strict standard base64: only the canonical encoding of some bytes is accepted."""
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise CheckpointError(f"{what}: not valid base64") from None
    if _b64(raw) != text:
        raise CheckpointError(f"{what}: not canonical base64")
    return raw

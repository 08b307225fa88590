"""The layout of an encrypted file (docs/encryption.md). Pure: bytes in, bytes out.

    header  = stable || key_part
    stable  = MAGIC (8) || version (1) || segment_size (4, big-endian) || nonce_prefix (7)
    key_part= len(kek_id) (1) || kek_id (UTF-8) || wrap_nonce (12) || wrapped_key (48)
    body    = segment_0 || segment_1 || ... || segment_n   (each: ciphertext || 16-byte tag)

Segment i holds `segment_size` bytes of plaintext (the last one fewer, possibly none) and is
sealed with the data key, the nonce `nonce_prefix || i (4, big-endian) || last (1)` and the
stable header as associated data. So a segment cannot move (its number is in its nonce), the
file cannot be cut at a segment boundary (only the real last segment carries last = 1), a
segment from another file does not open (other key, prefix and header), and a changed header
opens nothing. The wrapped key is sealed with the KEK under `stable || kek_id`, so `rekey`
rewrites only `key_part` and never touches a segment.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"CUSTOSE\x00"
VERSION = 1
STABLE_SIZE = len(MAGIC) + 1 + 4 + 7
PREFIX_SIZE = 7
TAG_SIZE = 16
KEY_SIZE = 32
WRAP_NONCE_SIZE = 12
WRAPPED_SIZE = KEY_SIZE + TAG_SIZE
DEFAULT_SEGMENT = 1024 * 1024
MAX_SEGMENT = 64 * 1024 * 1024
MAX_KEK_ID = 64


class FormatError(ValueError):
    """The bytes are not a well-formed Custos encrypted file (the message says where)."""


@dataclass(frozen=True)
class Header:
    segment_size: int
    nonce_prefix: bytes
    kek_id: str
    wrap_nonce: bytes
    wrapped_key: bytes

    @property
    def stable(self) -> bytes:
        """The part every segment is bound to (unchanged by rekey)."""
        return MAGIC + struct.pack(">BI", VERSION, self.segment_size) + self.nonce_prefix

    @property
    def key_aad(self) -> bytes:
        """What the wrapped data key is bound to: the stable part and the KEK's id."""
        return self.stable + self.kek_id.encode()

    def encode(self) -> bytes:
        kek = self.kek_id.encode()
        return self.stable + bytes([len(kek)]) + kek + self.wrap_nonce + self.wrapped_key

    @property
    def size(self) -> int:
        return STABLE_SIZE + 1 + len(self.kek_id.encode()) + WRAP_NONCE_SIZE + WRAPPED_SIZE


def check_kek_id(kek_id: str) -> str:
    raw = kek_id.encode()
    if not 1 <= len(raw) <= MAX_KEK_ID or not kek_id.isprintable():
        raise FormatError(f"KEK id {kek_id!r}: 1 to {MAX_KEK_ID} printable characters")
    return kek_id


def parse_header(head: bytes) -> Header:
    """The header at the start of `head` (which holds at least the header's bytes)."""
    if len(head) < STABLE_SIZE + 1 or not head.startswith(MAGIC):
        raise FormatError("not a Custos encrypted file (no CUSTOSE magic)")
    version, segment_size = struct.unpack_from(">BI", head, len(MAGIC))
    if version != VERSION:
        raise FormatError(f"format version {version} (this Custos reads version {VERSION})")
    if not 1 <= segment_size <= MAX_SEGMENT:
        raise FormatError(f"segment size {segment_size} out of range")
    prefix = head[STABLE_SIZE - PREFIX_SIZE : STABLE_SIZE]
    length = head[STABLE_SIZE]
    start = STABLE_SIZE + 1
    end = start + length + WRAP_NONCE_SIZE + WRAPPED_SIZE
    if length == 0 or len(head) < end:
        raise FormatError("header cut short")
    try:
        kek_id = head[start : start + length].decode()
    except UnicodeDecodeError:
        raise FormatError("KEK id is not UTF-8") from None
    nonce_at = start + length
    return Header(
        segment_size, prefix, kek_id,
        head[nonce_at : nonce_at + WRAP_NONCE_SIZE], head[nonce_at + WRAP_NONCE_SIZE : end],
    )  # fmt: skip


def segment_nonce(prefix: bytes, index: int, last: bool) -> bytes:
    """The 12-byte nonce of segment `index`."""
    if not 0 <= index < 2**32:
        raise FormatError("too many segments for one file")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


HEADER_MAX = STABLE_SIZE + 1 + MAX_KEK_ID + WRAP_NONCE_SIZE + WRAPPED_SIZE

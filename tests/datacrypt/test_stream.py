"""The encrypted-file format under attack: every change to a header byte, a flipped bit in any
segment, truncation at every segment boundary and inside segments, swapped or spliced
segments, appended bytes and the wrong KEK are all refused, and a refused decryption leaves no
output behind. Rekeying rewraps the data key and leaves every segment's bytes as they were."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from custos.datacrypt.format import TAG_SIZE, FormatError, parse_header
from custos.datacrypt.stream import (
    AuthenticationError,
    decrypt_file,
    encrypt_file,
    rekey_file,
)

SEGMENT = 64
KEK = bytes(range(32))
OTHER = bytes(range(1, 33))
KEYS = {"kek-1": KEK, "kek-2": OTHER}


def lookup(kek_id: str) -> bytes:
    return KEYS[kek_id]


def _encrypted(tmp_path: Path, size: int, name: str = "data") -> tuple[bytes, Path]:
    plain = os.urandom(size)
    source = tmp_path / f"{name}.bin"
    source.write_bytes(plain)
    target = tmp_path / f"{name}.cenc"
    encrypt_file(source, target, "kek-1", KEK, segment_size=SEGMENT)
    return plain, target


def _refused(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    with pytest.raises((AuthenticationError, FormatError)):
        decrypt_file(path, out, lookup)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.bin.")]  # no temp left


def _segments(path: Path) -> tuple[bytes, list[bytes]]:
    raw = path.read_bytes()
    size = parse_header(raw).size
    body = raw[size:]
    step = SEGMENT + TAG_SIZE
    return raw[:size], [body[i : i + step] for i in range(0, len(body), step)]


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 1000])
def test_round_trip(tmp_path: Path, size: int) -> None:
    plain, sealed = _encrypted(tmp_path, size)
    out = tmp_path / "plain.out"
    header = decrypt_file(sealed, out, lookup)
    assert out.read_bytes() == plain
    assert header.kek_id == "kek-1"
    _head, segments = _segments(sealed)
    assert len(segments) == max(1, -(-size // SEGMENT))  # no empty trailing segment
    assert plain[:16] not in sealed.read_bytes() or size < 16


def test_every_header_byte_is_bound(tmp_path: Path) -> None:
    _plain, sealed = _encrypted(tmp_path, 3 * SEGMENT + 5)
    raw = sealed.read_bytes()
    size = parse_header(raw).size
    for position in range(size):
        changed = bytearray(raw)
        changed[position] ^= 0x01
        sealed.write_bytes(bytes(changed))
        with pytest.raises((AuthenticationError, FormatError, KeyError)):
            decrypt_file(sealed, None, lookup)


def test_a_flipped_bit_in_any_segment_is_refused(tmp_path: Path) -> None:
    _plain, sealed = _encrypted(tmp_path, 4 * SEGMENT + 7)
    head, segments = _segments(sealed)
    for index, segment in enumerate(segments):
        for position in (0, len(segment) // 2, len(segment) - 1):  # start, middle, tag
            changed = [bytearray(s) for s in segments]
            changed[index][position] ^= 0x80
            sealed.write_bytes(head + b"".join(changed))
            _refused(sealed, tmp_path)


def test_truncation_at_every_boundary_and_inside_segments(tmp_path: Path) -> None:
    _plain, sealed = _encrypted(tmp_path, 4 * SEGMENT + 7)
    head, segments = _segments(sealed)
    for keep in range(len(segments)):  # cut after `keep` whole segments
        sealed.write_bytes(head + b"".join(segments[:keep]))
        _refused(sealed, tmp_path)
    for cut in (1, TAG_SIZE - 1, TAG_SIZE + 3):
        sealed.write_bytes(head + b"".join(segments)[:-cut])
        _refused(sealed, tmp_path)
    sealed.write_bytes(head[:-3])
    _refused(sealed, tmp_path)


def test_swapped_spliced_and_appended_segments(tmp_path: Path) -> None:
    _plain, sealed = _encrypted(tmp_path, 4 * SEGMENT)
    head, segments = _segments(sealed)
    swapped = [segments[1], segments[0], *segments[2:]]
    sealed.write_bytes(head + b"".join(swapped))
    _refused(sealed, tmp_path)
    _other_plain, other = _encrypted(tmp_path, 4 * SEGMENT, "other")  # same KEK, other file
    _other_head, foreign = _segments(other)
    sealed.write_bytes(head + b"".join([segments[0], foreign[1], *segments[2:]]))
    _refused(sealed, tmp_path)
    sealed.write_bytes(head + b"".join(segments) + segments[-1])  # the last one twice
    _refused(sealed, tmp_path)


def test_the_wrong_kek_is_refused(tmp_path: Path) -> None:
    _plain, sealed = _encrypted(tmp_path, 100)
    with pytest.raises(AuthenticationError, match="kek-1"):
        decrypt_file(sealed, tmp_path / "out", lambda _id: OTHER)
    assert not (tmp_path / "out").exists()


def test_rekey_rewraps_without_touching_segments(tmp_path: Path) -> None:
    plain, sealed = _encrypted(tmp_path, 5 * SEGMENT + 3)
    _head, before = _segments(sealed)
    header = rekey_file(sealed, lookup, "kek-2", OTHER)
    assert header.kek_id == "kek-2"
    _head, after = _segments(sealed)
    assert after == before  # the same ciphertext, byte for byte
    out = tmp_path / "again.bin"
    decrypt_file(sealed, out, lookup)
    assert out.read_bytes() == plain
    with pytest.raises(AuthenticationError):
        decrypt_file(sealed, None, lambda _id: KEK)  # the old KEK no longer opens it

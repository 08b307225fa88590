"""The overlapped atomic writer (custos._files.write_atomic_overlapped): the bytes arrive in
order even though the producer reuses its buffers, the early flushes happen, and a failure on
either side (the producer raising, the disk refusing a write) leaves nothing under the name and
no temporary file behind."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from custos import _files

DEPTH = 3
CHUNK = 256 * 1024


def _ring_producer(count: int, fail_at: int | None = None) -> Iterator[memoryview]:
    """Chunks with distinct contents, written into depth + 2 reused buffers, as the
    encryption stream does: reusing a buffer too early would show in the output."""
    ring = [bytearray(CHUNK) for _ in range(DEPTH + 2)]
    for index in range(count):
        if index == fail_at:
            raise ValueError("segment fails authentication")
        buf = ring[index % len(ring)]
        buf[:] = hashlib.sha256(index.to_bytes(4, "big")).digest() * (CHUNK // 32)
        yield memoryview(buf)


def _expected(count: int) -> bytes:
    return b"".join(
        hashlib.sha256(i.to_bytes(4, "big")).digest() * (CHUNK // 32) for i in range(count)
    )


def test_order_and_content_survive_buffer_reuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushes: list[int] = []
    real = os.fdatasync
    monkeypatch.setattr(_files, "FLUSH_EVERY", 4 * CHUNK)
    monkeypatch.setattr(os, "fdatasync", lambda fd: (flushes.append(fd), real(fd)))
    target = tmp_path / "out.bin"
    _files.write_atomic_overlapped(target, _ring_producer(200), DEPTH)
    assert target.read_bytes() == _expected(200)
    assert flushes  # write-back started before the end
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_a_producer_error_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "plain.csv"
    with pytest.raises(ValueError, match="authentication"):
        _files.write_atomic_overlapped(target, _ring_producer(100, fail_at=57), DEPTH)
    assert list(tmp_path.iterdir()) == []


def test_a_write_error_stops_the_producer_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk cannot be had on demand here, so os.write is made to refuse (ENOSPC)."""
    calls = {"n": 0}
    real = os.write

    def refusing(fd: int, data: bytes | memoryview) -> int:
        calls["n"] += 1
        if calls["n"] == 10:
            raise OSError(28, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", refusing)
    produced = {"n": 0}

    def counted() -> Iterator[memoryview]:
        for chunk in _ring_producer(10_000):
            produced["n"] += 1
            yield chunk

    target = tmp_path / "out.bin"
    with pytest.raises(OSError, match="No space left"):
        _files.write_atomic_overlapped(target, counted(), DEPTH)
    assert list(tmp_path.iterdir()) == []
    assert produced["n"] < 100  # stopped soon after, not after all 10,000 chunks

"""Writing files so that a crash leaves the old file or the new one, never half of one.

Everything Custos writes that another run reads back (imported frameworks, baselines,
signatures, ledger trust files, audit bundles) goes through here: a truncated baseline or trust
file would look like tampering, and a truncated bundle would fail an audit for the wrong reason.
"""

from __future__ import annotations

import contextlib
import os
import queue
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path


def write_atomic(
    path: Path, data: bytes | Iterable[bytes | memoryview], *, make_parents: bool = True
) -> None:
    """Write `data` (bytes, or chunks) to a temporary file beside `path`, fsync it, then
    rename it over `path`. OSError propagates; the temporary file never stays behind. Each
    chunk is written before the next is asked for, so a producer may reuse its buffer."""
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in (data,) if isinstance(data, bytes) else data:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


FLUSH_EVERY = 64 * 1024 * 1024  # start write-back of what is written, in steps of this size


def write_atomic_overlapped(path: Path, chunks: Iterable[bytes | memoryview], depth: int) -> None:
    """`write_atomic` for large streams: a second thread writes while the producer makes the
    next chunks, and every FLUSH_EVERY bytes a third starts the write-back of what is already
    written (fdatasync), so the final fsync finds little left to flush. For the producer, the
    contract differs from `write_atomic`: a yielded buffer may be reused only `depth + 2` chunks
    later (up to `depth` wait in the queue, one is being written). If the producer raises, the
    writer stops, the temporary file is removed and nothing appears under `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    pending: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=depth)
    failed: list[BaseException] = []

    def write_all() -> None:
        written, flushed = 0, 0
        flusher: threading.Thread | None = None
        try:
            while (chunk := pending.get()) is not None:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
                written += len(chunk)
                if written - flushed >= FLUSH_EVERY and (flusher is None or not flusher.is_alive()):
                    flushed = written
                    flusher = threading.Thread(target=_datasync, args=(fd,), daemon=True)
                    flusher.start()
        except BaseException as exc:  # the producer sees it after its next chunk
            failed.append(exc)
            while pending.get() is not None:  # drain, so the producer never blocks
                pass
        finally:
            if flusher is not None:
                flusher.join()

    writer = threading.Thread(target=write_all, name="custos-writer", daemon=True)
    writer.start()
    try:
        try:
            for chunk in chunks:
                if failed:
                    break
                pending.put(chunk)
        finally:
            pending.put(None)
            writer.join()
        if failed:
            raise failed[0]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise


def _datasync(fd: int) -> None:
    with contextlib.suppress(OSError):  # an early flush only; the final fsync reports errors
        os.fdatasync(fd)

"""Writing files so that a crash leaves the old file or the new one, never half of one.

Everything Custos writes that another run reads back (imported frameworks, baselines,
signatures, ledger trust files, audit bundles) goes through here: a truncated baseline or trust
file would look like tampering, and a truncated bundle would fail an audit for the wrong reason.
"""

from __future__ import annotations

import os
import tempfile
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

"""The audit log: one JSON line per request, in the field names `custos monitor` reads by
default (ts, api_key, client_ip, endpoint, method, status, latency_ms, input, output,
user_agent); `api_key` is the key's id, never the key. Every `batch_lines` lines or
`batch_seconds` seconds the lines written since the last batch are closed as a `Batch`: the
file, its first and last line numbers (from 1, as an editor counts) and the SHA-256 of exactly
those lines' bytes, which the app appends to the project's ledger as a `guard-audit-batch`
event. An auditor re-reads the lines, hashes them and compares (`verify_batch`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

EVENT = "guard-audit-batch"


@dataclass(frozen=True, slots=True)
class Batch:
    file: str
    first_line: int
    last_line: int
    sha256: str

    def payload(self) -> dict[str, Any]:
        return {"event": EVENT, "file": self.file, "first_line": self.first_line,
                "last_line": self.last_line, "sha256": self.sha256}  # fmt: skip


def line(ts: float, api_key: str | None, client_ip: str | None, endpoint: str, method: str,
         status: int, latency_ms: float, input_: Any, output: Any,
         user_agent: str | None) -> bytes:  # fmt: skip
    """One audit line, newline-terminated."""
    when = dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")
    record = {"ts": when.replace("+00:00", "Z"), "api_key": api_key, "client_ip": client_ip,
              "endpoint": endpoint, "method": method, "status": status,
              "latency_ms": round(latency_ms, 3), "input": input_, "output": output,
              "user_agent": user_agent}  # fmt: skip
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    n = 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n


class AuditLog:
    """Appends lines and closes batches; not thread-safe (one event loop writes)."""

    def __init__(self, path: Path, name: str, batch_lines: int = 1000,
                 batch_seconds: float = 10.0) -> None:  # fmt: skip
        self.path = path
        self.name = name  # the file as the ledger names it
        self.batch_lines = batch_lines
        self.batch_seconds = batch_seconds
        self._written = count_lines(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = path.open("ab")
        self._first = self._written + 1
        self._hash = hashlib.sha256()
        self._opened = time.monotonic()

    def write(self, data: bytes) -> Batch | None:
        """Append one line; the batch it closes, if it does."""
        self._file.write(data)
        self._hash.update(data)
        self._written += 1
        if self._written - self._first + 1 >= self.batch_lines:
            return self.close_batch()
        return None

    def due(self, now: float | None = None) -> Batch | None:
        """The open batch, closed when it is older than batch_seconds and not empty."""
        now = time.monotonic() if now is None else now
        if self._written >= self._first and now - self._opened >= self.batch_seconds:
            return self.close_batch()
        return None

    def close_batch(self) -> Batch | None:
        """Close the open batch (None when empty); its lines are flushed to the file."""
        self._file.flush()
        if self._written < self._first:
            return None
        batch = Batch(self.name, self._first, self._written, self._hash.hexdigest())
        self._first = self._written + 1
        self._hash = hashlib.sha256()
        self._opened = time.monotonic()
        return batch

    def close(self) -> Batch | None:
        batch = self.close_batch()
        self._file.close()
        return batch


def verify_batch(path: Path, first_line: int, last_line: int, sha256: str) -> bool:
    """Whether lines first..last of the file hash to `sha256`."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for number, data in enumerate(f, start=1):
            if number > last_line:
                break
            if number >= first_line:
                h.update(data)
    return h.hexdigest() == sha256

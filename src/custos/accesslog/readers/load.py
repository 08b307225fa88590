"""Files (or stdin) into one DuckDB table of requests, `rows`, with the canonical columns below.
Each format's reader gives a SELECT over its file; broken lines are counted, the first ones
numbered (the line in the file, from 1), and removed; the rest is analysed. DuckDB works
within `memory_limit` and spills to a temporary folder beyond it, so a log larger than memory
is aggregated out of core.

The table does not keep the file order: keeping it costs a sixth of the parsing time (DuckDB
must order what its threads read). Nothing needs it: a request's place in time is `t`, `rh`
(a digest of the row's time, key, input, status and latency; text fields would double its
cost) is the deterministic sampling and tie-breaking key, and the
line numbers of broken lines are found by reading the few files that have them again, in
order."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from custos.accesslog.readers import alb, jsonl, nginx, otel
from custos.accesslog.readers.sniff import GZIP_MAGIC, Shape, detect, is_gzip, open_binary
from custos.accesslog.report import Broken
from custos.accesslog.settings import Settings
from custos.errors import UserError

COLUMNS = (
    "t DOUBLE, b BIGINT, api_key VARCHAR, kh UBIGINT, client_ip VARCHAR, endpoint VARCHAR, "
    "method VARCHAR, status INTEGER, latency_ms DOUBLE, user_agent VARCHAR, input FLOAT[], "
    "ih UBIGINT, output FLOAT[], file INTEGER, flaw UTINYINT, rh UBIGINT"
)
# 0 a request, 1 not a request of this format, 2 no readable timestamp, 3 a blank line
FLAW = """CASE WHEN blank THEN 3 WHEN t IS NOT NULL THEN 0
       WHEN api_key IS NULL AND client_ip IS NULL AND status IS NULL AND endpoint IS NULL
       THEN 1 ELSE 2 END"""
REASONS = {1: "not a request of this format", 2: "no readable timestamp"}
STDIN = "-"


@dataclass
class Log:
    """The loaded requests: the DuckDB connection holding `rows`, and what reading found."""

    con: Any  # duckdb.DuckDBPyConnection
    source: str
    files: list[str]
    formats: list[str]
    rows: int
    broken_count: int
    broken: list[Broken]
    inputs: Shape
    outputs: Shape
    workdir: Path
    selects: list[str] = field(default_factory=list)  # each file's SELECT, to read it again

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.con.execute(sql, params or []).fetchall()
        return rows

    def arrays(self, sql: str, params: Sequence[Any] | None = None) -> dict[str, Any]:
        """Columns as NumPy arrays."""
        result: dict[str, Any] = self.con.execute(sql, params or []).fetchnumpy()
        return result

    def table(self, name: str, **columns: Any) -> None:
        """A temporary table of NumPy columns (scanned in place: no Python objects per value)."""
        assert name.isidentifier()  # our own table names, never user input
        self.con.register("_columns", columns)
        try:
            self.query(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _columns")  # noqa: S608
        finally:
            self.con.unregister("_columns")

    def cursor(self) -> Log:
        """The same tables on a second connection (for a query on another thread); closing
        it closes only that connection."""
        return dataclasses.replace(self, con=self.con.cursor())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def files_of(paths: Sequence[Path]) -> list[Path]:
    """The log files a list of paths names: files as given, directories' regular files
    (recursively, hidden ones skipped) in name order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        elif p.is_file():
            out.append(p)
        else:
            raise UserError(f"{p}: no such file or directory")
    return out


def _spool(stream: IO[bytes], into: Path) -> Path:
    target = into / "stdin"
    with target.open("wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    return target


def load(
    paths: Sequence[Path] | str,
    settings: Settings,
    log_format: str = "auto",
    mapping: Mapping[str, str] | None = None,
    stdin: IO[bytes] | None = None,
) -> Log:
    """Read every file (or stdin, `"-"`) into a fresh in-memory DuckDB."""
    import duckdb

    fields = dict(mapping or {})
    workdir = Path(tempfile.mkdtemp(prefix="custos-monitor-"))
    try:
        if paths == STDIN:
            stream = stdin if stdin is not None else sys.stdin.buffer
            named = [(_spool(stream, workdir), "<stdin>")]
            source = "<stdin>"
        else:
            assert not isinstance(paths, str)
            found = files_of(paths)
            if not found:
                raise UserError(f"{', '.join(map(str, paths))}: no log file to read")
            named = [(p, str(p)) for p in found]
            source = ", ".join(str(p) for p in paths)
        con = duckdb.connect(":memory:", config={
            "memory_limit": settings.memory_limit, "temp_directory": str(workdir / "spill"),
            "threads": settings.threads or max(1, os.cpu_count() or 1),
            "preserve_insertion_order": False,
        })  # fmt: skip
        log = Log(con, source, [], [], 0, 0, [], Shape("none"), Shape("none"), workdir)
        log.query(f"CREATE TABLE rows ({COLUMNS})")
        for index, (path, shown) in enumerate(named):
            _load_file(log, index, path, shown, log_format, fields, settings)
        _broken(log, named, settings)
        log.rows = int(log.query("SELECT count(*) FROM rows")[0][0])
        return log
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _load_file(log: Log, index: int, path: Path, shown: str, log_format: str,
               fields: dict[str, str], settings: Settings) -> None:  # fmt: skip
    import duckdb

    fmt = detect(path, shown) if log_format == "auto" else log_format
    compression = "gzip" if is_gzip(path) else "none"
    if fmt == "otel":
        converted = log.workdir / f"otel-{index}.jsonl"
        with converted.open("w", encoding="utf-8") as out:
            _, count, first = otel.convert(path, shown, out, fields, settings.broken_shown)
        log.broken_count += count
        log.broken += first[: max(0, settings.broken_shown - len(log.broken))]
        shapes = (Shape("record", ("input_tokens",)), Shape("record", ("output_tokens",)))
        select = jsonl.select(converted, {}, shapes, "none", digest=True)
    elif fmt == "jsonl":
        shapes = jsonl.sniff(path, fields)
        select = jsonl.select(path, fields, shapes, compression)
    elif fmt == "nginx":
        shapes = (Shape("none"), Shape("none"))
        select = nginx.select(path, fields, compression)
    elif fmt == "alb":
        shapes = (Shape("none"), Shape("none"))
        select = alb.select(path, fields, compression)
    else:
        raise UserError(f"unknown log format {fmt!r}")
    if log.inputs.kind == "none" and shapes[0].kind != "none":
        log.inputs = shapes[0]
    if log.outputs.kind == "none" and shapes[1].kind != "none":
        log.outputs = shapes[1]
    window = float(settings.window_seconds)
    try:
        log.query(f"""
INSERT INTO rows SELECT t, CAST(floor(t / {window}) AS BIGINT), api_key,
  CASE WHEN api_key IS NULL THEN NULL ELSE hash(api_key) END, client_ip, endpoint, method,
  status, latency_ms, user_agent, input, ih, output, {index}, {FLAW},
  hash(t, hash(api_key), ih, status, latency_ms)
FROM ({select})""")  # noqa: S608
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{shown}: cannot be read as {fmt}: {message}") from None
    log.files.append(shown)
    log.formats.append(fmt)
    log.selects.append(select)


def _broken(log: Log, named: Sequence[tuple[Path, str]], settings: Settings) -> None:
    """Count the broken rows, number the first ones by their line, and drop every row that
    is not a request (broken or blank)."""
    found = log.query("SELECT count(*) FROM rows WHERE flaw IN (1, 2)")[0][0]
    if found:
        log.broken_count += int(found)
        files = log.query("SELECT DISTINCT file FROM rows WHERE flaw IN (1, 2) ORDER BY file")
        for (file,) in files:
            room = max(0, settings.broken_shown - len(log.broken))
            if room == 0:
                break
            wanted = _flawed(log, int(file), room)
            blank_rows = log.formats[file] in ("nginx", "alb")
            lines = _line_numbers(named[file][0], [p for p, _ in wanted], blank_rows)
            log.broken += [Broken(log.files[file], lines.get(p, p + 1), REASONS[flaw])
                           for p, flaw in wanted]  # fmt: skip
        log.broken.sort(key=lambda b: (log.files.index(b.file), b.line))
    log.query("DELETE FROM rows WHERE flaw <> 0")


def _flawed(log: Log, file: int, limit: int) -> list[tuple[int, int]]:
    """(row position in the file from 0, flaw) of its first broken rows: the file read again
    with DuckDB keeping the order (only files with broken lines pay for it)."""
    log.query("SET preserve_insertion_order = true")
    try:
        found = log.query(f"""
SELECT position, flaw FROM (
  SELECT row_number() OVER () - 1 AS position, {FLAW} AS flaw FROM ({log.selects[file]}))
WHERE flaw IN (1, 2) ORDER BY position LIMIT {int(limit)}""")  # noqa: S608
    finally:
        log.query("SET preserve_insertion_order = false")
    return [(int(p), int(f)) for p, f in found]


def _line_numbers(path: Path, positions: list[int], blank_rows: bool) -> dict[int, int]:
    """Row position (from 0) -> line number (from 1). DuckDB's JSON reader skips blank lines;
    the line reader of the text formats keeps them."""
    out: dict[int, int] = {}
    wanted = iter(sorted(positions))
    target = next(wanted, None)
    position = -1
    with open_binary(path) as f:
        for number, raw in enumerate(f, 1):
            if target is None:
                break
            if not blank_rows and not raw.strip():
                continue
            position += 1
            if position == target:
                out[position] = number
                target = next(wanted, None)
    return out


__all__ = ["GZIP_MAGIC", "Log", "files_of", "load"]

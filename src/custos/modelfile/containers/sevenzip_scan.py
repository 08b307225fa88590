"""7z archives, opened with `py7zr` (an optional dependency, imported only when a 7z file is met).

Members are judged as zip and tar members are: names that escape the extraction directory,
links, duplicates and the member limit are reported, and every regular member is decompressed
within the limits (`Limits.max_member_bytes` per member, `Limits.max_ratio` for the archive's
output over its size) into a spool and dispatched by content. Nothing is written to disk but
the spool. An archive Custos cannot open (py7zr missing, encrypted, an unsupported filter)
is a medium "not analysed" finding, never a pass.
"""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from custos.findings import Severity
from custos.modelfile.containers.zip_member import bad_path
from custos.modelfile.context import ScanContext
from custos.modelfile.readers.inflate import RATIO_FLOOR
from custos.modelfile.readers.streamview import new_spool, stream_size
from custos.modelfile.rules import rule

MALFORMED = rule(
    "7z/malformed", Severity.high, "A 7z archive is malformed, cut short or fails its CRC."
)
ENCRYPTED = rule(
    "7z/encrypted",
    Severity.medium,
    "A password-protected 7z archive: its content could not be analysed.",
)
UNSUPPORTED = rule(
    "7z/not-analysed",
    Severity.medium,
    "A 7z archive Custos cannot decode (py7zr not installed, or a filter it does not support); "
    "its content was not analysed.",
)
BOMB = rule(
    "7z/bomb",
    Severity.high,
    "A 7z member expands beyond the size or ratio limit; decompression was stopped there.",
)
PATH = rule(
    "7z/path-traversal",
    Severity.medium,
    "A member name is absolute or climbs out of the extraction directory with '..'.",
)
LINK = rule(
    "7z/link-member",
    Severity.medium,
    "A symbolic link member: extraction can make it point anywhere.",
)
DUPLICATE = rule(
    "7z/duplicate-name",
    Severity.high,
    "Two members share a name; extraction keeps one, a scanner may read the other.",
)
TOO_MANY = rule(
    "7z/too-many-members", Severity.high, "More members than the limit; the rest not inspected."
)
INSTALL_HINT = "pip install 'custos[archives]'"


class _Cut(Exception):
    """Raised inside py7zr's write to stop decompression at a limit."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass
class _Budget:
    member_limit: int
    total_limit: int
    total: int = 0


@dataclass
class _Member:
    """One member's output, spooled; dispatched when py7zr closes it (or after a stop)."""

    where: str
    budget: _Budget
    ctx: ScanContext
    out: BinaryIO = field(default_factory=new_spool)
    size: int = 0
    done: bool = False

    def write(self, data: bytes | bytearray) -> int:
        """Spool `data`; past a limit, keep what fits (it is still scanned) and stop."""
        member_room = self.budget.member_limit - self.size
        total_room = self.budget.total_limit - self.budget.total
        room = max(0, min(member_room, total_room))
        kept = data[:room]
        self.out.write(kept)
        self.size += len(kept)
        self.budget.total += len(kept)
        if len(kept) < len(data):
            raise _Cut("size" if member_room <= total_room else "ratio")
        return len(data)

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            if self.out.tell():
                self.out.seek(0)
                self.ctx.dispatch(self.out, self.where)
        finally:
            self.out.close()


def _factory(py7zr_io: Any, members: dict[str, _Member], make: Any) -> Any:
    """A py7zr WriterFactory whose writers spool into `_Member`s (classes built on first use:
    py7zr is imported only here)."""

    class Writer(py7zr_io.Py7zIO):  # type: ignore[misc]
        def __init__(self, member: _Member) -> None:
            self.member = member

        def write(self, s: bytes | bytearray) -> int:
            return self.member.write(s)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def flush(self) -> None:
            return None

        def size(self) -> int:
            return self.member.size

        def close(self) -> None:
            self.member.finish()

    class Factory(py7zr_io.WriterFactory):  # type: ignore[misc]
        def create(self, filename: str) -> Any:
            member = make(filename)
            members[filename] = member
            return Writer(member)

    return Factory()


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> str:
    try:
        py7zr = importlib.import_module("py7zr")
        py7zr_io = importlib.import_module("py7zr.io")
    except ImportError:
        message = f"7z archive not analysed: py7zr is not installed ({INSTALL_HINT})"
        ctx.emit(UNSUPPORTED.id, UNSUPPORTED.severity, message, location)
        return "7z"
    errors = importlib.import_module("py7zr.exceptions")
    stream.seek(0)
    try:
        with py7zr.SevenZipFile(stream, mode="r") as archive:
            _scan_archive(archive, py7zr_io, stream, location, ctx)
    except errors.PasswordRequired:
        ctx.emit(ENCRYPTED.id, ENCRYPTED.severity, "encrypted archive; not analysed", location)
    except errors.UnsupportedCompressionMethodError as err:
        message = f"compression or filter py7zr cannot decode ({err}); not analysed"
        ctx.emit(UNSUPPORTED.id, UNSUPPORTED.severity, message, location)
    except (errors.ArchiveError, EOFError, OSError, ValueError, KeyError, IndexError) as err:
        message = f"not a readable 7z archive: {type(err).__name__}: {err}"
        ctx.emit(MALFORMED.id, MALFORMED.severity, message, location)
    return "7z"


def _scan_archive(
    archive: Any, py7zr_io: Any, stream: BinaryIO, location: str, ctx: ScanContext
) -> None:
    entries = archive.list()
    if archive.needs_password():
        ctx.emit(ENCRYPTED.id, ENCRYPTED.severity, "encrypted members; not analysed", location)
        return
    if len(entries) > ctx.limits.max_members:
        ctx.emit(
            TOO_MANY.id,
            TOO_MANY.severity,
            f"more than {ctx.limits.max_members} members; the rest were not inspected",
            location,
        )
        entries = entries[: ctx.limits.max_members]
    names: Counter[str] = Counter()
    wanted: list[str] = []
    for entry in entries:
        name = entry.filename
        names[name] += 1
        where = f"{location}!{name}" if names[name] == 1 else f"{location}!{name}#{names[name]}"
        if names[name] == 2:
            ctx.emit(DUPLICATE.id, DUPLICATE.severity, f"{name!r} appears more than once", where)
        if bad_path(name):
            # py7zr refuses to extract such a name at all: reported, content not analysed
            message = f"member name {name!r} escapes the archive; not extracted nor analysed"
            ctx.emit(PATH.id, PATH.severity, message, where)
        elif entry.is_symlink:
            ctx.emit(LINK.id, LINK.severity, "symbolic link member", where)
        elif not entry.is_directory and name not in wanted:
            wanted.append(name)
    if not wanted:
        return
    size = stream_size(stream)
    budget = _Budget(
        ctx.limits.max_member_bytes, max(RATIO_FLOOR, ctx.limits.max_ratio * max(size, 1))
    )
    members: dict[str, _Member] = {}

    def make(filename: str) -> _Member:  # py7zr's name: duplicates get a "_N" suffix
        return _Member(f"{location}!{filename}", budget, ctx)

    try:
        archive.extract(targets=wanted, factory=_factory(py7zr_io, members, make))
    except _Cut as cut:
        ctx.emit(
            BOMB.id,
            BOMB.severity,
            f"output exceeds the {cut.why} limit after {budget.total} bytes from {size}; "
            "only that much was inspected",
            location,
        )
    finally:
        for member in members.values():
            member.finish()

"""What a data file is, by its content: compression by magic number (gzip, zstd, bzip2, xz),
then Parquet by its magic, binary content refused, JSON Lines when its lines are JSON objects,
CSV/TSV when a delimiter splits the lines consistently, plain text otherwise. The extension is
never trusted alone: a `.csv` that is a zip archive is refused, a `.txt` that is CSV is CSV."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from custos.errors import UserError

HEAD = 64 * 1024
COMPRESSION = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
}
# Binary formats a dataset path is likely to hold by mistake: named in the error.
BINARY = {
    b"PK\x03\x04": "a zip archive",
    b"\x93NUMPY": "a NumPy array",
    b"\x89HDF": "an HDF5 file",
    b"%PDF": "a PDF document",
    b"\x7fELF": "an executable",
    b"SQLite format 3": "an SQLite database",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"ARROW1": "an Arrow IPC file",
    b"Obj\x01": "an Avro file",
    b"ORC": "an ORC file",
}
DELIMITERS = ",\t;|"
# Encrypted at rest: Custos' own format (custos.datacrypt) and age. Not read, not an error.
ENCRYPTED = (b"CUSTOSE\x00", b"age-encryption.org/v1")


class Unreadable(UserError):
    """The file cannot be read as data: the message says why, in one line."""


@dataclass(frozen=True)
class Sniffed:
    format: str  # csv, tsv, jsonl, parquet, text
    compression: str | None = None
    encoding: str = "utf-8"
    delimiter: str | None = None
    header: bool = False

    @property
    def label(self) -> str:
        return f"{self.format}+{self.compression}" if self.compression else self.format


def open_binary(path: Path, compression: str | None) -> IO[bytes]:
    """The file's bytes, decompressed as they are read."""
    if compression == "gzip":
        return cast(IO[bytes], gzip.open(path, "rb"))
    if compression == "bzip2":
        return cast(IO[bytes], bz2.open(path, "rb"))
    if compression == "xz":
        return cast(IO[bytes], lzma.open(path, "rb"))
    if compression == "zstd":
        import zstandard

        raw = path.open("rb")
        return cast(IO[bytes], zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))
    return path.open("rb")


def open_text(path: Path, sniffed: Sniffed) -> IO[str]:
    return io.TextIOWrapper(
        open_binary(path, sniffed.compression), encoding=sniffed.encoding, errors="replace",
        newline="",
    )  # fmt: skip


def _magic(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(32)


def sniff(path: Path) -> Sniffed:
    """The file's format; Unreadable when it is not a data file this scanner reads."""
    first = _magic(path)
    if any(first.startswith(magic) for magic in ENCRYPTED):
        return Sniffed("encrypted")
    compression = next((name for magic, name in COMPRESSION.items() if first.startswith(magic)),
                       None)  # fmt: skip
    if compression is None and first.startswith(b"PAR1"):
        return Sniffed("parquet")
    try:
        with open_binary(path, compression) as f:
            head = f.read(HEAD)
    except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        raise Unreadable(f"{path}: damaged {compression} data ({exc})") from None
    except Exception as exc:  # zstandard's own error type, imported lazily above
        raise Unreadable(f"{path}: damaged {compression} data ({exc})") from None
    if compression and head.startswith(b"PAR1"):
        raise Unreadable(f"{path}: a compressed Parquet file; decompress it first")
    for magic, what in BINARY.items():
        if head.startswith(magic):
            raise Unreadable(f"{path}: {what}, not CSV, JSON Lines, Parquet or text")
    encoding = _encoding(path, head)
    text = head.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = [line for line in text.splitlines()[:-1] or text.splitlines() if line.strip()][:50]
    if not lines:
        return Sniffed("text", compression, encoding)
    if _json_lines(lines):
        return Sniffed("jsonl", compression, encoding)
    delimiter = _delimiter(lines)
    if delimiter is not None:
        rows = list(csv.reader(lines[:20], delimiter=delimiter))
        fmt = "tsv" if delimiter == "\t" else "csv"
        return Sniffed(fmt, compression, encoding, delimiter, _header(rows))
    return Sniffed("text", compression, encoding)


def _encoding(path: Path, head: bytes) -> str:
    if b"\x00" in head:
        raise Unreadable(f"{path}: binary content (NUL bytes), not CSV, JSON Lines or text")
    try:
        head[:-4].decode("utf-8")  # a character may be cut at the end of the head
        return "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if controls > len(head) // 100:
        raise Unreadable(f"{path}: binary content, not CSV, JSON Lines or text")
    return "cp1252"


def _json_lines(lines: list[str]) -> bool:
    checked = [line for line in lines[:10] if line.lstrip().startswith("{")]
    if len(checked) < max(1, len(lines[:10]) // 2):
        return False
    try:
        return all(isinstance(json.loads(line), dict) for line in checked)
    except RecursionError:  # a line nested too deep to read still shows JSON Lines
        return True
    except ValueError:
        return False


def _delimiter(lines: list[str]) -> str | None:
    """The delimiter that splits the lines into the same number (2 or more) of fields."""
    best: tuple[int, str] | None = None
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines[:20], delimiter=delimiter)]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        same = sum(1 for w in widths if w == widths[0])
        if same >= 0.8 * len(widths) and (best is None or widths[0] > best[0]):
            best = (widths[0], delimiter)
    return best[1] if best else None


def _numeric(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True


_NAME_LIKE = re.compile(r"[^\W\d][\w .()/#%&?+:-]{0,63}")


def _header(rows: list[list[str]]) -> bool:
    """The first row names the columns: distinct, name-like cells (a letter first, no `@`), and
    a column below holds numbers or csv.Sniffer sees a header. A headerless file's first row is
    data, and would otherwise be shown unmasked as column names."""
    if not rows:
        return False
    first = [c.strip() for c in rows[0]]
    if len(set(first)) != len(first) or not all(_NAME_LIKE.fullmatch(c) for c in first):
        return False
    if any("@" in c for c in first):
        return False
    below = [r for r in rows[1:] if len(r) == len(first)]
    if not below:
        return True
    if any(first == [c.strip() for c in r] for r in below):
        return False
    for i in range(len(first)):
        cells = [r[i].strip() for r in below if r[i].strip()]
        if cells and all(_numeric(c) for c in cells):
            return True
    sample = "\n".join(",".join(r) for r in rows)
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return False

"""Files that are not models, generated: images, documents, databases, executables and archive
types Custos does not open (just enough of each for its signature and a plausible body)."""

from __future__ import annotations

import sqlite3
import struct
import tempfile
import zlib
from pathlib import Path


def png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(b"\0" + bytes(range(width * 3)) for _ in range(height))
    header = struct.pack(">2I5B", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    app0 = b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    quant = b"\0" + bytes(range(1, 65))
    return (
        b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
        + b"\xff\xdb" + struct.pack(">H", len(quant) + 2) + quant
        + b"\xff\xd9"
    )  # fmt: skip


def gif() -> bytes:
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\0\0\0\0\1\0\1\0\0\2\2D\1\0;"
    )


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def html() -> bytes:
    return b"<!DOCTYPE html>\n<html><head><title>model card</title></head><body>hi</body></html>\n"


def xml() -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n<model name="x"><layer/></model>\n'


def sqlite() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "db.sqlite"
        with sqlite3.connect(path) as db:
            db.execute("create table runs (id integer, loss real)")
            db.execute("insert into runs values (1, 0.5)")
        connection = sqlite3.connect(path)
        connection.close()
        return path.read_bytes()


def elf() -> bytes:
    # 64-bit little-endian ELF header of an x86-64 executable, no program headers
    ident = b"\x7fELF\x02\x01\x01" + bytes(9)
    return ident + struct.pack("<2HI3QI6H", 2, 62, 1, 0x401000, 0, 0, 0, 64, 0, 0, 64, 0, 0)


def pe() -> bytes:
    dos = bytearray(b"MZ" + bytes(62))
    dos[0x3C:0x40] = struct.pack("<I", 64)
    return bytes(dos) + b"PE\0\0" + struct.pack("<2H3I2H", 0x8664, 0, 0, 0, 0, 0, 0x22)


def macho() -> bytes:
    # 64-bit little-endian Mach-O header of an arm64 executable, no load commands
    return struct.pack("<4I4I", 0xFEEDFACF, 0x0100000C, 0, 2, 0, 0, 0, 0)


def wasm() -> bytes:
    return b"\x00asm\x01\x00\x00\x00"


def rar() -> bytes:
    return b"Rar!\x1a\x07\x01\x00" + bytes(range(64))


def zstd() -> bytes:
    return b"\x28\xb5\x2f\xfd\x20\x05\x29\x00\x00hello"


DATA = {"png": png, "jpeg": jpeg, "gif": gif, "pdf": pdf, "html": html, "sqlite": sqlite}
CODE = {"elf": elf, "pe": pe, "mach-o": macho, "wasm": wasm}
ARCHIVES = {"rar": rar, "zstd": zstd}

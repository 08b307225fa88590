"""Password-protected zip members built field by field: PKWARE traditional encryption (which
zipfile reads but cannot write) and WinZip AES (method 99, extra field 0x9901)."""

from __future__ import annotations

import struct
import zlib

PASSWORD = b"infected"
Member = tuple[str, bytes, int, bytes, int, bytes]  # name, plain, method, stored, flags, extra


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = _crc_table()


def _crc_byte(crc: int, byte: int) -> int:
    return (crc >> 8) ^ TABLE[(crc ^ byte) & 0xFF]


class ZipCrypto:
    """PKWARE traditional encryption (APPNOTE 6.1)."""

    def __init__(self, password: bytes) -> None:
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password:
            self._update(byte)

    def _update(self, byte: int) -> None:
        k0, k1, k2 = self.keys
        k0 = _crc_byte(k0, byte)
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = _crc_byte(k2, k1 >> 24)
        self.keys = [k0, k1, k2]

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            temp = (self.keys[2] | 2) & 0xFFFF
            out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
            self._update(byte)
        return bytes(out)


def build_zip(members: list[Member]) -> bytes:
    out, central = bytearray(), bytearray()
    for name, plain, method, data, flags, extra in members:
        raw = name.encode()
        crc, offset = zlib.crc32(plain), len(out)
        sizes = (crc, len(data), len(plain), len(raw), len(extra))
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, 0, *sizes)
        out += raw + extra + data
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, 0, 0, *sizes, 0, 0, 0, 0, offset
        )
        central += raw + extra
    count = len(members)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    return bytes(out + central + end)


def zipcrypto_member(name: str, plain: bytes, *, deflate: bool) -> Member:
    body = plain
    if deflate:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = packer.compress(plain) + packer.flush()
    header = bytes(range(11)) + bytes([zlib.crc32(plain) >> 24])  # last byte checks the password
    return (name, plain, 8 if deflate else 0, ZipCrypto(PASSWORD).encrypt(header + body), 1, b"")


def aes_member(name: str, plain: bytes) -> Member:
    # WinZip AE-2, AES-256, real method deflate: salt, verifier, ciphertext, authentication code
    extra = struct.pack("<2HH2sBH", 0x9901, 7, 2, b"AE", 3, 8)
    data = bytes(16) + b"\x12\x34" + bytes(b ^ 0x5A for b in plain) + bytes(10)
    return (name, plain, 99, data, 1, extra)


def plain_member(name: str, plain: bytes, flags: int = 0) -> Member:
    return (name, plain, 0, plain, flags, b"")

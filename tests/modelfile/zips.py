"""Builders of zip archives (PyTorch-like and tricked) for the container tests."""

from __future__ import annotations

import io
import struct
import zipfile

EVIL = b"cos\nsystem\n(S'echo pwned'\ntR."  # protocol 0: os.system('echo pwned')
BENIGN = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01."


def make_zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buf.getvalue()


def torch_zip(pickle_bytes: bytes, extra: list[tuple[str, bytes]] | None = None) -> bytes:
    return make_zip(
        [
            ("archive/data.pkl", pickle_bytes),
            ("archive/byteorder", b"little"),
            ("archive/data/0", b"\0" * 64),
            ("archive/version", b"3\n"),
            ("archive/.data/serialization_id", b"1234567890"),
            *(extra or []),
        ]
    )


def local_offset(data: bytes, name: bytes) -> int:
    at = data.find(b"PK\x03\x04")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 26)[0]
        if data[at + 30 : at + 30 + name_len] == name:
            return at
        at = data.find(b"PK\x03\x04", at + 4)
    raise KeyError(name)


def central_offset(data: bytes, name: bytes) -> int:
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_len] == name:
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise KeyError(name)


def patch(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value) :]


def set_flags(data: bytes, name: bytes, bits: int) -> bytes:
    local, central = local_offset(data, name), central_offset(data, name)
    flags = struct.unpack_from("<H", data, local + 6)[0] | bits
    data = patch(data, local + 6, struct.pack("<H", flags))
    return patch(data, central + 8, struct.pack("<H", flags))

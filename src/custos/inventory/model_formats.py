"""Recognising model files by their bytes: magic numbers and structure, never names alone.

Every test here reads only what the caller already holds (the first few KiB of a file), except
`zip_names`, which reads a zip archive's central directory from its end, bounded to ~60 KiB.
Nothing is deserialised: pickles are judged by decoding their first opcodes with
`pickletools.genops`, which builds no objects and imports nothing, and compressed streams are
inflated by at most 512 bytes to see whether a pickle is inside.
"""

from __future__ import annotations

import bz2
import json
import lzma
import pickletools
import re
import struct
import zlib
from pathlib import Path

BINARY_HEAD = 4 * 1024
ZIP_DIRECTORY = 56 * 1024  # central-directory bytes read; with the tail, stays near 64 KiB
# Where protocol 0/1 pickles (text-like opcodes, no magic number) are worth recognising.
MODEL_SUFFIXES = frozenset(
    {".pkl", ".pickle", ".pck", ".p", ".pt", ".pth", ".bin", ".joblib", ".sav", ".model", ".ckpt"}
)


def sniff_model(head: bytes, size: int, suffix: str = "") -> tuple[str, str] | None:
    """(format, reason) when the bytes are a model file format, else None."""
    if head.startswith(b"GGUF") and len(head) >= 8 and 1 <= _u32(head, 4) <= 16:
        return "gguf", "GGUF magic number and version."
    if any(head[at : at + 8] == b"\x89HDF\r\n\x1a\n" for at in (0, 512, 1024, 2048)):
        return "hdf5", "HDF5 superblock signature (Keras .h5 and other weight stores)."
    if head.startswith(b"\x93NUMPY") and len(head) > 6 and head[6] in (1, 2, 3):
        return "numpy", "NumPy .npy magic number."
    if head[4:8] == b"TFL3":
        return "tflite", "TensorFlow Lite flatbuffer identifier TFL3."
    if _safetensors(head, size):
        return "safetensors", "safetensors layout: 8-byte header length, then a JSON header."
    protocol = pickle_protocol(head, suffix in MODEL_SUFFIXES)
    if protocol is not None:
        if suffix == ".joblib" or b"joblib.numpy_pickle" in head or b"NumpyArrayWrapper" in head:
            return "joblib", f"A joblib pickle (protocol {protocol})."
        return "pickle", f"Python pickle stream (protocol {protocol})."
    compression = _compressed_pickle(head)
    if compression is not None:
        return "joblib", f"A {compression}-compressed pickle, as joblib writes them."
    if suffix == ".onnx" and len(head) > 1 and head[0] == 0x08 and 1 <= head[1] <= 0x7F:
        return "onnx", "ONNX protobuf starting with the ir_version field."
    return None


def pickle_protocol(head: bytes, model_suffix: bool) -> int | None:
    """The protocol of a pickle stream (0 stands for 0 or 1), judged from its first opcodes.

    Protocol 2+ pickles start with PROTO. Protocol 0/1 ones have no magic, so they are only
    considered under a model file suffix, and must start with a container or GLOBAL opcode.
    `pickletools.genops` only decodes opcodes; it builds no objects and imports nothing.
    """
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return head[1] if _opcodes_parse(head, 3) else None
    if model_suffix and head[:1] in (b"(", b"}", b"]", b")", b"c") and _opcodes_parse(head, 4):
        return 0
    return None


def _opcodes_parse(data: bytes, needed: int) -> bool:
    count = 0
    try:
        for opcode, _arg, _pos in pickletools.genops(data):
            count += 1
            if opcode.name == "STOP" or count >= needed:
                return True
    except Exception:  # any failure to decode means "not a pickle"
        return False
    return False


def _compressed_pickle(head: bytes) -> str | None:
    """The compression name when `head` starts a compressed stream whose output is a pickle."""
    try:
        if len(head) > 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0:
            name, out = "zlib", zlib.decompressobj().decompress(head, 512)
        elif head.startswith(b"\x1f\x8b"):
            name, out = "gzip", zlib.decompressobj(wbits=31).decompress(head, 512)
        elif head.startswith(b"\xfd7zXZ\x00"):
            name, out = "xz", lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(head, 512)
        elif head.startswith(b"\x5d\x00\x00"):
            name, out = "lzma", lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(head, 512)
        elif head.startswith(b"BZh"):
            name, out = "bz2", bz2.BZ2Decompressor().decompress(head, 512)
        else:
            return None
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError):
        return None
    return name if pickle_protocol(out, False) is not None else None


def _safetensors(head: bytes, size: int) -> bool:
    if len(head) < 10 or head[8:9] != b"{":
        return False
    length = struct.unpack_from("<Q", head)[0]
    if not 2 <= length <= min(size - 8, 100_000_000):  # the format caps headers at 100 MB
        return False
    if length + 8 <= len(head):
        try:
            return isinstance(json.loads(head[8 : 8 + length]), dict)
        except ValueError:
            return False
    return b'"dtype"' in head or b'"__metadata__"' in head


def is_saved_model(path: Path) -> bool:
    """saved_model.pb is a SavedModel protobuf: field 1 (schema version) or 2 (meta graphs)."""
    try:
        with path.open("rb") as handle:
            first = handle.read(1)
    except OSError:
        return False
    return first in (b"\x08", b"\x12")


def zip_model(names: list[str]) -> tuple[str, str] | None:
    """(format, reason) when a zip archive's member names show a model save format."""
    if any(re.fullmatch(r"[^/]+/data\.pkl", n) for n in names):
        return "pytorch-zip", "A zip archive holding <name>/data.pkl: the PyTorch save format."
    if {"config.json", "model.weights.h5"} <= set(names):
        return "keras", "A zip archive with config.json and model.weights.h5: the Keras 3 format."
    if names and all(n.endswith(".npy") for n in names):
        return "numpy", "A NumPy .npz archive of arrays."
    return None


def zip_names(path: Path, size: int) -> list[str]:
    """Member names from a zip's central directory (as far as ZIP_DIRECTORY bytes reach)."""
    with path.open("rb") as handle:
        tail_size = min(size, BINARY_HEAD)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        end = tail.rfind(b"PK\x05\x06")
        if end < 0 or end + 22 > len(tail):
            return []
        dir_size, dir_offset = struct.unpack_from("<II", tail, end + 12)
        if 0xFFFFFFFF in (dir_size, dir_offset):  # zip64: the real values are elsewhere
            locator = end - 20
            if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
                return []
            handle.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
            record = handle.read(56)
            if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
                return []
            dir_size, dir_offset = struct.unpack_from("<QQ", record, 40)
        if dir_offset >= size:
            return []
        handle.seek(dir_offset)
        directory = handle.read(min(dir_size, ZIP_DIRECTORY))
    names: list[str] = []
    at = 0
    while directory[at : at + 4] == b"PK\x01\x02" and at + 46 <= len(directory):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", directory, at + 28)
        if at + 46 + name_len > len(directory):
            break
        names.append(directory[at + 46 : at + 46 + name_len].decode("utf-8", "replace"))
        at += 46 + name_len + extra_len + comment_len
    return names


def _u32(data: bytes, offset: int) -> int:
    value: int = struct.unpack_from("<I", data, offset)[0]
    return value

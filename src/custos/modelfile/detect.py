"""Recognise a model file's format from its content; the file name is never consulted.

`detect(stream)` reads the first 64 KiB (and, for some formats, the tail or the protobuf
structure; for pickles, the stream as far as a loader would get: pickle.sniff) and returns
the primary format plus any other format the same bytes also are (a polyglot: a pickle with a
zip appended, a safetensors file that is also a pickle). Each view is scanned, because
different loaders pick different views.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from custos.modelfile import magic
from custos.modelfile.formats import protowire
from custos.modelfile.pickle.opwalk import Machine, Source, WalkError
from custos.modelfile.pickle.sniff import is_pickle
from custos.modelfile.readers.streamview import read_at, stream_size
from custos.modelfile.readers.zip_parse import find_eocd

HEAD = 1 << 16
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
TORCH_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
_MAGIC_BYTES = TORCH_MAGIC_NUMBER.to_bytes(10, "little")
_LONG_TEXT = re.compile(rb"[0-9A-Fa-f_]{20}")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"PK\x01\x02")
ONNX_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}
SAVEDMODEL_FIELDS = {1: 0, 2: 2}
GRAPHDEF_FIELDS = {1: 2, 2: 2, 3: 0, 4: 2, 5: 2}
_SHORT_TAGS = {n for n in (*ONNX_FIELDS, *GRAPHDEF_FIELDS) if n < 16}


@dataclass(frozen=True)
class Detected:
    """`format` is the primary view; `also` lists other formats the same bytes parse as."""

    format: str
    size: int
    also: tuple[str, ...] = ()


def detect(stream: BinaryIO, *, member: bool = False, unpickled: bool = False) -> Detected:
    """Recognise `stream`; `member` is True inside archives, where raw tensor bytes abound
    and the pickle test is strict (see pickle_verdict). `unpickled`: a loader unpickles these
    bytes whatever they hold (`unpickled_member`), so text or unknown content is analysed as a
    (broken) pickle instead of being passed over."""
    size = stream_size(stream)
    head = read_at(stream, 0, HEAD)
    if len(head) == size:  # the head is all of it: the tests below read it from memory
        stream = io.BytesIO(head)
    primary = _primary(stream, head, size, member and not unpickled)
    if unpickled and primary in ("text", "unknown"):
        primary = "pickle"
    also: list[str] = []
    if primary not in ("zip", "empty") and find_eocd(stream, size) is not None:
        also.append("zip")
    plain = ("pickle", "pytorch-legacy", "text", "unknown", "empty", "zip")
    if primary not in plain and pickle_verdict(stream, size, strict=True):
        also.append("pickle")
    return Detected(primary, size, tuple(also))


def unpickled_member(location: str) -> bool:
    """Whether `location` (containers name a member `...!<name>`, `#n` or `@...` appended for
    duplicates and hidden entries) is one a loader unpickles by its name: torch.load reads
    `<archive>/data.pkl` with an Unpickler whatever it holds."""
    if "!" not in location:
        return False
    base = location.rsplit("!", 1)[1].rsplit("/", 1)[-1]
    return base == "data.pkl" or base.startswith(("data.pkl#", "data.pkl@"))


def _primary(stream: BinaryIO, head: bytes, size: int, member: bool) -> str:
    if size == 0:
        return "empty"
    if head[:4] in ZIP_STARTS:
        return "zip"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"GGUF"):
        return "gguf"
    if any(head[at : at + 8] == HDF5_MAGIC for at in (0, 512, 1024, 2048, 4096, 8192)):
        return "hdf5"
    if is_tar(head):
        return "tar"
    if _is_safetensors(head):
        return "safetensors"
    if _proto(head) and (not member or pickle_verdict(stream, size, strict=True)):
        return _pickle_kind(head)
    compressed = compression(head)
    if compressed is not None:
        return compressed
    known = magic.identify(head)  # images, executables, other archives; a pickle still wins
    if known is not None and not pickle_verdict(stream, size, strict=True):
        return known.format
    proto = _protobuf(stream, size, head)
    if proto is not None:
        return proto
    if pickle_verdict(stream, size, strict=member):
        return _pickle_kind(head)
    if _is_text(head):
        return "text"
    return "unknown"


def _pickle_kind(head: bytes) -> str:
    """`pytorch-legacy` when the first pickle is torch's magic number, however it is spelled."""
    if head.startswith(TORCH_LEGACY_MAGIC):
        return "pytorch-legacy"
    # The first pickle's value is that number only if an opcode pushes it: LONG1/LONG4 hold
    # its 10 little-endian bytes (then sign bytes), INT/LONG spell it in text in a base
    # `int(x, 0)` reads, in at least 20 digits (underscores allowed). With neither in the
    # head the walk cannot find it, and is not needed.
    if _MAGIC_BYTES not in head and _LONG_TEXT.search(head) is None:
        return "pickle"
    machine = Machine(Source(io.BytesIO(head), 0, len(head)), max_items=1000)
    try:
        machine.run()
    except (WalkError, RecursionError):
        return "pickle"
    return "pytorch-legacy" if machine.result == TORCH_MAGIC_NUMBER else "pickle"


def is_tar(head: bytes) -> bool:
    """ustar magic, or an old-style header whose checksum is right (as `tarfile` accepts)."""
    if len(head) < 512:
        return False
    if head[257:262] == b"ustar":
        return True
    block = head[:512]
    field = block[148:156].split(b"\0", 1)[0].strip()
    if not field or not all(48 <= c <= 55 for c in field) or not block[:1].strip(b"\0"):
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    return int(field, 8) == unsigned


def _is_safetensors(head: bytes) -> bool:
    if len(head) < 9:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length < 1 << 48 and head[8:9] == b"{"  # size checks are the scanner's


def compression(head: bytes) -> str | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and head[3:4].isdigit():
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x04\x22\x4d\x18"):
        return "lz4"
    if head.startswith(b"ZF") and re.match(rb"ZF0x[0-9a-fA-F]+ *", head[:20]):
        return "joblib-zfile"
    zlib_header = head[:1] == b"\x78" and len(head) > 2 and (head[0] * 256 + head[1]) % 31 == 0
    if zlib_header and _inflates(head, zlib.decompressobj()):
        return "zlib"
    if head.startswith(b"\x5d\x00\x00") and len(head) >= 13:
        return "lzma"
    return None


def _inflates(head: bytes, decoder: zlib._Decompress) -> bool:
    try:
        decoder.decompress(head[:4096], 16)
    except zlib.error:
        return False
    return True


def _protobuf(stream: BinaryIO, size: int, head: bytes) -> str | None:
    first = head[0]
    single_byte_tag = not first & 0x80
    if single_byte_tag and (first & 7 not in (0, 2) or (first >> 3) not in _SHORT_TAGS):
        return None
    seen, complete = protowire.top_level(protowire.Reader(stream, size))
    if not seen or (not complete and (len(seen) < 2 or 1 not in seen)):
        return None
    if seen in (SAVEDMODEL_FIELDS, {2: 2}):
        return "savedmodel"
    if all(ONNX_FIELDS.get(n) == w for n, w in seen.items()) and (7 in seen or not complete):
        return "onnx"
    if complete and all(GRAPHDEF_FIELDS.get(n) == w for n, w in seen.items()) and 1 in seen:
        return "tf-graphdef"
    return None


def pickle_verdict(data: bytes | BinaryIO, size: int, *, strict: bool) -> bool:
    """Whether the bytes are a pickle worth analysing, judged by walking them from the first
    byte (never a sample of the head: see pickle.sniff). `strict` is for archive members and
    second views of a file, where raw tensor bytes abound."""
    return is_pickle(data, size, strict=strict)


def _proto(head: bytes) -> bool:
    return len(head) > 1 and head[0] == 0x80 and head[1] <= 5


def _is_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start >= len(head) - 3
    return True

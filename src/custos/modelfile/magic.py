"""Well-known file signatures of content that is not a model: images, documents, databases,
executables and archive types Custos does not open.

`identify(head)` names what the first bytes are, or None. Detection calls it only after the
model formats and the PROTO-started pickle have been ruled out, and a pickle reading of the
bytes still wins (see detect.py): a signature never hides a pickle that would import.
Each entry says how much it matters: `data` cannot carry code (an inventory note, low),
`executable` is native code and `archive` packs content Custos cannot see (both medium:
they could carry code and were not analysed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DATA = "data"
EXECUTABLE = "executable"
ARCHIVE = "archive"


@dataclass(frozen=True)
class Magic:
    format: str  # the format name reported for the file
    what: str  # for messages: "a PNG image"
    kind: str  # DATA, EXECUTABLE or ARCHIVE


# (prefix, entry). Prefixes are at least 4 bytes, or checked further in `_confirm`: archive
# members are raw tensor bytes too, and a short prefix would match some of them by chance.
_PREFIXES: tuple[tuple[bytes, Magic], ...] = (
    (b"\x89PNG\r\n\x1a\n", Magic("png", "a PNG image", DATA)),
    (b"\xff\xd8\xff", Magic("jpeg", "a JPEG image", DATA)),
    (b"GIF87a", Magic("gif", "a GIF image", DATA)),
    (b"GIF89a", Magic("gif", "a GIF image", DATA)),
    (b"%PDF-", Magic("pdf", "a PDF document", DATA)),
    (b"II*\x00", Magic("tiff", "a TIFF image", DATA)),
    (b"MM\x00*", Magic("tiff", "a TIFF image", DATA)),
    (b"SQLite format 3\x00", Magic("sqlite", "an SQLite database", DATA)),
    (b"OggS\x00", Magic("ogg", "an Ogg media file", DATA)),
    (b"fLaC", Magic("flac", "a FLAC audio file", DATA)),
    (b"\x00asm", Magic("wasm", "a WebAssembly module", EXECUTABLE)),
    (b"\x7fELF", Magic("elf", "an ELF executable or library", EXECUTABLE)),
    (b"\xfe\xed\xfa\xce", Magic("mach-o", "a Mach-O executable", EXECUTABLE)),
    (b"\xfe\xed\xfa\xcf", Magic("mach-o", "a Mach-O executable", EXECUTABLE)),
    (b"\xce\xfa\xed\xfe", Magic("mach-o", "a Mach-O executable", EXECUTABLE)),
    (b"\xcf\xfa\xed\xfe", Magic("mach-o", "a Mach-O executable", EXECUTABLE)),
    (b"\xca\xfe\xba\xbe", Magic("mach-o", "a Mach-O universal binary or Java class", EXECUTABLE)),
    (b"MZ", Magic("pe", "a Windows PE executable or DLL", EXECUTABLE)),
    (b"7z\xbc\xaf\x27\x1c", Magic("7z", "a 7z archive", ARCHIVE)),
    (b"Rar!\x1a\x07", Magic("rar", "a RAR archive", ARCHIVE)),
    (b"MSCF\x00\x00\x00\x00", Magic("cab", "a Microsoft cabinet archive", ARCHIVE)),
    (b"\x28\xb5\x2f\xfd", Magic("zstd", "a Zstandard-compressed stream", ARCHIVE)),
    (b"LZIP", Magic("lzip", "an lzip-compressed stream", ARCHIVE)),
    (b"!<arch>\n", Magic("ar", "an ar archive (.deb, .a)", ARCHIVE)),
    (b"070701", Magic("cpio", "a cpio archive", ARCHIVE)),
    (b"070702", Magic("cpio", "a cpio archive", ARCHIVE)),
    (b"070707", Magic("cpio", "a cpio archive", ARCHIVE)),
    (b"xar!", Magic("xar", "a xar archive (.pkg)", ARCHIVE)),
    (b"MSWIM\x00\x00\x00", Magic("wim", "a Windows imaging archive", ARCHIVE)),
)
_RIFF = {
    b"WEBP": Magic("webp", "a WebP image", DATA),
    b"WAVE": Magic("wav", "a WAV audio file", DATA),
    b"AVI ": Magic("avi", "an AVI video", DATA),
}
_MEDIA = Magic("mp4", "an MP4/QuickTime media file", DATA)
_BOM = rb"(?:\xef\xbb\xbf)?\s*"
_HTML = (
    re.compile(_BOM + rb"<(?:!doctype\s+html|html[\s>])", re.I),
    Magic("html", "an HTML document", DATA),
)
_XML = (re.compile(_BOM + rb"<(?:\?xml\s|svg[\s>])", re.I), Magic("xml", "an XML document", DATA))
MARKUP = frozenset({"html", "xml"})  # text: still read by the text scanner (templates)

BY_FORMAT = {m.format: m for _, m in _PREFIXES} | {m.format: m for m in _RIFF.values()}
BY_FORMAT |= {"mp4": _MEDIA, "html": _HTML[1], "xml": _XML[1]}
FORMATS = frozenset(BY_FORMAT)


def identify(head: bytes) -> Magic | None:
    """What `head` (the first bytes of a stream) is, when it is a well-known non-model type."""
    for prefix, entry in _PREFIXES:
        if head.startswith(prefix) and _confirm(entry.format, head):
            return entry
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp" and head[8:12].isalnum():
        return _MEDIA
    for pattern, entry in (_HTML, _XML):
        if pattern.match(head[:512]):
            return entry
    return None


def _confirm(kind: str, head: bytes) -> bool:
    """Short signatures are confirmed by their structure (a chance match in tensor bytes is not
    an executable)."""
    if kind == "pe":
        offset = int.from_bytes(head[0x3C:0x40], "little")
        return len(head) >= 0x40 and head[offset : offset + 4] == b"PE\x00\x00"
    if kind == "elf":
        return head[4:5] in (b"\x01", b"\x02") and head[5:6] in (b"\x01", b"\x02")
    if head.startswith(b"\xca\xfe\xba\xbe"):  # also -0.365 as a float32: check what follows
        count, major = int.from_bytes(head[4:8], "big"), int.from_bytes(head[6:8], "big")
        return 0 < count <= 64 or 45 <= major <= 100
    if kind == "jpeg":
        return head[3:4] in (b"\xe0", b"\xe1", b"\xdb", b"\xee", b"\xe2", b"\xed", b"\xfe")
    return True

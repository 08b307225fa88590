"""One zip member's bytes decoded (stored, deflate, bzip2, LZMA): the one decoder the zip
container and the Keras config reader share, so that both read every member the same way."""

from __future__ import annotations

import lzma
from dataclasses import dataclass
from typing import BinaryIO

from custos.modelfile.context import Limits
from custos.modelfile.readers.inflate import decoder_for, inflate
from custos.modelfile.readers.streamview import new_spool

METHODS = {0: "stored", 8: "deflate", 12: "bz2", 14: "zip-lzma"}


@dataclass
class Decoded:
    """A member's content (rewound; the caller closes it) and how decoding went."""

    stream: BinaryIO
    size: int
    crc: int | None  # None for a stored member (its content is the raw bytes: computed on demand)
    consumed: int = 0  # compressed bytes read
    finished: bool = True  # the compressed data reached its end marker
    cut: str | None = None  # "size", "ratio" or "room" when a limit stopped decoding
    error: str | None = None  # the decoder's complaint, if any
    unreadable: str | None = None  # why no decoder could even start (nothing was decoded)


def decode(raw: BinaryIO, csize: int, codec: str, limits: Limits, room: int | None) -> Decoded:
    """Decode `csize` bytes of `raw` (a window on the member's data) with `codec` (METHODS),
    yielding at most `room` bytes when given."""
    if codec == "stored":
        raw.seek(0)
        return Decoded(raw, csize, None, csize)
    props = b""
    try:
        if codec == "zip-lzma":  # a 4-byte header (version, properties size), then properties
            head = raw.read(4)
            props = raw.read(int.from_bytes(head[2:4], "little"))
        make = decoder_for(codec, props)
    except (lzma.LZMAError, ValueError, EOFError) as err:
        why = f"{codec} properties refused: {str(err) or type(err).__name__}"
        return Decoded(new_spool(), 0, None, finished=False, unreadable=why)
    result = inflate(raw, make, limits, csize - raw.tell(), room=room)
    finished = result.finished and not result.cut
    return Decoded(
        result.stream,
        result.size,
        result.crc,
        result.consumed,
        finished,
        result.cut,
        result.error,
    )

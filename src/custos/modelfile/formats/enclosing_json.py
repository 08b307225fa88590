"""The JSON object enclosing an offset of binary data (a Keras config inside an HDF5 attribute
or a protobuf string), found for many offsets in linear time.

The text around a region is read once; the candidate opening braces are found by bisection
and each is decoded at most once: a brace that yields no enclosing object for one key yields
none for a later key either (its object ended before the first, or is not an object), so each
key tries only the braces that appeared since the previous failure.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from typing import BinaryIO

from custos.modelfile.readers.streamview import read_at

MAX_TRIES = 64  # braces tried for one key, nearest first
BRACE = re.compile(r"\{")


class Around:
    """The text of `stream` from `start` to `stop` (latin-1: one character per byte)."""

    def __init__(self, stream: BinaryIO, start: int, stop: int, backtrack: int) -> None:
        self.start = start
        self.text = read_at(stream, start, stop - start).decode("latin-1")
        self.braces = [match.start() for match in BRACE.finditer(self.text)]
        self.backtrack = backtrack
        self.floor = 0  # braces before it yielded nothing for an earlier key
        self.decoder = json.JSONDecoder()

    def enclosing(self, pos: int, key: str) -> tuple[dict[str, object], int] | None:
        """The object holding `key` that encloses offset `pos`, and where it ends (absolute)."""
        at = pos - self.start
        lowest = max(self.floor, at - self.backtrack)
        index = bisect_left(self.braces, at) - 1
        tries = 0
        while index >= 0 and self.braces[index] >= lowest and tries < MAX_TRIES:
            tries += 1
            try:
                value, end = self.decoder.raw_decode(self.text, self.braces[index])
            except (ValueError, RecursionError):
                value, end = None, -1
            if isinstance(value, dict) and key in value and end > at:
                return value, self.start + end
            index -= 1
        self.floor = at
        return None

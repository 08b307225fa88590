"""How reading a pickle stops: the stream ends too soon, or holds bytes CPython would reject.

The reader (buffered_input, args, reader) raises these; the scanner (scan)
turns them into findings located at `offset`. They are kept apart from the symbolic machine's
`VMError` (core), which is about what the opcodes do, not how they are encoded.
"""

from __future__ import annotations


class PickleError(Exception):
    """The stream stops being a pickle at `offset`."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


class Truncated(PickleError):
    """The stream ends inside an opcode, an argument or a frame."""


class Malformed(PickleError):
    """Bytes CPython's Unpickler would reject (unknown opcode, bad argument)."""

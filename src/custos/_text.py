"""Text every store and output format can keep.

Checks quote what they examined: file names (undecodable bytes arrive as lone surrogates
through `os.fsdecode`), pickle global names, member names. A lone surrogate cannot be encoded
as UTF-8 and PostgreSQL refuses NUL in text columns, so one hostile name could otherwise stop a
whole scan from being stored. Both are written as visible escapes instead: the evidence still
shows what was there.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` with NUL as `\\x00` and each lone surrogate as `\\udXXX` (unchanged otherwise)."""
    if _UNSTORABLE.search(text) is None:  # the common case: no copy
        return text
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")

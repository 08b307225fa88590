"""One column's sampled values to the types it holds: running text goes to `freetext`, short
values to `recognizers`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from custos.datascan.freetext import text_hits
from custos.datascan.recognizers import Hit, Options, is_free_text, structured_hits


def column_hits(column: str, values: Sequence[str], options: Options) -> list[Hit]:
    """The types found in one column's sampled values (empty values skipped)."""
    present = [v.strip() for v in values if v and not v.isspace()]
    if not present:
        return []
    if is_free_text(present):
        return text_hits(present, options)
    return structured_hits(column, Counter(present), options)

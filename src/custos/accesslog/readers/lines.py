"""A text log as one column of lines, through DuckDB's CSV reader with no delimiter, quote or
escape: the way the nginx and ALB readers see a file (one row per line, blank lines too)."""

from __future__ import annotations

from pathlib import Path

from custos.accesslog.readers.jsonl import quote_str


def lines(path: Path, compression: str) -> str:
    return (f"read_csv({quote_str(str(path))}, columns={{'line': 'VARCHAR'}}, delim='\\x01', "
            f"quote='', escape='', header=false, auto_detect=false, strict_mode=false, "
            f"compression={quote_str(compression)})")  # fmt: skip


def query_value(uri: str, name: str | None) -> str:
    """The value of one query-string parameter of `uri` (an SQL expression), or NULL."""
    if not name:
        return "CAST(NULL AS VARCHAR)"
    pattern = quote_str("[?&]" + _escape(name) + "=([^&#]*)")
    return f"nullif(regexp_extract({uri}, {pattern}, 1), '')"


def _escape(text: str) -> str:
    return "".join("\\" + c if not c.isalnum() and c != "_" else c for c in text)

"""A log's first lines: gzip by its magic bytes, the format by content, and the shape of the
JSON fields (a vector of numbers, a record of named numbers, text) that decides how DuckDB is
told to read them."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from custos.errors import UserError

GZIP_MAGIC = b"\x1f\x8b"
SNIFF_LINES = 1000
NGINX = re.compile(r'^\S+ \S+ \S+ \[[^\]]+\] "[^"]*" \d{3} \S+')
ALB = re.compile(r"^(?:http|https|h2|grpcs|ws|wss) \d{4}-\d\d-\d\dT\S+ \S+ \S+:\d+ ")


def is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_binary(path: Path) -> IO[bytes]:
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def head(path: Path, lines: int = SNIFF_LINES) -> list[str]:
    """The first non-blank lines, decoded leniently."""
    out: list[str] = []
    try:
        with open_binary(path) as f:
            for raw in f:
                text = raw.decode("utf-8", "replace").strip()
                if text:
                    out.append(text)
                    if len(out) >= lines:
                        break
    except (OSError, EOFError) as exc:
        raise UserError(f"{path}: cannot be read: {exc}") from None
    return out


def detect(path: Path, shown: str) -> str:
    """jsonl, otel, nginx or alb, from the first lines."""
    lines = head(path, 50)
    if not lines:
        return "jsonl"  # empty: nothing to read whatever the format
    votes: Counter[str] = Counter()
    for line in lines:
        if line.startswith(("{", "[")):
            votes["otel" if _spans(line) else "jsonl"] += 1
        elif ALB.match(line):
            votes["alb"] += 1
        elif NGINX.match(line):
            votes["nginx"] += 1
    if not votes:
        raise UserError(f"{shown}: not a log format Custos reads (JSON Lines, nginx combined, "
                        "AWS ALB, OpenTelemetry JSON); name it with --log-format")  # fmt: skip
    return votes.most_common(1)[0][0]


def _spans(line: str) -> bool:
    if '"resourceSpans"' in line or '"scopeSpans"' in line:
        return True
    return ('"gen_ai.' in line or "gen_ai." in line) and (
        '"span_id"' in line or '"spanId"' in line or '"attributes"' in line
    )


@dataclass(frozen=True)
class Shape:
    """How a JSON field holds a request's input or output."""

    kind: str  # "vector", "record", "text", "scalar" or "none"
    names: tuple[str, ...] = ()  # features: record keys, or x0.. for vectors

    @property
    def numeric(self) -> bool:
        return self.kind in ("vector", "record", "scalar")


def lookup(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def shape(values: Sequence[Any], prefix: str) -> Shape:
    """The majority shape of a field's values in the first lines."""
    kinds: Counter[str] = Counter()
    lengths: Counter[int] = Counter()
    keys: dict[str, None] = {}
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            kinds["text"] += 1
        elif isinstance(v, int | float):
            kinds["scalar"] += 1
        elif isinstance(v, list) and v and all(_number(x) for x in v):
            kinds["vector"] += 1
            lengths[len(v)] += 1
        elif isinstance(v, dict) and v and all(_number(x) for x in v.values()):
            kinds["record"] += 1
            keys.update(dict.fromkeys(str(k) for k in v))
        else:
            kinds["text"] += 1
    if not kinds:
        return Shape("none")
    kind = kinds.most_common(1)[0][0]
    if kind == "vector":
        d = lengths.most_common(1)[0][0]
        return Shape("vector", tuple(f"{prefix}{i}" for i in range(d)))
    if kind == "record":
        return Shape("record", tuple(keys))
    if kind == "scalar":
        return Shape("scalar", (prefix.rstrip("_") or "value",))
    return Shape("text")


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def json_records(lines: Sequence[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):  # a line nested past the recursion limit is broken
            continue
        if isinstance(value, dict):
            yield value

"""JSON Lines access logs: one request per line, the canonical fields (`ts, api_key, client_ip,
endpoint, method, status, latency_ms, input, output, user_agent`) under their own names or
under the names the manifest maps them to (`fields:`; a dotted name reaches into nested
objects). DuckDB's reader parses the file in parallel with the types the first lines showed:
a vector of numbers, a record of named numbers, or text. A line that is not a JSON object
becomes an empty row (a broken line); `ts` may be ISO 8601 or epoch seconds, milliseconds,
microseconds or nanoseconds."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from custos.accesslog.readers.sniff import Shape, head, json_records, lookup, shape
from custos.accesslog.settings import FIELDS

TEXT_FIELDS = ("ts", "api_key", "client_ip", "endpoint", "method", "status", "user_agent")
DIGEST = "input_digest"  # written by the OpenTelemetry reader: a digest of the prompt


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def epoch(expr: str) -> str:
    """Seconds since the epoch from an ISO 8601 text or a number in s, ms, us or ns. The
    number is scaled inside a lambda: written out, DuckDB would hoist its repeated cast out of
    the coalesce and run it on every ISO timestamp too (three times the cost)."""
    scaled = ("lambda n: CASE WHEN n > 1e17 THEN n / 1e9 WHEN n > 1e14 THEN n / 1e6 "
              "WHEN n > 1e11 THEN n / 1e3 ELSE n END")  # fmt: skip
    return (f"coalesce(epoch(try_cast({expr} AS TIMESTAMPTZ)), "
            f"list_transform([try_cast({expr} AS DOUBLE)], {scaled})[1])")  # fmt: skip


def _type(shape_: Shape) -> str:
    if shape_.kind == "vector":
        return "FLOAT[]"
    if shape_.kind == "record":
        return "STRUCT(" + ", ".join(f"{quote_ident(n)} FLOAT" for n in shape_.names) + ")"
    if shape_.kind == "scalar":
        return "FLOAT"
    return "JSON"


class _Tree(dict[str, "str | _Tree"]):
    """Column name -> type, or -> the nested fields of an object."""

    def add(self, path: str, type_: str) -> None:
        first, _, rest = path.partition(".")
        if not rest:
            self.setdefault(first, type_)
            return
        child = self.get(first)
        if not isinstance(child, _Tree):
            child = _Tree()
            self[first] = child
        child.add(rest, type_)

    def sql(self) -> str:
        return ", ".join(f"{quote_ident(k)} {_sql_type(v)}" for k, v in self.items())


def _sql_type(node: str | _Tree) -> str:
    return node if isinstance(node, str) else f"STRUCT({node.sql()})"


def access(path: str) -> str:
    first, *rest = path.split(".")
    expr = quote_ident(first)
    for part in rest:
        expr = f"struct_extract({expr}, {quote_str(part)})"
    return expr


def sniff(path: Path, mapping: Mapping[str, str]) -> tuple[Shape, Shape]:
    records = list(json_records(head(path)))
    shapes = []
    for name, prefix in (("input", "x"), ("output", "y")):
        source = mapping.get(name, name)
        shapes.append(shape([lookup(r, source) for r in records], prefix))
    return shapes[0], shapes[1]


def select(path: Path, mapping: Mapping[str, str], shapes: tuple[Shape, Shape],
           compression: str, digest: bool = False) -> str:  # fmt: skip
    """The canonical columns of one file (see readers.load.COLUMNS), one row per non-blank
    line, in file order."""
    names = {f: mapping.get(f, f) for f in FIELDS}
    tree = _Tree()
    for f in TEXT_FIELDS:
        tree.add(names[f], "VARCHAR")
    tree.add(names["latency_ms"], "DOUBLE")
    for f, s in zip(("input", "output"), shapes, strict=True):
        if s.kind != "none":
            tree.add(names[f], _type(s))
    if digest:
        tree.add(DIGEST, "VARCHAR")
    columns = "{" + ", ".join(f"{quote_str(k)}: {quote_str(_sql_type(v))}"
                              for k, v in tree.items()) + "}"  # fmt: skip
    vectors = [_vector(access(names[f]), s) for f, s in zip(("input", "output"), shapes,
                                                             strict=True)]  # fmt: skip
    raw_input = access(names["input"]) if shapes[0].kind != "none" else "NULL"
    hashed = access(DIGEST) if digest else raw_input
    text = {f: access(names[f]) for f in TEXT_FIELDS}
    return f"""
SELECT {epoch(text["ts"])} AS t,
  nullif(nullif({text["api_key"]}, ''), '-') AS api_key,
  nullif(nullif({text["client_ip"]}, ''), '-') AS client_ip,
  {text["endpoint"]} AS endpoint, {text["method"]} AS method,
  try_cast({text["status"]} AS INTEGER) AS status,
  {access(names["latency_ms"])} AS latency_ms,
  {text["user_agent"]} AS user_agent,
  {vectors[0]} AS input,
  CASE WHEN {hashed} IS NULL THEN NULL ELSE hash({hashed}) END AS ih,
  {vectors[1]} AS output,
  false AS blank
FROM read_json({quote_str(str(path))}, format='newline_delimited', columns={columns},
  ignore_errors=true, compression={quote_str(compression)},
  maximum_object_size=16777216)"""  # noqa: S608


def _vector(expr: str, s: Shape) -> str:
    if s.kind == "vector":
        return expr
    if s.kind == "record":
        parts = ", ".join(f"struct_extract({expr}, {quote_str(n)})" for n in s.names)
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE list_value({parts}) END"
    if s.kind == "scalar":
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE list_value({expr}) END"
    return "CAST(NULL AS FLOAT[])"

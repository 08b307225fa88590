"""nginx `combined` access logs (`$remote_addr - $remote_user [$time_local] "$request" $status
$body_bytes_sent "$http_referer" "$http_user_agent"`, optionally followed by more fields ending
in `$request_time`). The key is `$remote_user` (an API gateway's client id), or a query-string
parameter when the manifest maps `api_key` to one; the input is the query string (a body is
not logged), so repeated identical queries are seen for GET APIs only."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from custos.accesslog.readers.lines import lines, query_value

PATTERN = (
    r'^(\S+) \S+ (\S+) \[([^\]]+)\] "(?:(\S+) (\S+)(?: [^"]*)?|[^"]*)" (\d{3}) (\S+)'
    r'(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(?:.* (\d+\.\d+))?\s*$'
)
GROUPS = ("ip", "user", "time", "method", "uri", "status", "bytes", "referer", "ua", "rt")


def select(path: Path, mapping: Mapping[str, str], compression: str) -> str:
    names = ", ".join(f"'{g}'" for g in GROUPS)
    uri = "m.uri"
    key = query_value(uri, mapping.get("api_key"))
    return f"""
SELECT epoch(try_strptime(m.time, '%d/%b/%Y:%H:%M:%S %z')) AS t,
  coalesce(nullif(nullif(m.user, '-'), ''), {key}) AS api_key,
  nullif(m.ip, '') AS client_ip,
  nullif(split_part({uri}, '?', 1), '') AS endpoint,
  nullif(m.method, '') AS method,
  try_cast(m.status AS INTEGER) AS status,
  try_cast(m.rt AS DOUBLE) * 1000 AS latency_ms,
  nullif(m.ua, '') AS user_agent,
  CAST(NULL AS FLOAT[]) AS input,
  CASE WHEN {uri} LIKE '%?%' THEN hash(split_part({uri}, '?', 2)) END AS ih,
  CAST(NULL AS FLOAT[]) AS output,
  trim(coalesce(line, '')) = '' AS blank
FROM (SELECT line, regexp_extract(line, '{PATTERN.replace("'", "''")}', [{names}]) AS m
      FROM {lines(path, compression)})"""  # noqa: S608

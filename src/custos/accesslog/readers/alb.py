"""AWS Application Load Balancer access logs (space-separated, quoted request and user agent;
docs.aws.amazon.com, "Access log entries"). Latency is the sum of the request, target and
response processing times. ALB logs carry no credential: the key comes from a query-string
parameter when the manifest maps `api_key` to one, else per-key detections do not apply and
the per-address ones (sprays, addresses) still do."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from custos.accesslog.readers.lines import lines, query_value

PATTERN = (
    r"^(\S+) (\S+) \S+ (\S+) \S+ (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (\S+) \S+ \d+ \d+ "
    r'"(\S+) (\S+)[^"]*" "((?:[^"\\]|\\.)*)"'
)
GROUPS = ("type", "time", "client", "req", "target", "resp", "status", "method", "url", "ua")


def select(path: Path, mapping: Mapping[str, str], compression: str) -> str:
    names = ", ".join(f"'{g}'" for g in GROUPS)
    url = "m.url"
    key = query_value(url, mapping.get("api_key"))
    times = ("m.req", "m.target", "m.resp")
    valid = " AND ".join(f"try_cast({t} AS DOUBLE) >= 0" for t in times)
    total = " + ".join(f"try_cast({t} AS DOUBLE)" for t in times)
    return f"""
SELECT epoch(try_cast(m.time AS TIMESTAMPTZ)) AS t,
  {key} AS api_key,
  nullif(regexp_extract(m.client, '^\\[?(.*?)\\]?:\\d+$', 1), '') AS client_ip,
  nullif(regexp_extract({url}, '^[a-zA-Z0-9]+://[^/]*(/[^?#]*)', 1), '') AS endpoint,
  nullif(m.method, '') AS method,
  try_cast(m.status AS INTEGER) AS status,
  CASE WHEN {valid} THEN ({total}) * 1000 END AS latency_ms,
  nullif(nullif(m.ua, '-'), '') AS user_agent,
  CAST(NULL AS FLOAT[]) AS input,
  CASE WHEN {url} LIKE '%?%' THEN hash(split_part({url}, '?', 2)) END AS ih,
  CAST(NULL AS FLOAT[]) AS output,
  trim(coalesce(line, '')) = '' AS blank
FROM (SELECT line, regexp_extract(line, '{PATTERN.replace("'", "''")}', [{names}]) AS m
      FROM {lines(path, compression)})"""  # noqa: S608

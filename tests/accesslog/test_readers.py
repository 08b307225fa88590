"""The readers: JSON Lines with the default and mapped field names (nested too), epoch and ISO
timestamps, records and vectors as inputs; broken lines counted and numbered by their line in
the file while the rest is analysed; gzip by content; nginx combined (the example's logs), AWS
ALB and OpenTelemetry GenAI spans (OTLP/JSON lines, and flat console-exporter spans)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from custos.accesslog.readers.load import load
from custos.accesslog.settings import Settings
from custos.errors import UserError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection" / "logs"


def _row(i: int, **extra: object) -> str:
    base = {"ts": f"2026-11-23T10:00:{i % 60:02d}Z", "api_key": "sk_test_abcdef123456",
            "client_ip": "198.51.100.7", "endpoint": "/v1/score", "method": "POST",
            "status": 200, "latency_ms": 12.5, "input": [i, 2.5, 3], "output": [0.1, 0.9],
            "user_agent": "t/1"}  # fmt: skip
    return json.dumps({**base, **extra})


def test_broken_lines_are_counted_numbered_and_skipped(tmp_path: Path) -> None:
    no_time = json.dumps({"api_key": "x", "status": 200})
    lines = [_row(0), "", _row(1), '{"ts": "2026-11-23T10:00:02Z", "api_', "not json",
             _row(2), "   ", no_time, "[1, 2]", _row(3)]  # fmt: skip
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(lines) + "\n")
    log = load([path], Settings(broken_shown=3))
    try:
        assert log.rows == 4
        assert log.broken_count == 4
        assert [(b.line, b.reason) for b in log.broken] == [
            (4, "not a request of this format"),
            (5, "not a request of this format"),
            (8, "no readable timestamp"),
        ]
        assert log.inputs.kind == "vector"
        assert log.inputs.names == ("x0", "x1", "x2")
        assert log.query("SELECT min(input[1]), max(input[1]) FROM rows") == [(0.0, 3.0)]
    finally:
        log.close()


def test_broken_line_numbers_in_a_file_read_by_several_threads(tmp_path: Path) -> None:
    """The table does not keep the file order (DuckDB's threads each take a part of a large
    file): the line numbers still come out exact, blank lines counted, across two files."""
    padding = "x" * 700  # large lines: the 80 MB file is split between threads
    good = [_row(i, user_agent=padding) for i in range(60)]
    broken = {7: "not json", 40_001: json.dumps({"api_key": "x", "status": 200}),
              99_998: "{{{"}  # fmt: skip
    lines = []
    for number in range(1, 100_001):
        if number in broken:
            lines.append(broken[number])
        elif number % 9_973 == 0:
            lines.append("")  # blank lines are no rows but keep their number
        else:
            lines.append(good[number % 60])
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(lines) + "\n")
    second.write_text(_row(1) + "\nnot json either\n")
    log = load([tmp_path], Settings(broken_shown=10))
    try:
        assert log.broken_count == 4
        assert [(Path(b.file).name, b.line, b.reason) for b in log.broken] == [
            ("a.jsonl", 7, "not a request of this format"),
            ("a.jsonl", 40_001, "no readable timestamp"),
            ("a.jsonl", 99_998, "not a request of this format"),
            ("b.jsonl", 2, "not a request of this format"),
        ]
        assert log.rows == 100_000 - 3 - 100_000 // 9_973 + 1
    finally:
        log.close()


def test_mapped_and_nested_fields_epoch_times_and_records(tmp_path: Path) -> None:
    rows = [{"time": 1795946400 + i, "req": {"key": f"k{i % 2}", "ip": "203.0.113.9"},
             "code": "201", "features": {"amount": float(i), "hour": 10.0},
             "score": 0.5} for i in range(5)]  # fmt: skip
    rows[1]["time"] = 1795946401000  # milliseconds
    path = tmp_path / "mapped.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    mapping = {"ts": "time", "api_key": "req.key", "client_ip": "req.ip", "status": "code",
               "input": "features", "output": "score"}  # fmt: skip
    log = load([path], Settings(), "auto", mapping)
    try:
        assert log.formats == ["jsonl"]
        assert log.inputs.kind == "record"
        assert log.inputs.names == ("amount", "hour")
        assert log.outputs.kind == "scalar"
        got = log.query("SELECT t, api_key, client_ip, status, input FROM rows ORDER BY rowid")
        assert [r[0] for r in got] == [1795946400 + i for i in range(5)]
        assert got[0][1:] == ("k0", "203.0.113.9", 201, [0.0, 10.0])
    finally:
        log.close()


def test_the_example_nginx_logs(tmp_path: Path) -> None:
    log = load([EXAMPLE / "access.log", EXAMPLE / "credit-access.log"], Settings())
    try:
        assert log.formats == ["nginx", "nginx"]
        assert log.broken_count == 0
        keys = dict(log.query("SELECT api_key, count(*) FROM rows GROUP BY ALL"))
        assert keys["partner-sandbox-07"] == 112
        assert log.query("SELECT count(*) FROM rows WHERE status = 401 AND api_key IS NULL") == [
            (6,)
        ]
    finally:
        log.close()


def test_nginx_broken_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    good = ('10.0.0.1 - client-a [26/Nov/2026:10:00:00 +0000] "GET /v1/x?q=1 HTTP/1.1" 200 5 '
            '"-" "curl/8" 0.012')  # fmt: skip
    path = tmp_path / "access.log"
    path.write_text("\n".join([good, "", "garbage here", good]) + "\n")
    log = load([path], Settings())
    try:
        assert (log.rows, log.broken_count) == (2, 1)
        assert log.broken[0].line == 3
        assert log.query("SELECT latency_ms, endpoint FROM rows LIMIT 1") == [(12.0, "/v1/x")]
    finally:
        log.close()


ALB = ('https 2026-11-26T10:00:{s:02d}.000000Z app/api/abc 192.0.2.{h}:4444 10.0.0.5:80 0.001 '
       '0.020 0.000 {code} {code} 120 300 "POST https://api.example.com:443/v1/score?api_key={k} '
       'HTTP/1.1" "python-requests/2.31" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
       'arn:aws:elasticloadbalancing:eu-west-1:123:targetgroup/x/y "Root=1-abc" '
       '"api.example.com" "arn:aws:acm:eu-west-1:123:certificate/z" 0 '
       '2026-11-26T10:00:00.000000Z "forward" "-" "-" "10.0.0.5:80" "200" "-" "-"')  # fmt: skip


def test_alb_logs_with_the_key_from_a_query_parameter(tmp_path: Path) -> None:
    path = tmp_path / "alb.log"
    path.write_text("\n".join(ALB.format(s=i, h=i % 3, code=200 if i else 403, k=f"key{i % 2}")
                              for i in range(6)) + "\n")  # fmt: skip
    log = load([path], Settings(), "auto", {"api_key": "api_key"})
    try:
        assert log.formats == ["alb"]
        got = log.query("SELECT api_key, client_ip, endpoint, status, round(latency_ms, 3) "
                        "FROM rows ORDER BY t")  # fmt: skip
        assert got[0] == ("key0", "192.0.2.0", "/v1/score", 403, 21.0)
        assert {r[0] for r in got} == {"key0", "key1"}
    finally:
        log.close()


def _span(i: int) -> dict[str, object]:
    start = 1795946400_000_000_000 + i * 1_000_000_000
    attrs = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
             {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-x"}},
             {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(100 + i)}},
             {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "20"}},
             {"key": "enduser.id", "value": {"stringValue": f"user-{i % 2}"}},
             {"key": "client.address", "value": {"stringValue": "203.0.113.5"}},
             {"key": "gen_ai.prompt", "value": {"stringValue": "same prompt"}}]  # fmt: skip
    return {"traceId": "ab", "spanId": f"{i:016x}", "name": "chat gpt-x",
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 250_000_000),
            "attributes": attrs, "status": {"code": 2 if i == 3 else 0}}  # fmt: skip


def test_otel_genai_spans(tmp_path: Path) -> None:
    path = tmp_path / "spans.json"
    export = {"resourceSpans": [{"resource": {}, "scopeSpans": [
        {"scope": {"name": "openai"}, "spans": [_span(i) for i in range(4)]}]}]}  # fmt: skip
    flat = {"name": "chat", "context": {"span_id": "0x1"}, "start_time": "2026-12-01T10:00:09Z",
            "end_time": "2026-12-01T10:00:10Z", "status": {"status_code": "UNSET"},
            "attributes": {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 7,
                           "user.id": "user-9"}}  # fmt: skip
    path.write_text(json.dumps(export) + "\nnot json\n" + json.dumps(flat) + "\n")
    log = load([path], Settings())
    try:
        assert log.formats == ["otel"]
        assert (log.rows, log.broken_count, log.broken[0].line) == (5, 1, 2)
        got = log.query("SELECT api_key, client_ip, endpoint, status, latency_ms, input, ih "
                        "FROM rows ORDER BY t")  # fmt: skip
        assert got[0][:6] == ("user-0", "203.0.113.5", "chat gpt-x", 200, 250.0, [100.0])
        assert got[3][3] == 500
        assert len({r[6] for r in got[:4]}) == 1  # the same prompt, by digest
        assert got[4][:2] == ("user-9", None)
    finally:
        log.close()


def test_unreadable_input(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("hello world\nthis is no log\n")
    with pytest.raises(UserError, match="not a log format"):
        load([path], Settings())
    with pytest.raises(UserError, match="no such file"):
        load([tmp_path / "missing.log"], Settings())

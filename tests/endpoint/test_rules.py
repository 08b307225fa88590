"""The rules on recorded exchanges, without a network: plain HTTP on a remote host, the
probability-vector test, framework error pages, hostname matching, what a status decides, an
answer that decides nothing, and the known-paths data file."""

from __future__ import annotations

import datetime as dt

import pytest

from custos.endpoint import known
from custos.endpoint.model import (
    MALFORMED,
    NO_KEY,
    WITH_KEY,
    Certificate,
    Exchange,
    Origin,
    Recording,
    Request,
    Response,
    parse_origin,
    verdict,
)
from custos.endpoint.rules import RULES, evaluate, expected, hostname_matches, probability_vector
from custos.errors import DataError

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)


def _exchange(probe: str, status: int | None, body: str = "", url: str = "https://h/p",
              headers: tuple[tuple[str, str], ...] = ()) -> Exchange:  # fmt: skip
    request = Request("POST", url)
    if status is None:
        return Exchange(probe, request, error="no answer within 5 s")
    return Exchange(probe, request, Response(status, headers, body))


def _recording(*exchanges: Exchange, url: str = "https://models.example/p") -> Recording:
    return Recording(url, parse_origin(url), True, True, False, None, exchanges, None, (), ())


def _rules(recording: Recording) -> set[str]:
    return {f.finding.rule for f in evaluate(recording, known.known_paths(), NOW).findings}


def test_plain_http_only_off_loopback() -> None:
    safe = {"x-content-type-options": "nosniff", "cache-control": "no-store"}
    answer = _exchange(NO_KEY, 401)
    keyed = _exchange(WITH_KEY, 200, "{}", headers=tuple(safe.items()))
    assert "endpoint/plain-http" in _rules(_recording(answer, keyed, url="http://10.0.0.8/p"))
    assert "endpoint/plain-http" not in _rules(_recording(answer, keyed, url="http://[::1]:8/p"))
    local = _recording(answer, keyed, url="http://localhost:8/p")
    assert "endpoint/plain-http" not in _rules(local)
    assert _rules(_recording(answer, keyed)) == set()


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ('{"probabilities": [0.7312345, 0.2687655]}', True),
        ('{"p": {"cat": 0.93751, "dog": 0.06249}}', True),
        ('{"batch": [[0.1, 0.9], [0.333333, 0.666667]]}', True),
        ('[1.5e-05, 0.99998500]', True),
        ('{"probabilities": [0.73, 0.27]}', False),  # rounded
        ('{"scores": [0.7312345, 0.9]}', False),  # does not sum to 1
        ('{"logits": [2.3812345, -1.2034567]}', False),
        ('{"embedding": [0.123456, 0.234567, 0.345678]}', False),
        ('{"label": "fraud", "score": 0.7312345}', False),  # one number
        ('{"flags": [true, false]}', False),
        ("not json", False),
    ],
)  # fmt: skip
def test_probability_vectors(body: str, found: bool) -> None:
    assert (probability_vector(body) is not None) is found


@pytest.mark.parametrize(
    "page",
    [
        "<title>ValueError // Werkzeug Debugger</title>",
        "You&#x27;re seeing this error because you have <code>DEBUG = True</code> in your",
        "TypeError: x is undefined\n    at handler (/srv/app/node_modules/express/lib/router.js:5)",
        '{"timestamp":"2026","status":500,"trace":"java.lang.NullPointerException\\n\\tat x"}',
        "<h1>Whitelabel Error Page</h1>",
        "java.lang.IllegalStateException: boom\n\tat com.acme.Api.score(Api.java:12)",
        "<h1>Server Error in '/' Application.</h1>",
    ],
)
def test_framework_error_pages(page: str) -> None:
    recording = _recording(_exchange(NO_KEY, 401), _exchange(MALFORMED, 500, page))
    assert "endpoint/stack-trace" in _rules(recording)


def test_a_plain_error_is_not_a_stack_trace() -> None:
    recording = _recording(_exchange(NO_KEY, 401), _exchange(MALFORMED, 400, '{"error": "bad"}'))
    assert "endpoint/stack-trace" not in _rules(recording)


def test_what_a_status_decides() -> None:
    assert verdict(_exchange(NO_KEY, 401)) == "refused"
    assert verdict(_exchange(NO_KEY, 302)) == "refused"
    assert verdict(_exchange(NO_KEY, 200)) == "accepted"
    assert verdict(_exchange(NO_KEY, 422)) == "accepted"
    for status in (404, 405, 429, 500, 503, None):
        assert verdict(_exchange(NO_KEY, status)) == "undetermined"
    undecided = evaluate(_recording(_exchange(NO_KEY, 503)), (), NOW).findings
    assert [f.finding.rule for f in undecided] == ["endpoint/undetermined"]
    assert "not determined" in undecided[0].finding.message


def test_hostname_matching() -> None:
    cert = Certificate("CN=x", "CN=ca", NOW, NOW, ("api.example.com", "*.models.example.com"),
                       ("10.0.0.1", "::1"), "00")  # fmt: skip
    assert hostname_matches(cert, "api.example.com")
    assert hostname_matches(cert, "API.example.com.")
    assert hostname_matches(cert, "gpu.models.example.com")
    assert not hostname_matches(cert, "a.b.models.example.com")
    assert not hostname_matches(cert, "models.example.com")
    assert not hostname_matches(cert, "example.com")
    assert hostname_matches(cert, "10.0.0.1")
    assert hostname_matches(cert, "0:0:0:0:0:0:0:1")
    assert not hostname_matches(cert, "10.0.0.2")
    wildcard_tld = Certificate("CN=x", "CN=ca", NOW, NOW, ("*.com",), (), "00")
    assert not hostname_matches(wildcard_tld, "example.com")


def test_origins() -> None:
    assert parse_origin("https://Models.Example/v1?x=1") == Origin("https", "models.example", 443)
    assert parse_origin("http://[::1]:8080/p").url == "http://[::1]:8080"
    assert parse_origin("http://127.0.0.2/p").loopback
    for bad in ("ftp://x/", "https:///nohost", "http://x:99999/", "http://u:p@x/"):
        with pytest.raises(ValueError, match=r"URL|credentials"):
            parse_origin(bad)


def test_the_known_paths_file() -> None:
    paths = known.known_paths()
    assert {p.rule for p in paths} == {"endpoint/open-docs", "endpoint/open-metrics",
                                       "endpoint/open-model-api", "endpoint/open-data-store",
                                       "endpoint/open-code-execution"}  # fmt: skip
    listed = {p.path for p in paths}
    for path in ("/v1/models", "/api/tags", "/health", "/model/info", "/api/version",
                 "/collections", "/v1/schema", "/api/kernels", "/v2/models", "/openapi.json",
                 "/api/2.0/mlflow/experiments/search?max_results=1"):  # fmt: skip
        assert path in listed
    assert all(p.rule in RULES for p in paths)
    for text, needle in [
        ("version: 2\npaths: []\n", "version: 1"),
        ("version: 1\npaths:\n- {path: x, product: p, rule: endpoint/open-docs, "
         "expect: {text: a}}\n", "start with /"),
        ("version: 1\npaths:\n- {path: /x, product: p, rule: endpoint/no-auth, "
         "expect: {text: a}}\n", "rule must be one of"),
        ("version: 1\npaths:\n- {path: /x, product: p, rule: endpoint/open-docs, "
         "expect: {regex: a}}\n", "expect must be one of"),
        ("version: 1\npaths:\n- {path: /x, product: p, rule: endpoint/open-docs, "
         "expect: {text: a}}\n- {path: /x, product: q, rule: endpoint/open-docs, "
         "expect: {text: b}}\n", "listed twice"),
        ("version: 1\npaths:\n- !!python/object:os.system {}\n", "not YAML"),
    ]:  # fmt: skip
        with pytest.raises(DataError, match=needle):
            known.parse(text, "known_paths.yaml")


def test_a_body_nested_past_the_recursion_limit_is_no_traceback() -> None:
    """Whatever an endpoint answers is data: a JSON body nested 100,000 deep reads as no
    probability vector and as no known tool, never as an exception."""
    deep = "[" * 100_000 + "]" * 100_000
    assert probability_vector(deep) is None
    for entry in known.known_paths():
        if entry.expect != "text":
            assert not expected(entry, deep)

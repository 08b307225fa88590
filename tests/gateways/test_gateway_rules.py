"""The gateway rules on realistic configs of each product: every rule fires exactly on the line
a gappy config's `# expect:` comments name, nothing fires on the secure ones, and no secret is
ever reported whole."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from custos.findings import Severity
from custos.gateways.model import GatewayReport
from custos.gateways.rules import (
    RULES,
    is_placeholder,
    is_reference,
    literal_secret,
    mask,
    plaintext_url,
    secret_name,
    url_password,
)
from custos.gateways.scan import scan_paths
from tests.gateways.planted import CONFIGS, copy_secure_envoy, plant


def found(report: GatewayReport) -> set[tuple[int, str]]:
    return {(f.line or 0, f.rule) for f in report.findings}


@pytest.mark.parametrize(
    ("fixture", "product"),
    [("litellm-gappy.yaml", "litellm"), ("kong-gappy.yaml", "kong"),
     ("envoy-gappy.yaml", "envoy-ai-gateway")],
)  # fmt: skip
def test_each_rule_fires_where_expected(tmp_path: Path, fixture: str, product: str) -> None:
    planted = plant(fixture, tmp_path / fixture)
    (report,) = scan_paths([planted.path])
    assert report.error is None
    assert report.product == product
    assert found(report) == planted.expected
    for finding in report.findings:
        assert finding.severity == RULES[finding.rule].severity
        assert finding.controls == RULES[finding.rule].controls
        assert finding.path == planted.path


def test_every_rule_is_exercised(tmp_path: Path) -> None:
    rules: set[str] = set()
    for fixture in ("litellm-gappy.yaml", "kong-gappy.yaml", "envoy-gappy.yaml"):
        rules |= {rule for _, rule in plant(fixture, tmp_path / fixture).expected}
    assert rules == set(RULES)


@pytest.mark.parametrize("fixture", ["litellm-secure.yaml", "kong-secure.yaml"])
def test_secure_configs_are_clean(tmp_path: Path, fixture: str) -> None:
    (report,) = scan_paths([plant(fixture, tmp_path / fixture).path])
    assert report.error is None
    assert report.findings == ()


def test_kong_file_without_routes_is_checked_for_secrets_only(tmp_path: Path) -> None:
    consumers = tmp_path / "consumers.yaml"
    consumers.write_text(
        '_format_version: "3.0"\nconsumers:\n  - username: batch\n    keyauth_credentials:\n'
        "      - key: 51c0ffee51c0ffee51c0\n  - username: web\n    jwt_secrets:\n"
        "      - key: https://idp.internal.example\n        algorithm: RS256\n"
        "        rsa_public_key: '{vault://env/web-jwt-pub}'\n"
    )
    (report,) = scan_paths([consumers])
    assert found(report) == {(5, "gateway/hardcoded-secret")}  # a JWT `key` is the issuer


def test_secure_envoy_across_two_files(tmp_path: Path) -> None:
    folder = copy_secure_envoy(tmp_path / "envoy")
    reports = scan_paths([folder])  # the directory: both files, found by content
    assert [r.path.name for r in reports] == ["policies.yaml", "routes.yaml"]
    assert all(r.findings == () and r.error is None for r in reports)
    # Without the policies file, the route is neither authenticated nor limited.
    (alone,) = scan_paths([folder / "routes.yaml"])
    assert {rule for _, rule in found(alone)} == {"gateway/no-auth", "gateway/no-rate-limit"}
    assert all(f.where.startswith("#2/") for f in alone.findings)  # the 2nd document


def test_facts_say_what_each_config_holds(tmp_path: Path) -> None:
    folder = copy_secure_envoy(tmp_path / "envoy")
    litellm = plant("litellm-secure.yaml", tmp_path / "litellm.yaml").path
    kong = plant("kong-secure.yaml", tmp_path / "kong.yaml").path
    reports = {r.path.name: r.facts for r in scan_paths([litellm, kong, folder])}
    assert reports["litellm.yaml"]["authentication"] == ["master key"]
    assert reports["litellm.yaml"]["guardrails"] == ["presidio", "lakera_v2"]
    assert reports["litellm.yaml"]["models"] == 3
    assert reports["kong.yaml"]["llm_routes"] == 1
    assert reports["kong.yaml"]["routes"] == 2
    assert reports["routes.yaml"]["resources"]["AIGatewayRoute"] == 1


@pytest.mark.parametrize("fixture", ["litellm-gappy.yaml", "kong-gappy.yaml", "envoy-gappy.yaml"])
def test_secrets_are_never_reported_whole(tmp_path: Path, fixture: str) -> None:
    planted = plant(fixture, tmp_path / fixture)
    (report,) = scan_paths([planted.path])
    text = json.dumps(report.to_json())
    assert planted.secrets
    for value in planted.secrets.values():
        assert value not in text
    secrets_found = [f for f in report.findings if f.rule == "gateway/hardcoded-secret"]
    assert all("characters)" in f.message for f in secrets_found)


def test_values_that_are_not_literal_secrets() -> None:
    for reference in ("os.environ/OPENAI_API_KEY", "{vault://env/key}", "${OPENAI_KEY}",
                      '${{ env "DECK_KEY" }}', "{{ .Values.apiKey }}", "$TOKEN"):  # fmt: skip
        assert is_reference(reference), reference
        assert literal_secret(reference) is None
    for placeholder in ("OPENAI_API_KEY", "<your key>", "xxxxxxxx", "sk-...", "your-api-key"):
        assert is_placeholder(placeholder), placeholder
        assert literal_secret(placeholder) is None
    assert literal_secret("") is None
    assert literal_secret(None) is None
    assert literal_secret(True) is None
    assert literal_secret("Bearer os.environ/KEY") is None
    assert literal_secret("sk-1234") == "sk-1234"  # the quick-start master key is still one
    assert literal_secret("Bearer abcdef123456") == "Bearer abcdef123456"


def test_secret_names_and_masks() -> None:
    for name in ("api_key", "apiKey", "master_key", "client_secret", "clientSecret",
                 "redis_password", "header_value", "aws_secret_access_key", "token"):  # fmt: skip
        assert secret_name(name), name
    for name in ("key_names", "header_name", "max_tokens", "tokens_count_strategy",
                 "secretRef", "jwt_secrets", "rsa_public_key", "api_base"):  # fmt: skip
        assert not secret_name(name), name
    assert mask("sk-test-0123456789abcdef") == "sk-t******** (24 characters)"
    assert mask("hunter22") == "hu******** (8 characters)"
    assert mask("abc1") == "******** (4 characters)"
    assert mask("Bearer 0123456789abcdef") == "Bearer 0123******** (16 characters)"
    assert url_password("postgresql://app:s3cr3tpass@db:5432/x") == "s3cr3tpass"
    assert url_password("postgresql://app@db:5432/x") is None
    assert url_password("redis://:os.environ/REDIS_PASSWORD@cache:6379") is None


def test_upstream_urls() -> None:
    assert plaintext_url("http://vllm.internal.example:8000/v1")
    assert plaintext_url("ws://realtime.example/v1")
    for url in ("https://api.example", "http://localhost:4000", "http://127.0.0.1:8000",
                "http://[::1]:9000", "os.environ/VLLM_URL", None, 42):  # fmt: skip
        assert not plaintext_url(url), url


def test_aliases_cannot_blow_up_the_walk(tmp_path: Path) -> None:
    """A billion-laughs document is data, not work: each node is visited once."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    config = tmp_path / "config.yaml"
    config.write_text("model_list: []\nbomb:\n" + "\n".join(f"  {line}" for line in levels) + "\n")
    start = time.monotonic()
    (report,) = scan_paths([config])
    assert time.monotonic() - start < 5
    assert report.error is None
    assert {f.rule for f in report.findings} >= {"gateway/no-auth"}


def test_severity_order_in_a_report(tmp_path: Path) -> None:
    (report,) = scan_paths([plant("kong-gappy.yaml", tmp_path / "kong.yaml").path])
    lines = [f.line or 0 for f in report.findings]
    assert lines == sorted(lines)
    first = [f for f in report.findings if f.line == report.findings[1].line]
    assert [f.severity for f in first] == sorted((f.severity for f in first), reverse=True)
    assert any(f.severity == Severity.critical for f in report.findings)


def test_configs_are_realistic_yaml() -> None:
    """The committed fixtures hold no secret-shaped text: only @@SLOTS@@ and references."""
    for path in CONFIGS.rglob("*.yaml"):
        text = path.read_text()
        assert "sk-test-" not in text, path
        assert "BEGIN PRIVATE KEY" not in text, path

"""Chat templates outside GGUF: tokenizer_config.json, chat_template.json, .jinja files."""

from __future__ import annotations

import json

import pytest

from custos.checks.model import Severity
from tests.modelfile.conftest import Scan, rules, worst
from tests.modelfile.test_gguf_scan import BENIGN_TEMPLATE, EVIL_TEMPLATES

TOKENIZER_CONFIG = {
    "add_bos_token": True,
    "bos_token": "<s>",
    "model_max_length": 4096,
    "tokenizer_class": "LlamaTokenizer",
}


def config(template: object) -> bytes:
    return json.dumps({**TOKENIZER_CONFIG, "chat_template": template}, indent=2).encode()


def test_benign_tokenizer_config(scan_bytes: Scan) -> None:
    report = scan_bytes(config(BENIGN_TEMPLATE), "tokenizer_config.json")
    assert report.format == "text"
    assert worst(report) <= Severity.low, report.findings


@pytest.mark.parametrize("template", EVIL_TEMPLATES)
def test_injection_in_tokenizer_config(template: str, scan_bytes: Scan) -> None:
    report = scan_bytes(config(template), "tokenizer_config.json")
    found = [f for f in report.findings if f.rule == "template/python-access"]
    assert found, report.findings
    assert found[0].location.endswith("!chat_template")


def test_named_templates_list_is_checked_each(scan_bytes: Scan) -> None:
    named = [
        {"name": "default", "template": BENIGN_TEMPLATE},
        {"name": "tool_use", "template": EVIL_TEMPLATES[1]},
    ]
    report = scan_bytes(config(named), "any-name.txt")
    locations = {f.location for f in report.findings if f.severity == Severity.critical}
    assert len(locations) == 1
    assert locations.pop().endswith("any-name.txt!chat_template[tool_use]")


def test_processor_chat_template_json(scan_bytes: Scan) -> None:
    payload = json.dumps({"chat_template": EVIL_TEMPLATES[0]}).encode()
    assert "template/python-access" in rules(scan_bytes(payload, "chat_template.json"))


def test_unparseable_template_in_config_is_reported(scan_bytes: Scan) -> None:
    report = scan_bytes(config("{% for x in %}"), "tokenizer_config.json")
    assert "template/unparsed" in rules(report)


def test_jinja_file_by_content(scan_bytes: Scan) -> None:
    evil = "{% for m in messages %}" + EVIL_TEMPLATES[1] + "{% endfor %}"
    assert "template/python-access" in rules(scan_bytes(evil.encode(), "chat_template.jinja"))
    assert worst(scan_bytes(BENIGN_TEMPLATE.encode(), "chat_template.jinja")) <= Severity.low


def test_prose_that_mentions_tags_is_not_a_finding(scan_bytes: Scan) -> None:
    readme = b"# Model\n\nUse {% raw %} blocks carefully: {% this is not jinja.\n"
    assert worst(scan_bytes(readme, "README.md")) <= Severity.low


def test_json_without_template_is_quiet(scan_bytes: Scan) -> None:
    payload = json.dumps({"architectures": ["LlamaForCausalLM"], "note": "{{ x }}"}).encode()
    assert scan_bytes(payload, "config.json").findings == ()

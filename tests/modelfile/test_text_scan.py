"""Chat templates outside GGUF: tokenizer_config.json, chat_template.json, .jinja files."""

from __future__ import annotations

import json

import pytest

from custos.checks.model import Severity
from custos.modelfile.report import FileReport
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


# -- templates with only {{ }} expressions, and files that are templates by their name --------

EXPRESSION_ONLY = [t for t in EVIL_TEMPLATES if "{%" not in t]
GADGET_CHAINS = [
    f"{{{{ {root}{chain} }}}}"
    for root in ("cycler", "joiner", "lipsum", "self", "namespace", "messages")
    for chain in (
        ".__init__.__globals__.os.popen('id').read()",
        "['__glo' ~ 'bals__']['__builtins__']['eval']('1')",
        "|attr('__cla' + 'ss__')",
        ".__class__.__mro__[1].__subclasses__()",
    )
]
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
README_WITH_PLACEHOLDERS = b"""# My model

Fill in the prompt as `{{ variable }}` placeholders:

```
{{ system_prompt }}
User: {{ question }}
{{ config.model_name }} answers in {{ request.language }} ({{ self }}).
```
"""
MUSTACHE_README = b"Templating engines such as Mustache use {{#items}} {{name}} {{/items}} too.\n"


def _python_access(report: FileReport) -> bool:
    return "template/python-access" in rules(report)


@pytest.mark.parametrize("template", EXPRESSION_ONLY + GADGET_CHAINS)
@pytest.mark.parametrize(
    "name", ["chat_template.jinja", "tool_use.jinja", "template.JINJA2", "chat_template.json"]
)
def test_expression_only_template_in_a_named_file(
    template: str, name: str, scan_bytes: Scan
) -> None:
    report = scan_bytes(template.encode(), name)  # by its name, even with no `{%` tag
    assert _python_access(report), (name, report.findings)


@pytest.mark.parametrize("template", EXPRESSION_ONLY + GADGET_CHAINS)
def test_expression_only_template_in_json_field(template: str, scan_bytes: Scan) -> None:
    for name, payload in (
        ("tokenizer_config.json", config(template)),
        ("chat_template.json", json.dumps({"chat_template": template}).encode()),
        (
            "processor.json",
            json.dumps({"chat_template": [{"name": "x", "template": template}]}).encode(),
        ),
    ):
        report = scan_bytes(payload, name)
        assert _python_access(report), (name, report.findings)
        assert all("!chat_template" in f.location for f in report.findings), report.findings


@pytest.mark.parametrize("template", EXPRESSION_ONLY + GADGET_CHAINS)
@pytest.mark.parametrize("name", ["notes.txt", "README.md", "prompt", "config.yaml"])
def test_expression_only_template_in_a_plain_named_file(
    template: str, name: str, scan_bytes: Scan
) -> None:
    text = f"# Prompt\n\nUse it like this:\n\n{template}\n\nThanks {{{{ user }}}}.\n"
    assert _python_access(scan_bytes(text.encode(), name)), name


def test_template_file_with_nul_bytes_is_still_a_template(scan_bytes: Scan) -> None:
    report = scan_bytes(EVIL_TEMPLATES[1].encode() + b"\0\0", "chat_template.jinja")
    assert _python_access(report), report.findings


def test_template_file_in_an_archive(scan_bytes: Scan) -> None:
    from tests.modelfile.zips import make_zip

    data = make_zip([("model/additional_chat_templates/tools.jinja", EVIL_TEMPLATES[0].encode())])
    report = scan_bytes(data, "model.zip")
    found = [f for f in report.findings if f.rule == "template/python-access"]
    assert found
    assert found[0].location.endswith("!model/additional_chat_templates/tools.jinja")


def test_chat_template_json_without_template_field_is_judged_whole(scan_bytes: Scan) -> None:
    payload = json.dumps({"template": EVIL_TEMPLATES[1]}).encode()
    assert _python_access(scan_bytes(payload, "chat_template.json"))
    assert scan_bytes(b'{"processor_class": "LlavaProcessor"}', "chat_template.json").findings == ()


def test_named_template_that_does_not_parse_is_reported(scan_bytes: Scan) -> None:
    assert "template/unparsed" in rules(scan_bytes(b"{{ x.__class__ ", "chat_template.jinja"))
    assert scan_bytes(b"{{ x.__class__ ", "notes.txt").findings == ()  # prose, not a template


@pytest.mark.parametrize("template", ["LLAMA2", "LLAMA3", "CHATML", "BENIGN"])
@pytest.mark.parametrize("name", ["chat_template.jinja", "chat_template.json", "notes.txt"])
def test_real_templates_stay_clean(template: str, name: str, scan_bytes: Scan) -> None:
    from tests.modelfile.benign_corpus import LLAMA2_TEMPLATE, LLAMA3_TEMPLATE

    source = {
        "LLAMA2": LLAMA2_TEMPLATE,
        "LLAMA3": LLAMA3_TEMPLATE,
        "CHATML": CHATML_TEMPLATE,
        "BENIGN": BENIGN_TEMPLATE,
    }[template]
    data = json.dumps({"chat_template": source}).encode() if name.endswith(".json") else source
    report = scan_bytes(data if isinstance(data, bytes) else data.encode(), name)
    assert worst(report) <= Severity.low, report.findings


@pytest.mark.parametrize("name", ["README.md", "notes.txt", "prompt.jinja"])
def test_placeholders_are_not_findings(name: str, scan_bytes: Scan) -> None:
    from custos.modelfile.formats.chat_template import parses

    assert parses(README_WITH_PLACEHOLDERS.decode())  # judged by the rules, not by a parse error
    report = scan_bytes(README_WITH_PLACEHOLDERS, name)
    if name.endswith(".jinja"):  # named a template: judged strictly, gadget roots reported
        assert "template/python-access" in rules(report)
    else:  # gadget roots alone (config, request, self) are no proof in a plain text
        assert report.findings == (), report.findings
        assert scan_bytes(MUSTACHE_README, name).findings == ()  # not Jinja at all


def test_json_config_with_braces_in_strings_is_quiet(scan_bytes: Scan) -> None:
    payload = json.dumps(
        {"prompt": "{{ config.name }} for {{ request }}", "suffix": "{{ user_input }}"}
    ).encode()
    assert scan_bytes(payload, "generation_config.json").findings == ()


def test_huge_template_files_are_never_passed(
    scan_bytes: Scan, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custos.modelfile.formats import text_scan

    monkeypatch.setattr(text_scan, "MAX_TEXT", 4096)
    monkeypatch.setattr(text_scan, "CHUNK", 1024)
    pad = "plain text\n" * 1000

    def too_large(data: str, name: str) -> Severity:
        report = scan_bytes(data.encode(), name)
        (hit,) = [f for f in report.findings if f.rule == "text/too-large"]
        return hit.severity

    assert too_large(pad, "chat_template.jinja") == Severity.high  # by its name alone
    assert too_large(pad + EVIL_TEMPLATES[0], "notes.txt") == Severity.high  # `{{ ...__`
    assert too_large(pad + "{{ user }}", "notes.txt") == Severity.info


def test_template_longer_than_checked_is_reported(
    scan_bytes: Scan, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custos.modelfile.formats import chat_template

    monkeypatch.setattr(chat_template, "MAX_SOURCE", 2048)
    source = "{{ messages[0]['content'] }}\n" * 200 + EVIL_TEMPLATES[1]
    assert "template/unparsed" in rules(scan_bytes(source.encode(), "chat_template.jinja"))
    assert "template/unparsed" in rules(scan_bytes(config(source), "tokenizer_config.json"))

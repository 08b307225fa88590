"""Hugging Face configs: auto_map / custom_pipelines (trust_remote_code), their modules in the
model folder, chat templates in tokenizer_config.json, and configs built to break the parser."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from custos.checks.model import Severity
from custos.modelfile.dispatch import scan_file
from custos.modelfile.formats import text_scan
from custos.modelfile.policy import Policy
from custos.modelfile.scan import scan_paths
from tests.modelfile.modeldirs import BERT_CONFIG, above_low, findings, write_json

POLICY = Policy.default()
AUTO_MAP = {
    "AutoConfig": "configuration_acme.AcmeConfig",
    "AutoModelForCausalLM": "modeling_acme.AcmeForCausalLM",
}


def test_plain_config_has_nothing_above_low(tmp_path: Path) -> None:
    write_json(tmp_path / "config.json", BERT_CONFIG)
    write_json(tmp_path / "tokenizer_config.json", {"do_lower_case": True, "model_max_length": 512})
    reports = scan_paths([tmp_path], POLICY)
    assert above_low(reports) == []
    assert {r.format for r in reports} == {"text"}


def test_auto_map_lists_classes_and_modules(tmp_path: Path) -> None:
    write_json(tmp_path / "config.json", {**BERT_CONFIG, "auto_map": AUTO_MAP})
    (tmp_path / "configuration_acme.py").write_text("class AcmeConfig: ...\n")
    (tmp_path / "modeling_acme.py").write_text("import os\n")
    reports = scan_paths([tmp_path], POLICY)
    (hit,) = findings(reports, "hf/remote-code")
    assert hit[0] == str(tmp_path / "config.json")
    for text in ("trust_remote_code", "AutoModelForCausalLM -> modeling_acme.AcmeForCausalLM",
                 "configuration_acme.py", "modeling_acme.py"):  # fmt: skip
        assert text in hit[1]
    modules = dict(findings(reports, "model-dir/python-module"))
    assert set(modules) == {
        str(tmp_path / "configuration_acme.py"),
        str(tmp_path / "modeling_acme.py"),
    }
    assert (
        "config.json module of AutoModelForCausalLM" in modules[str(tmp_path / "modeling_acme.py")]
    )
    assert findings(reports, "model-dir/missing-reference") == []
    assert {r.path.name: r.format for r in reports}["config.json"] == "hf-config"


def test_missing_module_and_other_repositories(tmp_path: Path) -> None:
    auto_map = {**AUTO_MAP, "AutoModel": "acme/base-model--modeling_base.BaseModel"}
    write_json(tmp_path / "config.json", {"auto_map": auto_map})
    (tmp_path / "configuration_acme.py").write_text("")
    reports = scan_paths([tmp_path], POLICY)
    (missing,) = findings(reports, "model-dir/missing-reference")
    assert "modeling_acme.py" in missing[1]
    (hit,) = findings(reports, "hf/remote-code")
    assert "other repositories (not scanned): acme/base-model" in hit[1]


def test_tokenizer_auto_map_pair_and_custom_pipelines(tmp_path: Path) -> None:
    write_json(
        tmp_path / "tokenizer_config.json",
        {"auto_map": {"AutoTokenizer": ["tokenization_acme.AcmeTokenizer", None]}},
    )
    write_json(tmp_path / "config.json", {"custom_pipelines": {"acme-task": {"impl": "pipe.P"}}})
    (tmp_path / "tokenization_acme.py").write_text("")
    (tmp_path / "pipe.py").write_text("")
    reports = scan_paths([tmp_path], POLICY)
    messages = " ".join(m for _, m in findings(reports, "hf/remote-code"))
    assert "AutoTokenizer -> tokenization_acme.AcmeTokenizer" in messages
    assert "pipeline acme-task -> pipe.P" in messages
    assert findings(reports, "hf/malformed") == []


def test_key_spelled_with_json_escapes_is_still_found(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"auto\\u005fmap": {"AutoModel": "modeling_x.X"}}')
    assert findings([scan_file(path, POLICY)], "hf/remote-code")


def test_module_path_escaping_the_folder(tmp_path: Path) -> None:
    path = write_json(tmp_path / "config.json", {"auto_map": {"AutoModel": "/tmp/evil.X"}})
    reports = scan_paths([tmp_path], POLICY)
    (hit,) = findings(reports, "model-dir/reference-escape")
    assert "/tmp/evil.py" in hit[1]
    assert hit[0] == str(path)


def test_chat_template_goes_through_the_template_rules(tmp_path: Path) -> None:
    evil = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
    write_json(
        tmp_path / "tokenizer_config.json",
        {
            "chat_template": [
                {"name": "default", "template": "{{ messages }}"},
                {"name": "tool_use", "template": evil},
            ],
            "auto_map": {"AutoTokenizer": ["tok.T", None]},
        },
    )
    (tmp_path / "tok.py").write_text("")
    reports = scan_paths([tmp_path], POLICY)
    critical = findings(reports, "template/python-access")
    assert critical
    assert all(loc.endswith("!chat_template[tool_use]") for loc, _ in critical)
    assert findings(reports, "hf/remote-code")


BAD_INPUT: dict[str, str] = {
    "not json": '{"auto_map": {"AutoModel": "m.X",,}',
    "auto_map a list": json.dumps({"auto_map": ["modeling_x.X"]}),
    "auto_map a string": json.dumps({"auto_map": "modeling_x.X"}),
    "value an int": json.dumps({"auto_map": {"AutoModel": 7}}),
    "pair of ints": json.dumps({"auto_map": {"AutoTokenizer": [1, 2]}}),
    "not module.Class": json.dumps({"auto_map": {"AutoModel": "modeling"}}),
    "too many dots": json.dumps({"auto_map": {"AutoModel": "a.b.C"}}),
    "pipelines a list": json.dumps({"custom_pipelines": ["x"]}),
    "impl missing": json.dumps({"custom_pipelines": {"t": {"pt": []}}}),
    "deeply nested": '{"auto_map": {"AutoModel": "m.X"}, "x": '
    + "[" * 100_000
    + "]" * 100_000
    + "}",
}


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
def test_bad_input_is_a_high_finding_never_a_crash(tmp_path: Path, name: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(BAD_INPUT[name])
    report = scan_file(path, POLICY)
    assert report.error is None, report.error
    bad = [f for f in report.findings if f.rule == "hf/malformed"]
    assert bad
    assert all(f.severity == Severity.high and f.location == str(path) for f in bad)


def test_huge_config_is_never_passed_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_scan, "MAX_TEXT", 4096)
    monkeypatch.setattr(text_scan, "CHUNK", 1024)
    path = tmp_path / "config.json"
    pad = " " * 10_000
    path.write_text('{"model_type": "x",' + pad + '"auto_map": {"AutoModel": "m.X"}}')
    (hit,) = [f for f in scan_file(path, POLICY).findings if f.rule == "text/too-large"]
    assert hit.severity == Severity.high
    assert '"auto_map"' in hit.message
    path.write_text('{"model_type": "x",' + pad + '"auto\\u005fmap": {}}')
    (hit,) = [f for f in scan_file(path, POLICY).findings if f.rule == "text/too-large"]
    assert hit.severity == Severity.high
    path.write_text("plain text\n" * 1000)
    (hit,) = [f for f in scan_file(path, POLICY).findings if f.rule == "text/too-large"]
    assert hit.severity == Severity.info


def test_random_edits_of_a_config_never_crash(tmp_path: Path) -> None:
    seed = json.dumps({"auto_map": {"AutoModel": "modeling_x.X", "AutoTokenizer": ["t.T", None]}})
    rng = random.Random(7)
    path = tmp_path / "config.json"
    for _ in range(300):
        text = list(seed)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text))
            text[at : at + rng.randint(0, 3)] = rng.choice('{}[]",:.0n\\ u-')
        data = "".join(text)
        path.write_text(data)
        report = scan_file(path, POLICY)
        assert report.error is None, report.error
        try:
            document = json.loads(data)
        except ValueError:
            continue
        if isinstance(document, dict) and document.get("auto_map", {}) != {}:  # code to run
            rules = {f.rule for f in report.findings}
            assert rules & {"hf/remote-code", "hf/malformed"}, data

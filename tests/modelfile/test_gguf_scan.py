"""GGUF: files written by the gguf library, broken headers, and chat-template injection."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from custos.checks.model import Severity
from tests.modelfile.conftest import Scan, rules, worst

gguf = pytest.importorskip("gguf")
np = pytest.importorskip("numpy")

BENIGN_TEMPLATE = (
    "{%- set ns = namespace(found=false) -%}{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + '<|im_end|>' }}"
    "{% if loop.last and add_generation_prompt %}{{ '<|im_start|>assistant' }}{% endif %}"
    "{% endfor %}"
)
EVIL_TEMPLATES = [
    "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum['__glo' ~ 'bals__']['os'].popen('id') }}",
    "{{ ''|attr('__cla' + 'ss__') }}",
    "{{ x|attr('__ssalc__'|reverse) }}",
    "{{ '{0.__class__.__mro__}'.format(x) }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
]


def write(path: Path, template: str | None, tensors: bool = True) -> bytes:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny")
    writer.add_token_list(["<s>", "{{", "{%", "hello"])
    if template is not None:
        writer.add_chat_template(template)
    if tensors:
        writer.add_tensor("w", np.ones((4, 8), dtype=np.float32))
        writer.add_tensor("b", np.zeros(8, dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


def test_real_file_with_benign_template(tmp_path: Path, scan_bytes: Scan) -> None:
    report = scan_bytes(write(tmp_path / "w.gguf", BENIGN_TEMPLATE), "model.gguf")
    assert report.format == "gguf"
    assert worst(report) <= Severity.low, report.findings


@pytest.mark.parametrize("template", EVIL_TEMPLATES)
def test_template_injection(template: str, tmp_path: Path, scan_bytes: Scan) -> None:
    report = scan_bytes(write(tmp_path / "w.gguf", template), "model.gguf")
    found = [f for f in report.findings if f.rule == "template/python-access"]
    assert found, report.findings
    assert all(f.severity == Severity.critical for f in found)
    assert found[0].location.endswith("!tokenizer.chat_template")


def test_template_in_other_key(tmp_path: Path, scan_bytes: Scan) -> None:
    writer = gguf.GGUFWriter(str(tmp_path / "w.gguf"), "llama")
    writer.add_string("tokenizer.chat_template.tool_use", EVIL_TEMPLATES[1])
    writer.add_string("general.description", "{{ joiner.__init__.__globals__ }}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    report = scan_bytes((tmp_path / "w.gguf").read_bytes(), "model.gguf")
    locations = {f.location.rsplit("!", 1)[1] for f in report.findings}
    assert {"tokenizer.chat_template.tool_use", "general.description"} <= locations


def test_unparsable_template(tmp_path: Path, scan_bytes: Scan) -> None:
    report = scan_bytes(write(tmp_path / "w.gguf", "{% for x in %}"), "model.gguf")
    assert "template/unparsed" in rules(report)


def test_truncated_and_bad_headers(tmp_path: Path, scan_bytes: Scan) -> None:
    data = write(tmp_path / "w.gguf", BENIGN_TEMPLATE)
    assert "gguf/truncated" in rules(scan_bytes(data[: len(data) - 40], "a.gguf"))
    assert "gguf/truncated" in rules(scan_bytes(data[:60], "b.gguf")) | rules(
        scan_bytes(data[:60], "b.gguf")
    )
    bad_version = data[:4] + struct.pack("<I", 9) + data[8:]
    assert "gguf/unsupported-version" in rules(scan_bytes(bad_version, "c.gguf"))
    huge = data[:8] + struct.pack("<QQ", 1 << 60, 1 << 60) + data[24:]
    assert worst(scan_bytes(huge, "d.gguf")) >= Severity.high


def test_misaligned_tensor_offset(tmp_path: Path, scan_bytes: Scan) -> None:
    data = bytearray(write(tmp_path / "w.gguf", None))
    name = data.find(b"\x01\x00\x00\x00\x00\x00\x00\x00b")  # tensor info for "b"
    offset_at = name + 9 + 4 + 8 + 4
    struct.pack_into("<Q", data, offset_at, struct.unpack_from("<Q", data, offset_at)[0] + 3)
    report = scan_bytes(bytes(data), "m.gguf")
    assert "gguf/bad-tensor" in rules(report)

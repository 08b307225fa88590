"""TensorFlow SavedModel / GraphDef protobufs (hand-built) and the ops they run."""

from __future__ import annotations

import json

from custos.checks.model import Severity
from tests.modelfile.conftest import Scan, rules, worst
from tests.modelfile.protobuf import graph, msg, node, saved_model

STANDARD = [
    node("x", "Placeholder"),
    node("w", "VariableV2"),
    node("y", "MatMul"),
    node("log", "PrintV2", output_stream="stderr"),
    node("save/SaveV2", "SaveV2"),
    node("save/RestoreV2", "RestoreV2"),
]


def test_benign_saved_model(scan_bytes: Scan) -> None:
    report = scan_bytes(saved_model(graph(STANDARD)), "saved_model.pb")
    assert report.format == "savedmodel"
    assert worst(report) <= Severity.low
    assert rules(report) <= {"savedmodel/checkpoint-op"}


def test_pyfunc_in_a_function_is_critical(scan_bytes: Scan) -> None:
    data = saved_model(graph(STANDARD, [("__inference_call_1", [node("p", "PyFunc")])]))
    report = scan_bytes(data, "saved_model.pb")
    found = [f for f in report.findings if f.rule == "savedmodel/dangerous-op"]
    assert [f.severity for f in found] == [Severity.critical]
    assert "PyFunc" in found[0].message


def test_file_and_configured_ops(scan_bytes: Scan) -> None:
    nodes = [
        *STANDARD,
        node("r", "ReadFile"),
        node("w2", "WriteFile"),
        node("p", "PrintV2", output_stream="file:///etc/cron.d/evil"),
        node("d", "DecodeProtoV2", descriptor_source="/tmp/evil.desc"),
        node("m", "ImmutableConst", memory_region_name="/etc/shadow"),
    ]
    report = scan_bytes(saved_model(graph(nodes)), "saved_model.pb")
    messages = " ".join(f.message for f in report.findings if f.rule == "savedmodel/dangerous-op")
    for op in ("ReadFile", "WriteFile", "PrintV2", "DecodeProtoV2", "ImmutableConst"):
        assert op in messages
    assert worst(report) == Severity.high


def test_frozen_graphdef(scan_bytes: Scan) -> None:
    report = scan_bytes(graph([node("x", "Placeholder"), node("p", "EagerPyFunc")]), "frozen.pb")
    assert report.format == "tf-graphdef"
    assert worst(report) == Severity.critical


def test_keras_metadata_in_object_graph(scan_bytes: Scan) -> None:
    metadata = json.dumps(
        {
            "name": "lambda",
            "class_name": "Lambda",
            "config": {"name": "lambda", "function": ["AAAA", None, None]},
        }
    )
    object_graph = msg(1, msg(4, msg(5, metadata)))
    report = scan_bytes(saved_model(graph(STANDARD), object_graph), "saved_model.pb")
    assert "keras/lambda-layer" in rules(report)


def test_truncated_saved_model(scan_bytes: Scan) -> None:
    data = saved_model(graph([*STANDARD, node("r", "ReadFile")]))
    report = scan_bytes(data[:-7], "saved_model.pb")
    assert report.format == "savedmodel"
    assert "savedmodel/malformed" in rules(report)

"""ONNX: models built with the onnx helpers; external data escapes and custom domains."""

from __future__ import annotations

import pytest

from custos.checks.model import Severity
from custos.modelfile.formats.onnx_scan import escapes
from tests.modelfile.conftest import Scan, rules, worst

onnx = pytest.importorskip("onnx")
helper = onnx.helper
TensorProto = onnx.TensorProto


def model(
    nodes: list[object],
    initializers: list[object] | None = None,
    opsets: list[object] | None = None,
) -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    graph = helper.make_graph(nodes, "g", [x], [y], initializer=initializers or [])
    built = helper.make_model(graph, opset_imports=opsets or [helper.make_opsetid("", 17)])
    return built.SerializeToString()


def external(name: str, location: str) -> object:
    tensor = helper.make_tensor(name, TensorProto.FLOAT, [2], [1.0, 2.0])
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "8")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def test_benign_model(scan_bytes: Scan) -> None:
    w = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    data = model([helper.make_node("Add", ["x", "w"], ["y"])], [w])
    report = scan_bytes(data, "model.onnx")
    assert report.format == "onnx"
    assert report.findings == ()


def test_benign_external_data_in_model_dir(scan_bytes: Scan) -> None:
    data = model([helper.make_node("Add", ["x", "w"], ["y"])], [external("w", "weights/w.bin")])
    assert worst(scan_bytes(data, "model.onnx")) <= Severity.low


@pytest.mark.parametrize(
    "location", ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "a/../../b"]
)
def test_external_data_escape(location: str, scan_bytes: Scan) -> None:
    data = model([helper.make_node("Add", ["x", "w"], ["y"])], [external("w", location)])
    report = scan_bytes(data, "weights.bin")  # the name does not matter
    assert report.format == "onnx"
    assert "onnx/external-data-escape" in rules(report)


def test_custom_domain_including_subgraphs(scan_bytes: Scan) -> None:
    inner = helper.make_graph(
        [helper.make_node("Exec", ["x"], ["z"], domain="com.evil")],
        "then",
        [],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2])],
    )
    cond = helper.make_tensor("c", TensorProto.BOOL, [], [True])
    node = helper.make_node("If", ["c"], ["y"], then_branch=inner, else_branch=inner)
    data = model([node], [cond], [helper.make_opsetid("", 17), helper.make_opsetid("com.evil", 1)])
    report = scan_bytes(data, "model.onnx")
    custom = [f for f in report.findings if f.rule == "onnx/custom-domain"]
    assert custom
    assert all(f.severity == Severity.medium for f in custom)


def test_truncated_onnx(scan_bytes: Scan) -> None:
    w = helper.make_tensor("w", TensorProto.FLOAT, [64], [1.0] * 64)
    data = model([helper.make_node("Add", ["x", "w"], ["y"])], [w])
    report = scan_bytes(data[: len(data) - 20], "model.onnx")
    assert report.format == "onnx"
    assert "onnx/malformed" in rules(report)


def test_escapes() -> None:
    for bad in ("../x", "/x", "a\\..\\..\\x", "x\0y"):
        assert escapes(bad)
    for good in ("a/b.bin", "./a/../b.bin"):
        assert not escapes(good)


@pytest.mark.parametrize(
    ("domain", "op"),
    [
        ("com.microsoft", "FusedMatMul"),
        ("com.microsoft", "Attention"),
        ("com.microsoft.nchwc", "ReorderInput"),
        ("com.microsoft.experimental", "Optional"),
        ("com.ms.internal.nhwc", "Conv"),
        ("ai.onnx.ml", "Normalizer"),
    ],
)
def test_onnxruntime_builtin_domains_are_not_custom(domain: str, op: str, scan_bytes: Scan) -> None:
    # as onnxruntime's graph optimiser writes them: the node and an opset import of the domain
    node = helper.make_node(op, ["x", "w"], ["y"], domain=domain, alpha=1.0)
    w = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(domain, 1)]
    report = scan_bytes(model([node], [w], opsets), "model_optimized.onnx")
    assert report.format == "onnx"
    assert worst(report) <= Severity.low, report.findings


@pytest.mark.parametrize(
    "domain", ["ai.onnx.contrib", "com.microsoft.extensions", "microsoft.com", "com.evil"]
)
def test_domains_needing_a_custom_op_library_stay_findings(domain: str, scan_bytes: Scan) -> None:
    node = helper.make_node("FusedMatMul", ["x", "w"], ["y"], domain=domain)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(domain, 1)]
    report = scan_bytes(model([node], None, opsets), "model.onnx")
    custom = [f for f in report.findings if f.rule == "onnx/custom-domain"]
    assert len(custom) == 1
    assert domain in custom[0].message
    assert custom[0].severity == Severity.medium

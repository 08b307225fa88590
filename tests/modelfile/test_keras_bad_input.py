"""Bad input for the Keras allow-list loader and the config walk: malformed, huge and deeply
nested data and wrong types give a finding or a clean error naming the file; never a crash,
never a silent pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custos.checks.model import Severity
from custos.errors import DataError
from custos.modelfile.context import ScanContext
from custos.modelfile.formats import keras_config
from custos.modelfile.formats.keras_config import (
    DATA,
    MAX_REPORTS,
    ConfigCheck,
    builtin_allow_list,
    check_config,
    load_allow_list,
)
from tests.modelfile.conftest import Scan, rules
from tests.modelfile.test_keras_scan import dense, keras3, keras_file
from tests.modelfile.zips import make_zip


def judge(config: object) -> ScanContext:
    ctx = ScanContext(policy=None)
    check_config(config, "model.keras!config.json", ctx)
    return ctx


def found(ctx: ScanContext) -> list[tuple[str, Severity]]:
    return [(f.rule, f.severity) for f in ctx.findings]


# --- the allow-list loader ------------------------------------------------------------------


def valid() -> dict[str, object]:
    return json.loads(DATA.read_text("utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2, 3]", "the document: expected a mapping"),
        (b'"keras"', "the document: expected a mapping"),
        (b"null", "the document: expected a mapping"),
        (b'{"format": 2}', "format: expected 1"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_loader_rejects_malformed_files(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "keras_allow.json"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_allow_list(path)
    assert str(path) in str(err.value)
    assert problem in str(err.value)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(roots="keras"), "roots: expected a list of strings"),
        (lambda d: d.update(roots=["tf_keras"]), "roots: must include 'keras'"),
        (lambda d: d.update(sources={}), "sources: empty"),
        (lambda d: d.update(sources=[1]), "sources: expected a mapping"),
        (lambda d: d["sources"]["keras"].update(objects=["Dense"]), "objects: expected a mapping"),
        (
            lambda d: d["sources"]["keras"]["objects"].update({"os": ["system"]}),
            "not a keras module",
        ),
        (
            lambda d: d["sources"]["keras"]["objects"].update({"keras.layers": [1]}),
            "list of strings",
        ),
        (lambda d: d["sources"]["keras"].update(bare=None), "bare: expected a list of strings"),
        (lambda d: d.update(gadget_names={"get_file": 3}), "mapping of names to reasons"),
        (lambda d: d.pop("python_builtins"), "python_builtins: expected a list of strings"),
    ],
)
def test_loader_rejects_wrong_shapes(tmp_path: Path, change: object, problem: str) -> None:
    data = valid()
    change(data)  # type: ignore[operator]
    path = tmp_path / "keras_allow.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_allow_list(path)
    assert str(err.value).startswith(f"{path}: "), str(err.value)
    assert problem in str(err.value)


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        load_allow_list(tmp_path / "nope.json")


def test_broken_allow_list_is_a_finding_not_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scan_bytes: Scan
) -> None:
    broken = tmp_path / "keras_allow.json"
    broken.write_text("{", encoding="utf-8")
    monkeypatch.setattr(keras_config, "DATA", broken)
    builtin_allow_list.cache_clear()
    try:
        report = scan_bytes(keras_file(keras3([dense()])), "model.keras")
    finally:
        builtin_allow_list.cache_clear()
    assert rules(report) == {"keras/unchecked"}
    assert str(broken) in report.findings[0].message
    assert report.error is not None
    assert str(broken) in report.error


def test_the_shipped_allow_list_loads_and_is_cached() -> None:
    builtin_allow_list.cache_clear()
    first = builtin_allow_list()
    assert builtin_allow_list() is first
    assert len(first.objects) > 5000


def test_scanning_other_formats_never_reads_the_allow_list(scan_bytes: Scan) -> None:
    builtin_allow_list.cache_clear()
    scan_bytes(make_zip([("data.pkl", b"\x80\x04K\x01.")]), "model.zip")
    scan_bytes(b"\x80\x04K\x01.", "model.pkl")
    assert builtin_allow_list.cache_info().currsize == 0


# --- the walk -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind"),
    [(b"[]", "list"), (b'"model"', "str"), (b"null", "null"), (b"42", "int"), (b"true", "bool")],
)
def test_config_json_that_is_not_an_object(content: bytes, kind: str, scan_bytes: Scan) -> None:
    report = scan_bytes(make_zip([("config.json", content), ("metadata.json", b"{}")]), "m.keras")
    assert [(f.rule, f.severity) for f in report.findings] == [("keras/malformed", Severity.high)]
    assert f"holds a {kind}" in report.findings[0].message


def test_config_json_nested_beyond_the_decoder(scan_bytes: Scan) -> None:
    content = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    report = scan_bytes(make_zip([("config.json", content), ("metadata.json", b"{}")]), "m.keras")
    assert rules(report) == {"keras/malformed"}
    assert report.error is None


def test_h5_config_nested_beyond_the_decoder(tmp_path: Path, scan_bytes: Scan) -> None:
    text = '{"class_name": "Sequential", "config": ' + "[" * 100_000 + "]" * 100_000 + "}"
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "b.h5", "w") as handle:
        handle.attrs["model_config"] = text
    report = scan_bytes((tmp_path / "b.h5").read_bytes(), "model.h5")
    assert rules(report) == {"keras/h5-unparsed"}
    assert report.error is None


def test_deep_python_structure_is_walked_without_recursion() -> None:
    config: object = {"module": "keras.utils", "class_name": "function", "config": "get_file"}
    for _ in range(100_000):
        config = {"class_name": "Sequential", "config": {"layers": [config]}}
    assert found(judge(config)) == [("keras/unsafe-gadget", Severity.high)]


def test_huge_strings_are_cut_in_messages() -> None:
    huge = "A" * (10 << 20)
    ctx = judge({"module": "keras.layers", "class_name": huge, "config": {"name": huge}})
    assert found(ctx) == [("keras/unknown-object", Severity.medium)]
    assert len(ctx.findings[0].message) < 400
    ctx = judge({"module": huge, "class_name": "Dense", "config": {}})
    assert found(ctx) == [("keras/custom-object", Severity.high)]
    assert len(ctx.findings[0].message) < 400


@pytest.mark.parametrize(
    "node",
    [
        {"class_name": ["Dense"], "config": {}},
        {"class_name": {"a": 1}, "config": {}},
        {"class_name": 3, "config": {}},
        {"class_name": "Dense", "module": ["keras.layers"], "config": {}},
        {"class_name": "Dense", "module": 1.5, "config": {}},
        {"class_name": "Dense", "module": "keras.layers", "registered_name": ["x"], "config": {}},
        {"class_name": "function", "module": "keras.activations", "config": {"name": "relu"}},
        {"class_name": "function", "module": "builtins", "config": None},
        {"class_name": "__typespec__", "module": "tensorflow.python.framework", "spec_name": 7},
    ],
)
def test_wrong_types_are_unknown_objects(node: dict[str, object]) -> None:
    assert found(judge({"class_name": "Sequential", "config": {"layers": [node]}})) == [
        ("keras/unknown-object", Severity.medium)
    ]


def test_null_class_name_rebuilds_nothing() -> None:
    assert judge({"class_name": None, "config": {"x": 1}}).findings == []


def test_too_many_objects_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keras_config, "MAX_NODES", 1000)
    layers = [{"module": "keras.layers", "class_name": "Dense", "config": {}}] * 5000
    ctx = judge({"module": "keras", "class_name": "Sequential", "config": {"layers": layers}})
    assert found(ctx) == [("keras/config-too-large", Severity.high)]


def test_findings_of_a_rule_are_capped_and_counted() -> None:
    layers = [obj for i in range(MAX_REPORTS + 50) for obj in [{"class_name": f"Custom{i}"}]]
    ctx = judge({"module": "keras", "class_name": "Sequential", "config": {"layers": layers}})
    assert len(ctx.findings) == MAX_REPORTS + 1
    assert ctx.findings[-1].message == "50 more keras/unknown-object findings not listed"
    assert {f.severity for f in ctx.findings} == {Severity.medium}


def test_one_check_per_file_reports_each_finding_once() -> None:
    ctx = ScanContext(policy=None)
    checker = ConfigCheck("model.h5", ctx)
    gadget = {"module": "keras.utils", "class_name": "function", "config": "get_file"}
    checker.check({"class_name": "Sequential", "config": {"layers": [gadget]}})
    checker.check({"loss": gadget})
    checker.finish()
    assert found(ctx) == [("keras/unsafe-gadget", Severity.high)]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["class_name", "module", "config", "registered_name", "spec_name", "x"]
            ),
            inner | st.sampled_from(["keras.layers", "builtins", "function", "Dense", "get_file"]),
            max_size=5,
        )
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_is_judged_without_raising(config: object) -> None:
    ctx = judge(config)
    assert all(f.severity >= Severity.medium for f in ctx.findings)

"""The red team's class: gadgets inside a trusted namespace. Configs built here, written as
`.keras` zips, HDF5 attributes (model_config and training_config), keras_metadata.pb nodes
and SavedModel object-graph metadata; each gadget is found wherever it hides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custos.checks.model import Severity
from custos.modelfile.formats.keras_config import builtin_allow_list
from tests.modelfile.conftest import Scan, rules
from tests.modelfile.protobuf import graph, msg, node, saved_model
from tests.modelfile.test_keras_scan import dense, h5, keras2, keras3, keras_file, layer
from tests.modelfile.zips import make_zip

Obj = dict[str, object]


def fn(module: str, name: str) -> Obj:
    """A function reference, as Keras 3 writes one."""
    return {"module": module, "class_name": "function", "config": name, "registered_name": name}


def obj(where: str | None, cls: str, **config: object) -> Obj:
    """A class reference; `where` None is Keras 2's form, without a module."""
    out: Obj = {"class_name": cls, "config": config}
    if where is not None:
        out |= {"module": where, "registered_name": None}
    return out


GADGETS: dict[str, tuple[Obj, Severity]] = {
    "enable-unsafe": (fn("keras.config", "enable_unsafe_deserialization"), Severity.high),
    "get-file": (fn("keras.utils", "get_file"), Severity.high),
    "get-file-internal": (fn("keras.src.utils.file_utils", "get_file"), Severity.high),
    "get-file-as-class": (
        obj("keras.utils", "get_file", origin="http://x/k", fname="/root/.ssh/authorized_keys"),
        Severity.high,
    ),
    "load-model": (fn("keras.models", "load_model"), Severity.high),
    "saving-namespace": (fn("keras.saving", "load_model"), Severity.high),
    "saving-internal": (fn("keras.src.saving.saving_api", "load_model"), Severity.high),
    "saving-any-name": (obj("keras.saving", "KerasFileEditor"), Severity.high),
    "model-from-json": (fn("keras.models", "model_from_json"), Severity.high),
    "global-state": (
        fn("keras.src.backend.common.global_state", "set_global_attribute"),
        Severity.high,
    ),
    "func-load": (fn("keras.src.utils.python_utils", "func_load"), Severity.high),
    "tf-keras-root": (fn("tf_keras.utils", "get_file"), Severity.high),
    "tensorflow-keras-root": (fn("tensorflow.keras.models", "load_model"), Severity.high),
    "builtins-eval": (fn("builtins", "eval"), Severity.high),
    "builtins-open": (fn("__builtin__", "open"), Severity.high),
    "builtins-exec-class": (obj("__builtins__", "exec"), Severity.high),
    "builtins-getattr": (fn("builtins", "getattr"), Severity.high),
    "dataset-download": (fn("keras.datasets.mnist", "load_data"), Severity.high),
    "application-download": (fn("keras.applications", "ResNet50"), Severity.high),
    "plot-model": (fn("keras.utils", "plot_model"), Severity.high),
    "image-from-directory": (fn("keras.utils", "image_dataset_from_directory"), Severity.high),
    "remote-monitor": (obj("keras.callbacks", "RemoteMonitor", root="http://x"), Severity.high),
    "tfsm-layer": (obj("keras.layers", "TFSMLayer", filepath="/tmp/model"), Severity.high),
    "torch-module-wrapper": (
        obj("keras.layers", "TorchModuleWrapper", module="UEsDB"),
        Severity.critical,
    ),
    "jax-layer": (obj("keras.layers", "JaxLayer"), Severity.high),
    "vocabulary-file": (
        obj("keras.layers", "StringLookup", name="s", vocabulary="/etc/passwd"),
        Severity.high,
    ),
    "name-that-reads-like-one": (fn("keras.src.utils.new_helpers", "download_to"), Severity.high),
    "registered-name-fallback": (
        {
            "module": "keras.layers",
            "class_name": "Nope",
            "config": {},
            "registered_name": "get_file",
        },
        Severity.high,
    ),
    "attribute-walk": (obj("keras.layers", "Dense.__init__.__globals__"), Severity.high),
    "keras2-bare-name": (obj(None, "get_file", origin="http://x/k"), Severity.high),
    "keras2-bare-deserialize": (obj(None, "deserialize_keras_object"), Severity.high),
}
UNKNOWN: dict[str, Obj] = {
    "keras-utility": fn("keras.utils", "to_categorical"),
    "keras-unknown-layer": obj("keras.layers", "NotALayer"),
    "keras-unknown-activation": fn("keras.activations", "not_an_activation"),
    "custom-function": fn("builtins", "my_loss"),
    "keras2-custom-layer": obj(None, "MyCustomLayer", units=3),
    "tf-keras-internal-unknown": obj("tf_keras.src.engine.mystery", "Thing"),
}


def found(report: object, rule: str) -> list[Severity]:
    return [f.severity for f in report.findings if f.rule == rule]  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", sorted(GADGETS))
def test_gadget_in_keras_archive(case: str, scan_bytes: Scan) -> None:
    gadget, severity = GADGETS[case]
    report = scan_bytes(keras_file(keras3([dense(), gadget])), "model.keras")
    assert found(report, "keras/unsafe-gadget") == [severity], report.findings
    assert all(f.location.endswith("!config.json") for f in report.findings)


@pytest.mark.parametrize("case", sorted(UNKNOWN))
def test_unknown_name_is_medium(case: str, scan_bytes: Scan) -> None:
    report = scan_bytes(keras_file(keras3([dense(), UNKNOWN[case]])), "model.keras")
    assert found(report, "keras/unknown-object") == [Severity.medium], report.findings
    assert rules(report) == {"keras/unknown-object"}


def test_every_gadget_name_is_off_the_allow_list() -> None:
    allow = builtin_allow_list()
    for name in allow.gadget_names:
        for module in ("keras", "keras.utils", "keras.layers", "keras.models", "builtins"):
            assert f"{module}:{name}" not in allow.objects, (module, name)
    assert "keras.layers:Lambda" not in allow.objects
    assert "keras.layers:Dense" in allow.objects
    assert "tf_keras.src.engine.functional:Functional" in allow.objects
    assert "builtins:relu" in allow.objects


GET_FILE = fn("keras.utils", "get_file")


def deep(value: object, levels: int) -> object:
    for i in range(levels):
        value = {"wrapped": [value]} if i % 2 else [value]
    return value


def test_gadget_deep_inside_a_layer_config(scan_bytes: Scan) -> None:
    init = {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": deep(GET_FILE, 200)},
        "registered_name": None,
    }
    report = scan_bytes(keras_file(keras3([layer("Dense", units=2, kernel_initializer=init)])))
    assert found(report, "keras/unsafe-gadget") == [Severity.high]


def test_gadget_in_compile_config(scan_bytes: Scan) -> None:
    config = keras3([dense()])
    compile_config = config["compile_config"]
    assert isinstance(compile_config, dict)
    compile_config["optimizer"]["config"]["learning_rate"] = fn(
        "keras.config", "enable_unsafe_deserialization"
    )
    compile_config["metrics"] = ["accuracy", fn("keras.models", "load_model")]
    report = scan_bytes(keras_file(config), "model.keras")
    messages = [f.message for f in report.findings if f.rule == "keras/unsafe-gadget"]
    assert len(messages) == 2
    assert any("enable_unsafe_deserialization" in m for m in messages)


def test_lambda_calling_a_named_keras_function(scan_bytes: Scan) -> None:
    """The shape of the published bypasses: no bytecode, a Lambda calling load_model or
    get_file with arguments from the config."""
    lam = layer(
        "Lambda",
        function=fn("keras.models", "load_model"),
        arguments={"safe_mode": False},
    )
    report = scan_bytes(keras_file(keras3([dense(), lam])), "model.keras")
    assert found(report, "keras/lambda-layer") == [Severity.critical]
    assert found(report, "keras/unsafe-gadget") == [Severity.high]


def test_gadget_in_h5_model_config(tmp_path: Path, scan_bytes: Scan) -> None:
    config = keras2([{"class_name": "Dense", "config": {"name": "d", "units": 2}}, GET_FILE])
    report = scan_bytes(h5(tmp_path / "a.h5", config), "model.h5")
    assert found(report, "keras/unsafe-gadget") == [Severity.high]


def test_gadget_in_h5_training_config(tmp_path: Path, scan_bytes: Scan) -> None:
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "a.h5"
    model = keras2([{"class_name": "Dense", "config": {"name": "d", "units": 2}}])
    training = {
        "loss": {"class_name": "CategoricalCrossentropy", "config": {"name": "cce"}},
        "metrics": ["accuracy", {"class_name": "MeanMetricWrapper", "config": {"fn": "mae"}}],
        "optimizer_config": {
            "class_name": "Custom>Adam",
            "config": {"learning_rate": {"class_name": "deserialize_keras_object", "config": {}}},
        },
    }
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(model)
        handle.attrs["training_config"] = json.dumps(training)
    report = scan_bytes(path.read_bytes(), "model.h5")
    assert found(report, "keras/unsafe-gadget") == [Severity.high], report.findings
    assert "deserialize_keras_object" in report.findings[0].message


def test_benign_h5_training_config(tmp_path: Path, scan_bytes: Scan) -> None:
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "a.h5"
    training = {
        "loss": {"class_name": "CategoricalCrossentropy", "config": {"name": "cce"}},
        "optimizer_config": {"class_name": "Custom>Adam", "config": {"learning_rate": 0.001}},
    }
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(keras2([dense()]))
        handle.attrs["training_config"] = json.dumps(training)
    assert scan_bytes(path.read_bytes(), "model.h5").findings == ()


def test_escaped_keys_in_h5_are_read_like_json_does(tmp_path: Path, scan_bytes: Scan) -> None:
    """`"class\\u005fname"` is `class_name` to json.loads (and to Keras); the byte search must not
    depend on the literal spelling."""
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "a.h5"
    text = json.dumps(keras2([fn("keras.utils", "get_file")])).replace(
        "class_name", "class\\u005fname"
    )
    assert "class_name" not in text
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = text
    report = scan_bytes(path.read_bytes(), "model.h5")
    assert found(report, "keras/unsafe-gadget") == [Severity.high], report.findings


def metadata_node(path: str, identifier: str, metadata: object, node_id: int = 1) -> bytes:
    from tests.modelfile.protobuf import num

    body = num(2, node_id) + msg(3, path) + msg(4, identifier) + msg(5, json.dumps(metadata))
    return msg(1, body)


def test_gadget_in_keras_metadata(scan_bytes: Scan) -> None:
    root = {
        "name": "model",
        "class_name": "Sequential",
        "config": {"name": "model", "layers": [{"class_name": "Dense", "config": {"units": 2}}]},
        "training_config": {"loss": "mse", "optimizer_config": GET_FILE},
    }
    layer_meta = {"class_name": "Dense", "config": {"units": 2}, "name": "dense"}
    data = metadata_node("root", "_tf_keras_sequential", root, 0) + metadata_node(
        "root.layer-0", "_tf_keras_layer", layer_meta
    )
    report = scan_bytes(data, "keras_metadata.pb")
    assert report.format == "keras-metadata"
    assert found(report, "keras/unsafe-gadget") == [Severity.high], report.findings


def test_keras_metadata_with_broken_json(scan_bytes: Scan) -> None:
    data = metadata_node("root", "_tf_keras_network", {"class_name": "Sequential"})
    data += msg(1, msg(3, "root.layer-0") + msg(4, "_tf_keras_layer") + msg(5, "{broken"))
    report = scan_bytes(data, "keras_metadata.pb")
    assert report.format == "keras-metadata"
    assert "keras/malformed" in rules(report)


def test_graphdef_is_not_mistaken_for_keras_metadata(scan_bytes: Scan) -> None:
    """A GraphDef whose first node claims a `_tf_keras` device is still a GraphDef: its ops are
    checked (a node with an op is never metadata)."""
    evil = node("r", "ReadFile") + msg(4, "_tf_keras_layer")
    report = scan_bytes(graph([evil, node("x", "Placeholder")]), "frozen.pb")
    assert report.format == "tf-graphdef"
    assert "savedmodel/dangerous-op" in rules(report)


def test_gadget_in_saved_model_object_graph(scan_bytes: Scan) -> None:
    metadata = json.dumps({"class_name": "Functional", "config": {"layers": [GET_FILE]}})
    object_graph = msg(1, msg(4, msg(5, metadata)))
    data = saved_model(graph([node("x", "Placeholder")]), object_graph)
    report = scan_bytes(data, "saved_model.pb")
    assert found(report, "keras/unsafe-gadget") == [Severity.high]


def test_custom_module_and_lambda_rules_still_hold(scan_bytes: Scan) -> None:
    layers = [
        layer("MyLayer", module="my_package.layers"),
        {**layer("Thing", module="keras.layers"), "registered_name": "evil_pkg>Thing"},
        layer("Lambda", function={"class_name": "__lambda__", "config": {"code": "AAAA"}}),
        {
            "class_name": "TFOpLambda",
            "config": {"name": "w", "function": "compat.v1.io.write_file"},
        },
        {"class_name": "TFOpLambda", "config": {"name": "k", "function": "keras.utils.get_file"}},
    ]
    report = scan_bytes(keras_file(keras3(layers)), "model.keras")
    assert found(report, "keras/custom-object") == [Severity.high, Severity.high]
    assert found(report, "keras/lambda-layer") == [Severity.critical, Severity.critical]
    assert found(report, "keras/tf-op") == [Severity.high, Severity.high]


def test_gadget_in_an_unzipped_model_directory_config(scan_bytes: Scan) -> None:
    """Keras 3 loads a directory holding config.json (the Hub layout): the file is judged on its
    own, and keys other loaders act on (an MLmodel's `flavors`) do not hide it."""
    config = keras3([dense(), GET_FILE])
    report = scan_bytes(json.dumps(config).encode(), "config.json")
    assert report.format == "keras-config"
    assert found(report, "keras/unsafe-gadget") == [Severity.high]
    report = scan_bytes(json.dumps({**config, "flavors": {}}).encode(), "config.json")
    assert found(report, "keras/unsafe-gadget") == [Severity.high]


def test_benign_standalone_config_json(scan_bytes: Scan) -> None:
    report = scan_bytes(json.dumps(keras3([dense()])).encode(), "config.json")
    assert report.format == "keras-config"
    assert report.findings == ()


def test_utf16_config_json_is_read_as_keras_reads_it(scan_bytes: Scan) -> None:
    """Keras hands config.json's bytes to json.loads, which also takes UTF-16 and UTF-32."""
    text = json.dumps(keras3([dense(), GET_FILE])).encode("utf-16")
    data = make_zip([("metadata.json", b"{}"), ("config.json", text)])
    report = scan_bytes(data, "model.keras")
    assert found(report, "keras/unsafe-gadget") == [Severity.high], report.findings


def test_a_lambda_flag_does_not_excuse_a_gadget(scan_bytes: Scan) -> None:
    """`function_type: lambda` in any object's config is reported as a Lambda, and the object is
    still judged; a Lambda class from a foreign module is still a custom object."""
    gadget = {**GET_FILE, "class_name": "get_file", "config": {"function_type": "lambda"}}
    foreign = {"module": "evil.layers", "class_name": "Lambda", "config": {"name": "l"}}
    report = scan_bytes(keras_file(keras3([dense(), gadget, foreign])), "model.keras")
    assert found(report, "keras/lambda-layer") == [Severity.critical, Severity.critical]
    assert found(report, "keras/unsafe-gadget") == [Severity.high]
    assert found(report, "keras/custom-object") == [Severity.high]

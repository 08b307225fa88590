"""Keras: .keras archives (config.json) and HDF5 .h5 files (model_config attribute)."""

from __future__ import annotations

import base64
import json
import marshal
import zipfile
from pathlib import Path

import pytest

from custos.checks.model import Severity
from tests.modelfile.conftest import Scan, rules, worst
from tests.modelfile.zips import make_zip


def layer(cls: str, module: str = "keras.layers", **config: object) -> dict[str, object]:
    return {
        "module": module,
        "class_name": cls,
        "config": {"name": cls.lower(), **config},
        "registered_name": None,
    }


def keras3(layers: list[dict[str, object]]) -> dict[str, object]:
    policy = {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "float32"},
        "registered_name": None,
    }
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "dtype": policy, "layers": layers},
        "registered_name": None,
        "compile_config": {
            "optimizer": {
                "module": "keras.optimizers",
                "class_name": "Adam",
                "config": {"learning_rate": 0.001},
                "registered_name": None,
            },
            "loss": "mse",
        },
    }


def dense() -> dict[str, object]:
    init = {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": None},
        "registered_name": None,
    }
    return layer("Dense", units=4, activation="relu", kernel_initializer=init)


def keras_file(config: dict[str, object]) -> bytes:
    return make_zip(
        [
            ("metadata.json", json.dumps({"keras_version": "3.6.0"}).encode()),
            ("config.json", json.dumps(config).encode()),
            ("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64),
        ],
        zipfile.ZIP_DEFLATED,
    )


CODE = base64.b64encode(marshal.dumps(compile("import os; os.system('id')", "x", "exec"))).decode()


def test_benign_keras(scan_bytes: Scan) -> None:
    report = scan_bytes(
        keras_file(keras3([layer("InputLayer", batch_shape=[None, 3]), dense()])), "model.keras"
    )
    assert report.format == "keras"
    assert worst(report) <= Severity.low, report.findings


def test_lambda_layer(scan_bytes: Scan) -> None:
    lam = layer("Lambda", function={"class_name": "__lambda__", "config": {"code": CODE}})
    report = scan_bytes(keras_file(keras3([dense(), lam])), "model.keras")
    found = [f for f in report.findings if f.rule == "keras/lambda-layer"]
    assert found
    assert found[0].severity == Severity.critical
    assert found[0].location.endswith("!config.json")


@pytest.mark.parametrize(
    "obj",
    [
        layer("MyLayer", module="my_package.layers"),
        layer("Dense", module="builtins"),
        {**layer("Thing", module="keras.layers"), "registered_name": "evil_pkg>Thing"},
        layer("Dense", module="keras_hub.layers"),
    ],
)
def test_custom_object(obj: dict[str, object], scan_bytes: Scan) -> None:
    report = scan_bytes(keras_file(keras3([obj])), "model.keras")
    assert "keras/custom-object" in rules(report)


def test_tf_op_lambda(scan_bytes: Scan) -> None:
    op = {"class_name": "TFOpLambda", "config": {"name": "w", "function": "io.write_file"}}
    report = scan_bytes(keras_file(keras3([op])), "model.keras")
    assert "keras/tf-op" in rules(report)


def test_broken_config_json(scan_bytes: Scan) -> None:
    data = make_zip([("config.json", b"{not json"), ("metadata.json", b"{}")])
    assert "keras/malformed" in rules(scan_bytes(data, "model.keras"))


def h5(path: Path, config: dict[str, object] | None, attribute: str = "model_config") -> bytes:
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = "2.15.0"
        if config is not None:
            handle.attrs[attribute] = json.dumps(config)
        handle.create_dataset("model_weights/dense/kernel", data=[[1.0, 2.0], [3.0, 4.0]])
    return path.read_bytes()


def keras2(layers: list[dict[str, object]]) -> dict[str, object]:
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}


def test_benign_h5(tmp_path: Path, scan_bytes: Scan) -> None:
    config = keras2([{"class_name": "Dense", "config": {"name": "dense", "units": 2}}])
    report = scan_bytes(h5(tmp_path / "a.h5", config), "model.h5")
    assert report.format == "hdf5"
    assert worst(report) <= Severity.low, report.findings


def test_lambda_in_h5(tmp_path: Path, scan_bytes: Scan) -> None:
    lam = {
        "class_name": "Lambda",
        "config": {"name": "lambda", "function": [CODE, None, None], "function_type": "lambda"},
    }
    report = scan_bytes(h5(tmp_path / "a.h5", keras2([lam])), "weights.bin")
    assert report.format == "hdf5"
    assert "keras/lambda-layer" in rules(report)


def test_h5_without_model_config(tmp_path: Path, scan_bytes: Scan) -> None:
    report = scan_bytes(h5(tmp_path / "a.h5", None), "data.h5")
    assert rules(report) == {"hdf5/unverified"}


def test_h5_with_unreadable_model_config(tmp_path: Path, scan_bytes: Scan) -> None:
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = '{"class_name: broken'
    report = scan_bytes(path.read_bytes(), "model.h5")
    assert "keras/h5-unparsed" in rules(report)

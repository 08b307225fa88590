"""Files written by real Keras, scanned with the real allow-list: nothing above low.

Keras 3 (the `keras` package of the dev extra, on the torch backend) writes `.keras`, legacy
`.h5` and weights-only files in a child process (tests/modelfile/keras3_files.py), so the test
workers never import Keras. Where keras or torch is missing the Keras 3 tests skip loudly,
except under CI=true, where that is a failure: these are the files users have, and a false
positive on them would make the gate useless.

Keras 2 files (tf_keras: HDF5 with model_config and training_config, keras_metadata.pb of a
SavedModel, tf_keras' own `.keras`) come from tests/modelfile/data/keras2, written once by
tests/modelfile/keras2_fixtures.py: TensorFlow is too large for the dev extra.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from custos.checks.model import Severity
from custos.modelfile.dispatch import scan_file
from custos.modelfile.policy import Policy
from custos.modelfile.scan import scan_paths
from tests.modelfile.conftest import worst
from tests.modelfile.protobuf import msg

ROOT = Path(__file__).resolve().parents[2]
KERAS2 = Path(__file__).parent / "data" / "keras2"
REQUIRED = os.environ.get("CI", "").lower() == "true" or bool(
    os.environ.get("CUSTOS_TEST_REQUIRE_KERAS")
)
MISSING = [m for m in ("keras", "torch") if importlib.util.find_spec(m) is None]
if MISSING and REQUIRED:
    raise ImportError(f"{' and '.join(MISSING)} not installed: the Keras real-file tests need them")


@pytest.fixture(scope="module")
def keras3_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if MISSING:
        pytest.skip(
            f"{' and '.join(MISSING)} not installed (pip install -e '.[dev,torch]'): "
            "Keras 3 real-file tests SKIPPED"
        )
    out = tmp_path_factory.mktemp("keras3")
    done = subprocess.run(
        [sys.executable, "-m", "tests.modelfile.keras3_files", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KERAS_BACKEND": "torch"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return {name: out / name for name in done.stdout.split()}


MODELS = ("functional", "sequential", "vision", "tabular")


@pytest.mark.parametrize("model", MODELS)
def test_keras3_archives_are_clean(keras3_files: dict[str, Path], model: str) -> None:
    report = scan_file(keras3_files[f"{model}.keras"], Policy.default())
    assert report.format == "keras"
    assert report.error is None
    assert worst(report) <= Severity.low, report.findings


@pytest.mark.parametrize("model", MODELS)
def test_keras3_legacy_h5_is_clean(keras3_files: dict[str, Path], model: str) -> None:
    report = scan_file(keras3_files[f"{model}.h5"], Policy.default())
    assert report.format == "hdf5"
    assert report.error is None
    assert report.findings == (), report.findings  # model_config and training_config judged


def test_keras3_unzipped_model_directory_is_clean(keras3_files: dict[str, Path]) -> None:
    config = keras3_files["functional_dir/config.json"]
    report = scan_file(config, Policy.default())
    assert report.format == "keras-config"
    assert report.findings == (), report.findings
    for report in scan_paths([config.parent], Policy.default()):
        assert report.error is None
        assert worst(report) <= Severity.low, (report.path, report.findings)


def test_keras3_weights_file_is_only_unverified(keras3_files: dict[str, Path]) -> None:
    report = scan_file(keras3_files["functional.weights.h5"], Policy.default())
    assert {f.rule for f in report.findings} == {"hdf5/unverified"}


def test_keras3_files_hold_what_the_allow_list_must_cover(keras3_files: dict[str, Path]) -> None:
    """The benign files really exercise what the allow-list must know: internal module paths,
    backend optimizers, operations, built-in functions, schedules, structural objects."""
    text = ""
    for model in MODELS:
        with zipfile.ZipFile(keras3_files[f"{model}.keras"]) as archive:
            text += archive.read("config.json").decode()
    for needle in (
        "keras.src.models.functional", "keras.src.backend.torch.optimizers", "keras.src.ops",
        '"builtins"', "keras.optimizers.schedules", "keras.regularizers", "keras.constraints",
        "__keras_tensor__", "DTypePolicy", "Bidirectional", "MultiHeadAttention",
    ):  # fmt: skip
        assert needle in text, needle


def test_every_public_keras3_class_is_on_the_allow_list(keras3_files: dict[str, Path]) -> None:
    """Each public class that builds (about 250 of Keras 3's), serialised by Keras itself, is
    judged without a finding: the allow-list is not a sample of Keras but all of it."""
    from custos.modelfile.context import ScanContext
    from custos.modelfile.formats.keras_config import check_config

    configs = json.loads(keras3_files["public_objects.json"].read_text("utf-8"))
    assert len(configs) > 200
    ctx = ScanContext(policy=None)
    for config in configs:
        check_config(config, "public_objects.json", ctx)
    leaks = {"Tokenizer"}  # a text utility with a config, not a modelling object
    assert [f.message for f in ctx.findings if not any(n in f.message for n in leaks)] == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("functional.h5", "hdf5"),
        ("sequential.h5", "hdf5"),
        ("functional.keras", "keras"),
        ("functional_metadata.pb", "keras-metadata"),
        ("sequential_metadata.pb", "keras-metadata"),
    ],
)
def test_keras2_files_are_clean(name: str, kind: str) -> None:
    report = scan_file(KERAS2 / name, Policy.default())
    assert report.format == kind
    assert report.error is None
    assert report.findings == (), report.findings


def test_keras2_metadata_is_read_not_skipped(tmp_path: Path) -> None:
    """keras_metadata.pb is parsed as Keras metadata: a gadget spliced into a real one is seen."""
    evil = {"class_name": "Sequential", "config": {"layers": [{"class_name": "get_file"}]}}
    node = msg(1, msg(3, "root.layer-9") + msg(4, "_tf_keras_layer") + msg(5, json.dumps(evil)))
    path = tmp_path / "keras_metadata.pb"
    path.write_bytes((KERAS2 / "sequential_metadata.pb").read_bytes() + node)
    report = scan_file(path, Policy.default())
    assert report.format == "keras-metadata"
    assert [f.rule for f in report.findings] == ["keras/unsafe-gadget"], report.findings

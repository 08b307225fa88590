"""The benign corpus: files written by the real libraries must scan clean (nothing above low).

Every file is generated into a temporary folder by tests/modelfile/benign_corpus.py, once per
module: torch checkpoints (optimizers, schedulers, RNG states, whole modules in both formats,
bf16/fp16/int8/quantized/sparse/nested tensors, TorchScript, torch.onnx.export), scikit-learn
pipelines through joblib (plain, compressed) and pickle (protocols 2, 4, 5), transformers
`save_pretrained` folders (each file on its own, and each folder as a directory), ONNX,
safetensors and GGUF.

A false positive on these is what makes a gate useless, so torch and transformers are required
under CI=true (like test_torch_real.py) and skipped loudly elsewhere. Canaries show a clean
report means the content was read: the pickle-based files with a policy that denies their own
names come out critical, the GGUF writer with an injected template comes out high.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from types import ModuleType

import pytest

from custos.checks.model import Severity
from custos.modelfile.detect import pickle_verdict
from custos.modelfile.dispatch import scan_file, scan_paths
from custos.modelfile.policy import Policy
from custos.modelfile.report import FileReport
from tests.modelfile import benign_corpus
from tests.modelfile.conftest import worst

REQUIRED = os.environ.get("CI", "").lower() == "true" or bool(
    os.environ.get("CUSTOS_TEST_REQUIRE_TORCH")
)


def need(module: str, hint: str) -> ModuleType:
    """The module, or a loud skip (a failure under CI=true, where it must be installed)."""
    if REQUIRED:
        return __import__(module)
    return pytest.importorskip(module, reason=f"{module} not installed ({hint}): SKIPPED")


def check_clean(report: FileReport, fmt: str | None, allowed: frozenset[str] = frozenset()) -> None:
    """No error, the expected format (None: not pinned), nothing above low but `allowed`."""
    assert report.error is None, report.error
    assert fmt is None or report.format == fmt, (report.format, report.findings)
    above = [f for f in report.findings if f.severity > Severity.low and f.rule not in allowed]
    assert not above, above


def denied(path: Path, *prefixes: str) -> Severity:
    """The worst severity with a policy that denies `prefixes` (proves the pickles were read)."""
    return worst(scan_file(path, Policy.from_entries(deny=[f"{p}.*" for p in prefixes])))


# --- torch -------------------------------------------------------------------------------

TORCH = {
    "checkpoint": "pytorch-zip",  # Adam + SGD(momentum) + schedulers + RNG states + numpy
    "checkpoint-legacy": "pytorch-legacy",
    "module-legacy": "pytorch-legacy",
    "module-recurrent": "pytorch-zip",
    "dtypes": "pytorch-zip",
    "quantized": "pytorch-zip",
    "dynamic-quantized-state": "pytorch-zip",
    "sparse": "pytorch-zip",
    "nested": "pytorch-zip",
    "fp16-state-dict": "pytorch-zip",
    "ext-lookalike-storages": "pytorch-zip",
    "safetensors-torch": "safetensors",
}


@pytest.fixture(scope="module")
def torch_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    need("torch", "pip install 'custos[torch]'")
    return benign_corpus.in_child("torch", tmp_path_factory.mktemp("torch"))


@pytest.mark.parametrize("label", sorted(TORCH))
def test_torch_file_is_clean(torch_files: dict[str, Path], label: str) -> None:
    check_clean(scan_file(torch_files[label], Policy.default()), TORCH[label])


@pytest.mark.parametrize("label", sorted(k for k, v in TORCH.items() if v != "safetensors"))
def test_torch_canary(torch_files: dict[str, Path], label: str) -> None:
    assert denied(torch_files[label], "torch") == Severity.critical


def test_torchscript_reports_only_that_it_is_torchscript(torch_files: dict[str, Path]) -> None:
    # Justified: torch.load hands the archive to torch.jit.load, which runs its code/ (medium).
    report = scan_file(torch_files["torchscript"], Policy.default())
    check_clean(report, "torchscript", allowed=frozenset({"torch/torchscript"}))
    assert worst(report) == Severity.medium


def test_torch_onnx_export_is_clean(torch_files: dict[str, Path]) -> None:
    if "torch-onnx" not in torch_files:
        pytest.skip("torch.onnx.export (TorchScript exporter) unavailable in this torch build")
    check_clean(scan_file(torch_files["torch-onnx"], Policy.default()), "onnx")


def test_legacy_module_class_ids_are_judged_as_their_class(tmp_path: Path) -> None:
    # torch's legacy loader returns the class named in ("module", class, file, source);
    # a dangerous class there is still a dangerous import and a dangerous call.
    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            return ("module", os.system, None, None) if obj is _Marker else None

    path = tmp_path / "model.pt"
    with path.open("wb") as handle:
        Pickler(handle, protocol=2).dump({"net": _Payload()})
    report = scan_file(path, Policy.default())
    critical = [f for f in report.findings if f.severity == Severity.critical]
    assert any("system" in f.message and "echo pwned" in f.message for f in critical), critical


class _Marker:
    pass


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (_Marker, ("echo pwned",))


# --- transformers ------------------------------------------------------------------------

# JSON and Jinja files: format not pinned (config files may get scanners of their own).
TRANSFORMERS: dict[str, str | None] = {
    "bert/config.json": None,
    "bert/model.safetensors": "safetensors",
    "bert/pytorch_model.bin": "pytorch-zip",
    "bert/pytorch_model-legacy.bin": "pytorch-legacy",
    "bert/tokenizer.json": None,
    "bert/tokenizer_config.json": None,  # two named chat templates inside
    "gpt2/config.json": None,
    "gpt2/generation_config.json": None,
    "gpt2/model.safetensors": "safetensors",
    "gpt2/pytorch_model.bin": "pytorch-zip",
    "gpt2/chat_template.jinja": None,
}


@pytest.fixture(scope="module")
def transformers_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    need("torch", "pip install 'custos[torch]'")
    need("transformers", "pip install 'custos[dev]'")
    return benign_corpus.in_child("transformers", tmp_path_factory.mktemp("transformers"))


@pytest.mark.parametrize("label", sorted(TRANSFORMERS))
def test_transformers_file_is_clean(transformers_files: dict[str, Path], label: str) -> None:
    check_clean(scan_file(transformers_files[label], Policy.default()), TRANSFORMERS[label])


def test_every_file_save_pretrained_writes_is_clean(transformers_files: dict[str, Path]) -> None:
    # Whatever this transformers version adds (special_tokens_map.json, ...), each on its own.
    assert set(TRANSFORMERS) <= set(transformers_files)
    for path in transformers_files.values():
        report = scan_file(path, Policy.default())
        assert worst(report) <= Severity.low, (path.name, report.findings)


def test_save_pretrained_folders_scanned_as_directories_are_clean(
    transformers_files: dict[str, Path],
) -> None:
    folders = sorted({path.parent for path in transformers_files.values()})
    reports = scan_paths(folders, Policy.default())
    assert {r.path.name for r in reports} >= {"model.safetensors", "pytorch_model.bin"}
    assert all(worst(r) <= Severity.low for r in reports), [r.findings for r in reports]


def test_transformers_canary(transformers_files: dict[str, Path]) -> None:
    for label in ("bert/pytorch_model.bin", "gpt2/pytorch_model-legacy.bin"):
        assert denied(transformers_files[label], "torch") == Severity.critical


# --- scikit-learn ------------------------------------------------------------------------

SKLEARN_MODELS = (
    "logreg",
    "forest",
    "gboost",
    "histgb",
    "mlp",
    "iforest",
    "tfidf",
    "kmeans",
    "arrays",
)
SKLEARN_FORMS = {
    "joblib": "joblib",  # uncompressed: the layout joblib.load(mmap_mode="r") maps
    "joblib-z3": "zlib",
    "joblib-xz": "lzma",
    "pickle2": "pickle",
    "pickle4": "pickle",
    "pickle5": "pickle",
}


@pytest.fixture(scope="module")
def sklearn_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return benign_corpus.write_sklearn(tmp_path_factory.mktemp("sklearn"))


@pytest.mark.parametrize("model", SKLEARN_MODELS)
@pytest.mark.parametrize("form", sorted(SKLEARN_FORMS))
def test_sklearn_file_is_clean(sklearn_files: dict[str, Path], model: str, form: str) -> None:
    path = sklearn_files[f"{model}.{form}"]
    check_clean(scan_file(path, Policy.default()), SKLEARN_FORMS[form])
    assert denied(path, "sklearn", "numpy") == Severity.critical


# --- ONNX, safetensors, GGUF -------------------------------------------------------------


@pytest.fixture(scope="module")
def other_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("formats")
    return {
        **benign_corpus.write_onnx(out),
        **benign_corpus.write_safetensors(out),
        **benign_corpus.write_gguf(out),
    }


@pytest.mark.parametrize(
    ("label", "fmt"),
    [
        ("onnx", "onnx"),
        ("onnx-external", "onnx"),
        ("onnx-external-data", "unknown"),  # raw weights: format/unknown (low) at most
        ("safetensors-numpy", "safetensors"),
        ("gguf-llama2", "gguf"),
        ("gguf-llama3", "gguf"),
    ],
)
def test_other_format_is_clean(other_files: dict[str, Path], label: str, fmt: str) -> None:
    check_clean(scan_file(other_files[label], Policy.default()), fmt)


def test_gguf_canary_template_is_read(tmp_path: Path) -> None:
    evil = benign_corpus.LLAMA3_TEMPLATE + "{{ cycler.__init__.__globals__.os.popen('id') }}"
    path = benign_corpus.write_gguf(tmp_path, {"evil": evil})["evil"]
    assert worst(scan_file(path, Policy.default())) >= Severity.high


# --- the detection rule the corpus exposed -----------------------------------------------


RAW_LOOKALIKES = [b"\x82\x70\xbb\x01", b"\x83\x70\x00\xbb", b"\x84\x10\0\0\0", b"P1\n\xbb"]


@pytest.mark.parametrize("data", RAW_LOOKALIKES)
@pytest.mark.parametrize("strict", [True, False])
def test_raw_bytes_starting_with_ext_or_persid_are_data(data: bytes, strict: bool) -> None:
    # Broken right after an EXT code or persistent id: nothing the bytes name is imported.
    assert not pickle_verdict(data, len(data), strict=strict)


def test_raw_weights_file_starting_with_ext_is_not_a_pickle(tmp_path: Path) -> None:
    # What an ONNX external-data file whose first float is 1.46 looks like.
    path = tmp_path / "model.onnx.data"
    path.write_bytes(RAW_LOOKALIKES[0] + bytes(60))
    report = scan_file(path, Policy.default())
    assert report.format != "pickle"
    assert worst(report) <= Severity.low, report.findings


@pytest.mark.parametrize(
    "data",
    [
        b"\x82\x70.",
        b"\x80\x02\x82\x70.junk",
        b"P1\n.",
        b"cos\nsystem\n\xbb",
        b"\x82\x70cos\nsystem\n\xbb",
    ],
)
@pytest.mark.parametrize("strict", [True, False])
def test_pickles_with_ext_or_globals_are_still_pickles(data: bytes, strict: bool) -> None:
    # Complete pickles (even followed by junk) and broken ones naming a global still count.
    assert pickle_verdict(data, len(data), strict=strict)


def test_broken_pickle_file_with_proto_and_ext_is_still_reported(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x02\x82\x70\xbb")
    report = scan_file(path, Policy.default())
    assert report.format == "pickle"
    assert worst(report) >= Severity.high

"""The benign corpus: files written by the real libraries must scan clean (nothing above low).

Every file is generated into a temporary folder by tests/modelfile/benign_corpus.py, once per
module: torch checkpoints (optimizers, schedulers, RNG states, whole modules in both formats,
bf16/fp16/int8/quantized/sparse/nested tensors, TorchScript, torch.onnx.export), scikit-learn
pipelines through joblib (plain, compressed) and pickle (protocols 2, 4, 5), transformers
`save_pretrained` folders (each file on its own, and each folder as a directory), the
`checkpoint-N/` folders of a real two-step `transformers.Trainer` run (training_args.bin,
optimizer.pt, scheduler.pt, rng_state.pth, trainer_state.json, model and tokenizer), ONNX,
safetensors and GGUF.

A false positive on these is what makes a gate useless, so torch and transformers are required
under CI=true (like test_torch_real.py) and skipped loudly elsewhere. Canaries show a clean
report means the content was read: the pickle-based files with a policy that denies their own
names come out critical, the GGUF writer with an injected template comes out high, and a
training_args.bin forged to call a gadget next to its allow-listed classes is still caught.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
import shutil
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from custos.checks.model import Severity
from custos.modelfile.detect import pickle_verdict
from custos.modelfile.dispatch import scan_file
from custos.modelfile.policy import RULE_UNKNOWN, Policy, builtin_knowledge
from custos.modelfile.report import FileReport
from custos.modelfile.scan import scan_paths
from tests.modelfile import benign_corpus
from tests.modelfile.conftest import worst
from tests.modelfile.picklegen import bu, call, glob

REQUIRED = os.environ.get("CI", "").lower() == "true" or bool(
    os.environ.get("CUSTOS_TEST_REQUIRE_TORCH")
)


def need(module: str, hint: str) -> ModuleType:
    """The module, or a loud skip (a failure under CI=true, where it must be installed)."""
    if REQUIRED:
        return __import__(module)
    return pytest.importorskip(module, reason=f"{module} not installed ({hint}): SKIPPED")


def skip_or_fail(reason: str) -> None:
    """A loud skip, or a failure under CI=true, where every writer must be installed."""
    if REQUIRED:
        pytest.fail(f"{reason}: required under CI")
    pytest.skip(f"{reason}: SKIPPED")


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
        skip_or_fail("torch.onnx.export (TorchScript exporter) unavailable in this torch build")
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


# --- transformers.Trainer checkpoints ----------------------------------------------------

# What Trainer._save_checkpoint writes into checkpoint-N/ (the tokenizer's files too).
TRAINER: dict[str, str | None] = {
    "training_args.bin": "pytorch-zip",  # TrainingArguments, its enums, AcceleratorConfig, ...
    "optimizer.pt": "pytorch-zip",
    "scheduler.pt": "pytorch-zip",
    "rng_state.pth": "pytorch-zip",  # python, numpy and torch RNG states
    "model.safetensors": "safetensors",
    "config.json": None,
    "trainer_state.json": None,
    "tokenizer.json": None,
    "tokenizer_config.json": None,
}
# The built-in allow-list's only transformers/accelerate names (data/policy.yaml says why each
# is plain data); the two training_args.bin files of the corpus import every one of them.
TRAINER_ALLOWED = {
    "transformers.training_args.TrainingArguments",
    "transformers.training_args.OptimizerNames",
    "transformers.training_args_seq2seq.Seq2SeqTrainingArguments",
    "transformers.trainer_utils.IntervalStrategy",
    "transformers.trainer_utils.SaveStrategy",
    "transformers.trainer_utils.HubStrategy",
    "transformers.trainer_utils.SchedulerType",
    "transformers.trainer_utils.FSDPOption",
    "transformers.debug_utils.DebugOption",
    "transformers.trainer_pt_utils.AcceleratorConfig",
    "accelerate.state.PartialState",
    "accelerate.utils.dataclasses.DistributedType",
}
ARGS = "checkpoint-2/training_args.bin"


@pytest.fixture(scope="module")
def trainer_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    need("torch", "pip install 'custos[torch]'")
    need("transformers", "pip install 'custos[dev]'")
    need("accelerate", "pip install 'custos[dev]'")
    return benign_corpus.in_child("trainer", tmp_path_factory.mktemp("trainer"))


@pytest.mark.parametrize("name", sorted(TRAINER))
def test_trainer_checkpoint_file_is_clean(trainer_files: dict[str, Path], name: str) -> None:
    check_clean(scan_file(trainer_files[f"checkpoint-2/{name}"], Policy.default()), TRAINER[name])


def test_every_file_trainer_writes_is_clean(trainer_files: dict[str, Path]) -> None:
    # Both checkpoints, whatever else this transformers version writes, and Seq2SeqTrainer's
    # training_args.bin (debug options, a transformers-4-style fsdp list).
    assert {f"checkpoint-{n}/{name}" for n in (1, 2) for name in TRAINER} <= set(trainer_files)
    for label, path in trainer_files.items():
        report = scan_file(path, Policy.default())
        assert report.error is None, (label, report.error)
        assert worst(report) <= Severity.low, (label, report.findings)


def test_trainer_output_folder_scanned_as_directory_is_clean(
    trainer_files: dict[str, Path],
) -> None:
    run = trainer_files[ARGS].parent.parent  # output_dir, holding checkpoint-1/ and -2/
    reports = scan_paths([run], Policy.default())
    assert {r.path.relative_to(run).as_posix() for r in reports} >= {
        label for label in trainer_files if label.startswith("checkpoint-")
    }
    assert all(worst(r) <= Severity.low for r in reports), [(r.path, r.findings) for r in reports]


def pickle_globals(path: Path) -> set[str]:
    """The names a torch archive's data.pkl imports (read with pickletools, never loaded)."""
    with zipfile.ZipFile(path) as archive:
        data = archive.read(next(n for n in archive.namelist() if n.endswith("/data.pkl")))
    return {
        str(arg).replace(" ", ".") for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"
    }


def test_trainer_allow_list_is_exactly_the_classes_training_args_use(
    trainer_files: dict[str, Path],
) -> None:
    listed = {n for n in builtin_knowledge().allow if n.startswith(("transformers", "accelerate"))}
    assert listed == TRAINER_ALLOWED
    seen = pickle_globals(trainer_files[ARGS]) | pickle_globals(
        trainer_files["seq2seq/training_args.bin"]
    )
    assert {n for n in seen if n.startswith(("transformers.", "accelerate."))} == TRAINER_ALLOWED


@pytest.mark.parametrize("prefix", ["transformers", "accelerate"])
def test_trainer_canary(trainer_files: dict[str, Path], prefix: str) -> None:
    for label in (ARGS, "seq2seq/training_args.bin"):
        assert denied(trainer_files[label], prefix) == Severity.critical


def forge(real: Path, out: Path, key: str, value: bytes) -> Path:
    """`real` (a torch archive of TrainingArguments) with one more attribute, `key` = `value`,
    in the state dict BUILD restores: the real allow-listed classes all around the payload."""
    with zipfile.ZipFile(real) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/data.pkl"):
                assert data.endswith(b"ub."), data[-8:]  # SETITEMS, BUILD, STOP
                data = data[:-3] + bu(key) + value + b"ub."
                pickletools.dis(data, out=io.StringIO())  # still a well-formed pickle
            dst.writestr(info, data)
    return out


FORGED = {
    "os.system": call(glob("os", "system"), bu("echo pwned")),
    "cached_file": call(
        glob("transformers.utils.hub", "cached_file"), bu("attacker/repo"), bu("payload.py")
    ),
    "cached_file-reexport": call(
        glob("transformers.utils", "cached_file"), bu("attacker/repo"), bu("payload.py")
    ),
    "get_class_from_dynamic_module": call(
        glob("transformers.dynamic_module_utils", "get_class_from_dynamic_module"),
        bu("payload.Evil"),
        bu("attacker/repo"),
    ),
    "pipeline": call(glob("transformers", "pipeline"), bu("text-generation"), bu("attacker/m")),
}


@pytest.mark.parametrize("case", sorted(FORGED))
def test_forged_training_args_is_caught(
    trainer_files: dict[str, Path], tmp_path: Path, case: str
) -> None:
    path = forge(trainer_files[ARGS], tmp_path / "training_args.bin", "hub_model_id", FORGED[case])
    report = scan_file(path, Policy.default())
    assert report.format == "pytorch-zip"
    name = case.removesuffix("-reexport").rsplit(".", 1)[-1]
    caught = [f for f in report.findings if f.severity >= Severity.high and name in f.message]
    assert caught, report.findings


def test_unlisted_transformers_name_in_training_args_is_not_allowed(
    trainer_files: dict[str, Path], tmp_path: Path
) -> None:
    # No transformers.* wildcard: a harmless-looking name off the list is still reported.
    payload = call(glob("transformers.trainer_utils", "get_last_checkpoint"), bu("/"))
    path = forge(trainer_files[ARGS], tmp_path / "training_args.bin", "output_dir", payload)
    report = scan_file(path, Policy.default())
    unknown = [f for f in report.findings if f.rule == RULE_UNKNOWN]
    assert [f.severity for f in unknown] == [Severity.medium], report.findings
    assert "get_last_checkpoint" in unknown[0].message


def test_forged_training_args_in_a_checkpoint_folder_is_caught(
    trainer_files: dict[str, Path], tmp_path: Path
) -> None:
    folder = shutil.copytree(trainer_files[ARGS].parent, tmp_path / "checkpoint-2")
    forge(trainer_files[ARGS], folder / "training_args.bin", "hub_model_id", FORGED["os.system"])
    reports = {r.path.name: r for r in scan_paths([folder], Policy.default())}
    assert worst(reports["training_args.bin"]) == Severity.critical
    assert all(worst(r) <= Severity.low for n, r in reports.items() if n != "training_args.bin")


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


# --- object arrays, protected archives, files that are not models ---------------------


@pytest.fixture(scope="module")
def documented_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("documented")
    need("numpy", "pip install numpy")
    return {
        **benign_corpus.write_numpy_objects(out),
        **benign_corpus.write_protected(out),
        **benign_corpus.write_not_models(out),
    }


DOCUMENTED = {  # label -> (format, the one rule, its severity): each class's documented verdict
    "npy-object-strings": ("npy", "npy/object-array-numpy-only", Severity.low),
    "npy-object-ints": ("npy", "npy/object-array-numpy-only", Severity.low),
    "npy-object-nested": ("npy", "npy/object-array-numpy-only", Severity.low),
    "npz-object": ("npz", "npy/object-array-numpy-only", Severity.low),
    "zip-zipcrypto": ("zip", "zip/encrypted-member", Severity.medium),
    "zip-aes": ("zip", "zip/encrypted-member", Severity.medium),
    "7z-password": ("7z", "7z/encrypted", Severity.medium),
    "png-as-model.pt": ("png", "format/not-a-model", Severity.low),
    "jpeg-as-pytorch_model.bin": ("jpeg", "format/not-a-model", Severity.low),
    "pdf-as-model.pkl": ("pdf", "format/not-a-model", Severity.low),
}


@pytest.mark.parametrize("label", sorted(DOCUMENTED))
def test_documented_verdict_not_a_false_high(documented_files: dict[str, Path], label: str) -> None:
    if label not in documented_files:
        skip_or_fail(f"{label}: its writer is not installed (py7zr)")
    fmt, rule_id, severity = DOCUMENTED[label]
    report = scan_file(documented_files[label], Policy.default())
    assert report.format == fmt
    assert report.error is None
    assert {f.rule for f in report.findings} == {rule_id}, report.findings
    assert worst(report) == severity


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

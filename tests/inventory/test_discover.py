"""Discovery on real trees: model files by content, datasets, code, notebooks, logs; and limits."""

from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from custos.errors import UserError
from custos.inventory import discover as discover_module
from custos.inventory.discover import Discovered, discover, scan_tree
from tests.inventory import artifacts as a


def found_map(root: Path) -> dict[str, tuple[str, str]]:
    return {d.path: (d.kind, d.format) for d in discover(root)}


def test_realistic_repository(tmp_path: Path) -> None:
    a.build_repo(tmp_path)
    assert found_map(tmp_path) == {
        "Dockerfile": ("dockerfile", "dockerfile"),
        "data/transactions.csv": ("dataset", "csv"),
        "logs/access.log": ("log_source", "access-log"),
        "models/classifier.pkl": ("model", "pickle"),
        "models/encoder.safetensors": ("model", "safetensors"),
        "models/llm.gguf": ("model", "gguf"),
        "models/resnet.pt": ("model", "pytorch-zip"),
        "models/scaler.npy": ("model", "numpy"),
        "notebooks/explore.ipynb": ("notebook", "notebook"),
        "serving/app.py": ("endpoint", "fastapi"),
        "train.py": ("pipeline", "python"),
    }


def test_output_is_sorted_deterministic_and_explained(tmp_path: Path) -> None:
    a.build_repo(tmp_path)
    first = discover(tmp_path)
    assert first == discover(tmp_path)
    assert [d.path for d in first] == sorted(d.path for d in first)
    assert all(isinstance(d, Discovered) and d.reason.endswith(".") for d in first)
    assert next(d for d in first if d.path == "models/classifier.pkl").reason == (
        "Python pickle stream (protocol 4)."
    )


@pytest.mark.parametrize(
    ("name", "data", "fmt"),
    [
        ("weights.bin", a.safetensors_bytes(), "safetensors"),
        ("checkpoint.dat", a.pickled(2), "pickle"),
        ("protocol5", a.pickled(5), "pickle"),
        ("model.h5", a.hdf5_bytes(), "hdf5"),
        ("model.tflite", a.tflite_bytes(), "tflite"),
        ("model.onnx", a.onnx_bytes(), "onnx"),
        ("clf.joblib", a.pickled(4), "joblib"),
        ("clf.pkl.z", a.zlib_joblib(), "joblib"),
        ("clf.pkl.gz", a.gzip_joblib(), "joblib"),
        ("clf.pkl.xz", a.xz_joblib(), "joblib"),
        ("legacy.pkl", pickle.dumps(a.WEIGHTS, protocol=0), "pickle"),
        ("legacy.pt", pickle.dumps(a.WEIGHTS, protocol=1), "pickle"),
    ],
)
def test_model_formats_by_content(tmp_path: Path, name: str, data: bytes, fmt: str) -> None:
    a.write(tmp_path / name, data)
    assert found_map(tmp_path) == {name: ("model", fmt)}


def test_a_model_with_a_text_name_is_found(tmp_path: Path) -> None:
    a.write(tmp_path / "notes.txt", a.pickled(4))
    a.write(tmp_path / "readme.md", a.safetensors_bytes())
    assert found_map(tmp_path) == {
        "notes.txt": ("model", "pickle"),
        "readme.md": ("model", "safetensors"),
    }


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("fake.pkl", b"this is not a pickle, just text\n"),
        ("model.pkl", b"(just a parenthesis and words\n"),
        ("junk.bin", b"\x80\x02\xff\xfe\xfd garbage after a PROTO-like start"),
        ("protocol0.txt", pickle.dumps(a.WEIGHTS, protocol=0)),  # no magic, no model suffix
        ("model.onnx", b"ONNX is what this text is about\n"),
        ("onnx.bin", a.onnx_bytes()),  # protobuf bytes are only trusted under .onnx
        ("bad.safetensors", struct.pack("<Q", 10**12) + b'{"weight": {}}'),
        ("numbers.csv", "1,2,3\n4,5,6\n"),
        ("empty.csv", ""),
        ("docs.zip", b""),
        ("notes.txt", "plain notes about the project\n"),
        ("helpers.py", "def add(a, b):\n    return a + b\n"),
        ("not-a-notebook.ipynb", "hello"),
        ("server.log", "2026-11-12 server started\n2026-11-12 ready\n"),
        ("text.gz", b"\x1f\x8b but not really gzip"),
        ("x-file", b"x\x9cnot zlib at all"),
    ],
)
def test_lookalikes_are_not_artifacts(tmp_path: Path, name: str, data: bytes | str) -> None:
    if name == "docs.zip":
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            archive.writestr("docs/readme.txt", "hello")
            archive.writestr("docs/data.pkl.txt", "not a torch archive")
    else:
        a.write(tmp_path / name, data)
    assert discover(tmp_path) == []


def test_zip_model_formats(tmp_path: Path) -> None:
    a.torch_zip(tmp_path / "pytorch_model.bin")
    a.keras_zip(tmp_path / "model.keras")
    with zipfile.ZipFile(tmp_path / "arrays.npz", "w") as archive:
        archive.writestr("w.npy", a.npy_bytes())
        archive.writestr("b.npy", a.npy_bytes())
    assert found_map(tmp_path) == {
        "arrays.npz": ("model", "numpy"),
        "model.keras": ("model", "keras"),
        "pytorch_model.bin": ("model", "pytorch-zip"),
    }


def test_zip64_torch_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Lower zipfile's limits so it writes the zip64 records that >4 GiB checkpoints carry.
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 16)
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    path = a.torch_zip(tmp_path / "big.pt", tensors=3)
    monkeypatch.undo()
    assert b"PK\x06\x06" in path.read_bytes()  # the zip64 end-of-directory record
    assert found_map(tmp_path) == {"big.pt": ("model", "pytorch-zip")}


def test_savedmodel_directory_is_one_artifact(tmp_path: Path) -> None:
    sm = tmp_path / "export" / "1"
    a.write(sm / "saved_model.pb", b"\x08\x01\x12\x40" + bytes(64))
    a.write(sm / "variables" / "variables.index", b"\x00\x01index")
    a.write(sm / "variables" / "variables.data-00000-of-00001", a.pickled(4))
    a.write(tmp_path / "fake_sm" / "saved_model.pb", "not a protobuf\n")
    assert found_map(tmp_path) == {"export/1": ("model", "savedmodel")}


def test_datasets(tmp_path: Path) -> None:
    a.write(tmp_path / "d" / "people.tsv", "name\tage\nAnn\t31\n")
    a.write(tmp_path / "d" / "semi.csv", "\ufeffid;email\n1;a@example.com\n")
    a.write(tmp_path / "d" / "one.csv", "text\nhello\n")
    a.write(tmp_path / "d" / "train.parquet", a.parquet_bytes())
    a.write(tmp_path / "d" / "records.jsonl", '{"x": 1, "y": 0}\n{"x": 2, "y": 1}\n')
    a.write(tmp_path / "d" / "table.arrow", b"ARROW1\x00\x00" + bytes(32))
    a.write(tmp_path / "d" / "hf.arrow", b"\xff\xff\xff\xff" + bytes(32))
    a.write(tmp_path / "d" / "train.tfrecord", struct.pack("<QI", 4, 0) + b"abcd" + bytes(4))
    assert found_map(tmp_path) == {
        "d/hf.arrow": ("dataset", "arrow"),
        "d/one.csv": ("dataset", "csv"),
        "d/people.tsv": ("dataset", "tsv"),
        "d/records.jsonl": ("dataset", "jsonl"),
        "d/semi.csv": ("dataset", "csv"),
        "d/table.arrow": ("dataset", "arrow"),
        "d/train.parquet": ("dataset", "parquet"),
        "d/train.tfrecord": ("dataset", "tfrecord"),
    }


def test_serving_code_and_pipelines(tmp_path: Path) -> None:
    a.write(tmp_path / "api" / "main.py", a.FASTAPI_APP)
    a.write(tmp_path / "api" / "legacy.py", a.FLASK_APP)
    a.write(tmp_path / "api" / "routes.py", "@router.get('/items')\ndef items(): ...\n")
    a.write(tmp_path / "api" / "bp.py", "@bp.route('/x')\ndef x(): ...\n")
    a.write(tmp_path / "pipelines" / "train_hf.py", "trainer = Trainer(model=m)\n")
    a.write(tmp_path / "dags" / "retrain.py", "from airflow import DAG\ndag = DAG('retrain')\n")
    a.write(tmp_path / "pipelines" / "loop.py", "for x, y in batches:\n    loss(x, y).backward()\n")
    a.write(tmp_path / "scripts" / "run.py", "import tasks\ntasks.load('x').train(data)\n")
    a.write(tmp_path / "dvc.yaml", "stages:\n  train:\n    cmd: python train.py\n")
    a.write(tmp_path / "MLproject", "name: fraud\n")
    a.write(tmp_path / "tests" / "test_api.py", a.FASTAPI_APP)  # tests are not the system
    a.write(tmp_path / "api" / "test_main.py", a.TRAIN_SCRIPT)
    a.write(tmp_path / "deploy" / "gpu.Dockerfile", "FROM nvidia/cuda\n")
    a.write(tmp_path / "Containerfile", "FROM fedora\n")
    assert found_map(tmp_path) == {
        "Containerfile": ("dockerfile", "dockerfile"),
        "MLproject": ("pipeline", "mlflow"),
        "api/bp.py": ("endpoint", "flask"),
        "api/legacy.py": ("endpoint", "flask"),
        "api/main.py": ("endpoint", "fastapi"),
        "api/routes.py": ("endpoint", "fastapi"),
        "dags/retrain.py": ("pipeline", "airflow"),
        "deploy/gpu.Dockerfile": ("dockerfile", "dockerfile"),
        "dvc.yaml": ("pipeline", "dvc"),
        "pipelines/loop.py": ("pipeline", "python"),
        "pipelines/train_hf.py": ("pipeline", "python"),
    }  # scripts/run.py calls some .train() but shows no sign of training a model


def test_access_logs(tmp_path: Path) -> None:
    a.write(tmp_path / "logs" / "requests.jsonl", a.JSON_ACCESS_LOG)  # a log, not a dataset
    a.write(tmp_path / "logs" / "nginx" / "access", a.ACCESS_LOG)  # no suffix, under logs/
    uvicorn = 'INFO:     Started server\nINFO:     10.0.0.1:5000 - "POST /score HTTP/1.1" 200 OK\n'
    a.write(tmp_path / "uvicorn.log", uvicorn)
    a.write(tmp_path / "elsewhere" / "access", a.ACCESS_LOG)  # neither *.log nor under logs/
    assert found_map(tmp_path) == {
        "logs/nginx/access": ("log_source", "access-log"),
        "logs/requests.jsonl": ("log_source", "access-log"),
        "uvicorn.log": ("log_source", "access-log"),
    }


def test_skipped_directories(tmp_path: Path) -> None:
    for folder in (".git/objects", ".venv/lib", "node_modules/x", "__pycache__", ".custos"):
        a.write(tmp_path / folder / "model.pkl", a.pickled(4))
    a.write(tmp_path / "lib" / "python3.11" / "site-packages" / "pkg" / "m.pkl", a.pickled(4))
    a.write(tmp_path / "kept" / "model.pkl", a.pickled(4))
    assert found_map(tmp_path) == {"kept/model.pkl": ("model", "pickle")}


def test_symlinks_outside_root_are_not_followed(tmp_path: Path) -> None:
    outside = a.write(tmp_path / "outside" / "secret.pkl", a.pickled(4))
    a.write(tmp_path / "outside" / "more" / "other.pkl", a.pickled(4))
    root = tmp_path / "repo"
    inside = a.write(root / "models" / "real.pkl", a.pickled(4))
    (root / "escape.pkl").symlink_to(outside)
    (root / "linked-dir").symlink_to(tmp_path / "outside" / "more", target_is_directory=True)
    (root / "alias.pkl").symlink_to(inside)
    assert found_map(root) == {
        "alias.pkl": ("model", "pickle"),
        "models/real.pkl": ("model", "pickle"),
    }


def test_special_files_do_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.pkl")
    a.write(tmp_path / "m.pkl", a.pickled(4))
    assert found_map(tmp_path) == {"m.pkl": ("model", "pickle")}


def test_file_budget_truncates_deterministically(tmp_path: Path) -> None:
    for index in range(10):
        a.write(tmp_path / f"m{index}.pkl", a.pickled(4))
    result = scan_tree(tmp_path, max_files=4)
    assert result.truncated
    assert result.files_seen == 4
    assert [d.path for d in result.found] == ["m0.pkl", "m1.pkl", "m2.pkl", "m3.pkl"]
    full = scan_tree(tmp_path)
    assert not full.truncated
    assert len(full.found) == 10


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a directory"):
        discover(tmp_path / "missing")


class _Counting(io.BufferedIOBase):
    """Wraps a file and counts the bytes read through it."""

    def __init__(self, inner: Any, counts: dict[str, int], key: str) -> None:
        self.inner, self.counts, self.key = inner, counts, key

    def read(self, size: int | None = -1) -> bytes:
        data: bytes = self.inner.read(size)
        self.counts[self.key] = self.counts.get(self.key, 0) + len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        position: int = self.inner.seek(offset, whence)
        return position

    def close(self) -> None:
        self.inner.close()
        super().close()


def test_reads_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a.write(tmp_path / "big.pkl", a.pickled(4) + os.urandom(2_000_000))
    a.write(tmp_path / "big.csv", "a,b\n" + "1,2\n" * 500_000)
    a.write(tmp_path / "big.log", a.ACCESS_LOG * 20_000)
    a.torch_zip(tmp_path / "many.pt", tensors=3000)  # central directory far beyond 64 KiB
    counts: dict[str, int] = {}
    real_open = Path.open

    def counting_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)
        return _Counting(handle, counts, self.name) if "b" in mode else handle

    monkeypatch.setattr(Path, "open", counting_open)
    found = discover_module.discover(tmp_path)
    assert {d.path for d in found} == {"big.pkl", "big.csv", "big.log", "many.pt"}
    assert counts.keys() == {"big.pkl", "big.csv", "big.log", "many.pt"}
    assert max(counts.values()) <= 68 * 1024, counts

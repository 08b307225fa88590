"""Real artifact bytes for discovery tests, built the way the real tools lay them out."""

from __future__ import annotations

import gzip
import json
import lzma
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

WEIGHTS = {"layer1": [0.25, -1.5, 3.0], "bias": 0.1, "classes": ["legit", "fraud"]}


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def pickled(protocol: int = 4) -> bytes:
    return pickle.dumps(WEIGHTS, protocol=protocol)


def torch_zip(path: Path, tensors: int = 1) -> Path:
    """The PyTorch zip layout: <stem>/data.pkl first, tensor storages, <stem>/version last."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = path.stem
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{prefix}/data.pkl", pickled(2))
        archive.writestr(f"{prefix}/byteorder", "little")
        for index in range(tensors):
            archive.writestr(f"{prefix}/data/{index}", struct.pack("<4f", 1, 2, 3, 4))
        archive.writestr(f"{prefix}/version", "3\n")
    return path


def keras_zip(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.3.3"}))
        archive.writestr("config.json", json.dumps({"class_name": "Sequential"}))
        archive.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + bytes(64))
    return path


def safetensors_bytes() -> bytes:
    data = struct.pack("<4f", 0.5, 1.5, 2.5, 3.5)
    header = {
        "__metadata__": {"format": "pt"},
        "weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, len(data)]},
    }
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes
    return struct.pack("<Q", len(raw)) + raw + data


def gguf_bytes() -> bytes:
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 0) + bytes(32)


def hdf5_bytes() -> bytes:
    return b"\x89HDF\r\n\x1a\n" + bytes([0, 0, 0, 0, 0, 8, 8, 0]) + bytes(200)


def npy_bytes() -> bytes:
    """A NumPy 1.0 .npy file holding float64 [1, 2, 3], header padded to 64 bytes."""
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"
    header += " " * (64 - 10 - len(header) - 1) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()


def onnx_bytes() -> bytes:
    producer = b"pytorch"
    return b"\x08\x08\x12" + bytes([len(producer)]) + producer + b"\x1a\x032.3" + bytes(16)


def tflite_bytes() -> bytes:
    return struct.pack("<I", 28) + b"TFL3" + bytes(40)


def zlib_joblib() -> bytes:
    return zlib.compress(pickled(4), 3)


def gzip_joblib() -> bytes:
    return gzip.compress(pickled(4))


def xz_joblib() -> bytes:
    return lzma.compress(pickled(4), format=lzma.FORMAT_XZ)


def parquet_bytes() -> bytes:
    return b"PAR1" + bytes(40) + struct.pack("<I", 0) + b"PAR1"


FASTAPI_APP = """\
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="fraud scoring")


class Transaction(BaseModel):
    amount: float


@app.post("/score")
def score(tx: Transaction) -> dict[str, float]:
    return {"fraud_probability": 0.1}
"""

FLASK_APP = """\
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/predict", methods=["POST"])
def predict():
    return jsonify(score=0.2)
"""

TRAIN_SCRIPT = """\
from sklearn.linear_model import LogisticRegression

def main(features, labels):
    model = LogisticRegression(max_iter=200)
    model.fit(features, labels)
    return model
"""

NOTEBOOK = json.dumps(
    {
        "cells": [{"cell_type": "code", "source": ["import pandas as pd"], "metadata": {}}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
)

ACCESS_LOG = (
    '10.0.0.7 - - [12/Nov/2026:10:01:02 +0000] "POST /score HTTP/1.1" 200 83 "-" "python-httpx"\n'
    '10.0.0.9 - - [12/Nov/2026:10:01:03 +0000] "GET /health HTTP/1.1" 200 2 "-" "curl/8.5"\n'
)
JSON_ACCESS_LOG = (
    json.dumps({"ts": "2026-11-12T10:01:02Z", "method": "POST", "path": "/score", "status": 200})
    + "\n"
)


def build_repo(root: Path) -> Path:
    """A small but realistic ML repository with one artifact of each kind discovery knows."""
    write(root / "models" / "classifier.pkl", pickled(4))
    torch_zip(root / "models" / "resnet.pt")
    write(root / "models" / "encoder.safetensors", safetensors_bytes())
    write(root / "models" / "llm.gguf", gguf_bytes())
    write(root / "models" / "scaler.npy", npy_bytes())
    write(root / "data" / "transactions.csv", "tx_id,amount,card_holder\n1,12.5,Ann Lee\n")
    write(root / "serving" / "app.py", FASTAPI_APP)
    write(root / "train.py", TRAIN_SCRIPT)
    write(root / "notebooks" / "explore.ipynb", NOTEBOOK)
    write(root / "Dockerfile", "FROM python:3.11-slim\nCOPY serving /app\n")
    write(root / "logs" / "access.log", ACCESS_LOG)
    write(root / "README.md", "# Fraud scoring\n")
    return root

"""Model directories written by the tests: MLflow models and Hugging Face configs.

The MLmodel files follow what MLflow's `save_model` writes (yaml.safe_dump of the model's dict);
the configs follow what transformers' `save_pretrained` writes. Everything is generated here,
nothing malicious is committed, and nothing is ever loaded.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import yaml

from custos.checks.model import Severity
from custos.modelfile.report import FileReport

SKLEARN_MLMODEL: dict[str, Any] = {
    "artifact_path": "model",
    "flavors": {
        "python_function": {
            "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
            "loader_module": "mlflow.sklearn",
            "model_path": "model.pkl",
            "predict_fn": "predict",
            "python_version": "3.11.7",
        },
        "sklearn": {
            "code": None,
            "pickled_model": "model.pkl",
            "serialization_format": "cloudpickle",
            "sklearn_version": "1.5.2",
        },
    },
    "mlflow_version": "2.17.2",
    "model_size_bytes": 912,
    "model_uuid": "3f6b1c1e8d2f4f5e9a0b7c6d5e4f3a2b",
    "run_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "utc_time_created": "2026-11-20 10:11:12.131415",
}
BERT_CONFIG: dict[str, Any] = {
    "architectures": ["BertForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "hidden_size": 768,
    "model_type": "bert",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "torch_dtype": "float32",
    "transformers_version": "4.46.0",
    "vocab_size": 30522,
}


def write_mlflow(root: Path, mlmodel: dict[str, Any] | str | bytes | None = None) -> Path:
    """An MLflow model folder: MLmodel, a plain pickled model, env files. Returns the folder."""
    root.mkdir(parents=True, exist_ok=True)
    document = SKLEARN_MLMODEL if mlmodel is None else mlmodel
    if isinstance(document, dict):
        document = yaml.safe_dump(document)
    if isinstance(document, str):
        document = document.encode()
    (root / "MLmodel").write_bytes(document)
    (root / "model.pkl").write_bytes(pickle.dumps({"coef": [0.5, -1.25], "bias": 0.1}))
    (root / "conda.yaml").write_text("channels: [conda-forge]\ndependencies: [python=3.11.7]\n")
    (root / "python_env.yaml").write_text("python: 3.11.7\ndependencies: [-r requirements.txt]\n")
    (root / "requirements.txt").write_text("mlflow==2.17.2\nscikit-learn==1.5.2\n")
    return root


def pyfunc(**conf: Any) -> dict[str, Any]:
    """An MLmodel whose python_function flavour is `conf` (over MLflow's pyfunc defaults)."""
    flavour = {"loader_module": "mlflow.pyfunc.model", "python_version": "3.11.7", **conf}
    return {"artifact_path": "model", "flavors": {"python_function": flavour}}


def write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2))
    return path


def findings(reports: list[FileReport], rule: str) -> list[tuple[str, str]]:
    """(location, message) of every finding of `rule`."""
    return [(f.location, f.message) for r in reports for f in r.findings if f.rule == rule]


def above_low(reports: list[FileReport]) -> list[tuple[str, str, str]]:
    return [
        (f.rule, f.location, f.message)
        for r in reports
        for f in r.findings
        if f.severity > Severity.low
    ]
